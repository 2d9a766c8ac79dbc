"""jobs: how many of a job's attempts ended in a hand-back (a worker shutting down), which do not count
against MAX_ATTEMPTS

Revision ID: 0011
Revises: 0009_session_epoch
Create Date: 2026-11-27 18:55:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0009_session_epoch'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('jobs') as batch:
        batch.add_column(sa.Column('handbacks', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('jobs') as batch:
        batch.drop_column('handbacks')
