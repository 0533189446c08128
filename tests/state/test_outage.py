"""PostgreSQL restarting or down while the bot runs: a call after a restart works (the pool's
connections from before are dead), a call during an outage fails within Discord's 3 s with
StateUnavailable, one after it fails at once, and the first one once the server is back works
at once, not after the pool's reconnect back-off."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from bot.benchmark.postgres import PostgresServer
from bot.state import StateStore, StateUnavailable

_NOON = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def own_server():
    """A server of the test's own: the session's must stay up for the other tests."""
    server = PostgresServer().start()
    yield server
    server.stop()


def test_the_first_call_after_a_restart_works(own_server) -> None:
    store = StateStore(own_server.create_database("restarted"))
    try:
        store.update_config(1, daily_time="09:00")
        own_server.restart()
        for _ in range(6):  # more calls than the pool has connections: each found dead, replaced
            assert store.config(1).daily_time == "09:00"
    finally:
        store.close()


def test_an_outage_fails_calls_quickly_and_the_server_back_is_used_at_once(own_server) -> None:
    store = StateStore(own_server.create_database("outage"))
    try:
        store.update_config(1, daily_time="09:00")
        own_server.halt()
        started = time.monotonic()
        with pytest.raises(StateUnavailable, match="cannot be reached"):
            store.config(1)
        assert time.monotonic() - started < 3  # Discord's time to answer an interaction
        started = time.monotonic()
        with pytest.raises(StateUnavailable):
            store.update_config(1, daily_time="10:00")
        assert time.monotonic() - started < 1  # the pool's wait is not paid again on every call
        time.sleep(4)  # long enough for the pool's reconnect attempts to back off past the restart
        own_server.resume()
        started = time.monotonic()
        assert store.config(1).daily_time == "09:00"  # nothing half-written in the outage
        store.update_config(1, daily_time="10:00")
        assert time.monotonic() - started < 3
        assert store.config(1).daily_time == "10:00"
    finally:
        store.close()


def test_a_call_cut_off_by_a_restart_says_the_database_went_away(own_server) -> None:
    import threading

    store = StateStore(own_server.create_database("cut_off"))
    try:
        restart = threading.Timer(1.0, own_server.restart)
        restart.start()
        with pytest.raises(StateUnavailable, match="went away"):
            store.db.query("SELECT pg_sleep(10)")
        restart.join()
        assert store.db.query("SELECT 1") == [(1,)]
    finally:
        store.close()


def test_a_full_disk_under_sqlite_is_the_state_unavailable_and_nothing_half_written(tmp_path) -> None:
    # It was an sqlite3.OperationalError the bot logged with a traceback on every question (QA65).
    store = StateStore(tmp_path / "state.db")
    try:
        store.update_config(1, daily_time="09:00")
        pages = store.db.query("PRAGMA page_count")[0][0]
        store.db.conn.execute(f"PRAGMA max_page_count = {pages}")  # as a full disk: the file cannot grow
        with pytest.raises(StateUnavailable, match="disk it is on is full"):
            for n in range(2000):
                store.study.record_answer(1, n, "solo:1", True, 5, _NOON)
        answered = store.db.query("SELECT count(*) FROM quiz_answers")[0][0]
        assert answered == store.db.query("SELECT count(DISTINCT user_id) FROM active_days")[0][0]
        store.db.conn.execute(f"PRAGMA max_page_count = {pages * 100}")  # space freed
        store.study.record_answer(1, 99_999, "solo:1", True, 5, _NOON)
        assert store.config(1).daily_time == "09:00"
    finally:
        store.close()


def test_a_state_database_that_cannot_be_opened_for_a_full_disk_says_so(tmp_path, monkeypatch) -> None:
    """QA73: SQLite on a full disk cannot make its shared-memory file and says "disk I/O error"; the
    message sent the user to the file's permissions."""
    import errno
    import os
    import sqlite3
    from types import SimpleNamespace

    from bot.state.db import _why_not_opened

    path = tmp_path / "state.db"
    assert "is full" in _why_not_opened(path, OSError(errno.ENOSPC, "No space left on device"))
    io_error = sqlite3.OperationalError("disk I/O error")
    io_error.sqlite_errorname = "SQLITE_IOERR_SHMSIZE"
    assert "writable SQLite database" in _why_not_opened(path, io_error)  # this disk has room
    monkeypatch.setattr(os, "statvfs", lambda _folder: SimpleNamespace(f_bavail=3, f_frsize=4096))
    assert f"the disk it is on ({tmp_path}) is full" in _why_not_opened(path, io_error)
