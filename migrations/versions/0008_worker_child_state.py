"""workers: the state of each worker's job child (starting, ready, wedged) and how many children it started

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 15:40:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('workers') as batch:
        batch.add_column(sa.Column('pool_state', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('pool_state_since', app.models.base.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column('child_starts', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('workers') as batch:
        batch.drop_column('child_starts')
        batch.drop_column('pool_state_since')
        batch.drop_column('pool_state')
