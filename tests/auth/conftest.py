"""Fixtures the sign-in tests share."""
from __future__ import annotations

import uuid

import pytest

from app.services import accounts


@pytest.fixture
def person(db_stack):
    """A fresh member account: (username, password)."""
    username, password = f"p-{uuid.uuid4().hex[:8]}", "a-long-enough-password"
    with db_stack.runtime.session() as s:
        accounts.create_user(s, username, password, "member")
    return username, password
