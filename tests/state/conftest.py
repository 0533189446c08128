"""Every state test runs on both backends: SQLite (a file) and PostgreSQL (a real server,
started once per test session, tests/conftest.py's postgres_server, a fresh database per test)."""

from __future__ import annotations

import itertools

import pytest

from bot.state import StateStore

_names = itertools.count()


@pytest.fixture(params=["sqlite", "postgresql"])
def state_target(request, tmp_path):
    """Where a StateStore keeps its data: an SQLite path, or a new PostgreSQL database's URL;
    opening it twice is a restart."""
    if request.param == "sqlite":
        return tmp_path / "state.db"
    server = request.getfixturevalue("postgres_server")
    return server.create_database(f"state_{next(_names)}")


@pytest.fixture
def store(state_target):
    """A StateStore on each backend, closed after the test."""
    store = StateStore(state_target)
    yield store
    store.close()
