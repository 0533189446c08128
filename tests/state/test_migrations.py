"""State migrations: a database made by release 0.1.0 upgrades with nothing lost, a new one
gets every migration, and a database from a newer release is refused, not damaged."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.state import StateError, StateStore
from bot.state.db import POSTGRESQL, SQLITE, migrations, statements

FIXTURES = Path(__file__).parent / "fixtures"


def _release_0_1_database(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript((FIXTURES / "state-v1.sql").read_text())
    conn.close()


def _dump(path: Path, tables: tuple[str, ...]) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(path)
    try:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in tables}
    finally:
        conn.close()


def test_a_release_0_1_database_upgrades_and_loses_nothing(tmp_path) -> None:
    path = tmp_path / "state.db"
    _release_0_1_database(path)
    before = _dump(path, ("guild_config", "daily_order", "daily_posts"))

    store = StateStore(path)
    try:
        assert store.db.version == len(migrations()) >= 2
        config = store.config(111)
        assert config.study_channels == (501, 502) and config.daily_channel_id == 601
        assert (config.daily_time, config.timezone, config.daily_enabled) == ("08:30", "Europe/Berlin", True)
        assert config.last_error == "Missing Permissions" and not config.daily_quiz
        assert [(d, s) for d, _t, s in store.posts(111)] == [("2026-11-29", "posted"), ("2026-11-30", "failed")]
        # the reserved day keeps its term, and the order goes on where it was
        assert store.term_for_day(222, date(2026, 11, 30), ["Attention", "LoRA", "Dropout", "Transformer"]) == "Dropout"
        # the new tables work on the upgraded database
        assert store.study.add_card(7, "Attention", datetime(2026, 12, 1, tzinfo=UTC))
    finally:
        store.close()

    after = _dump(path, ("guild_config", "daily_order", "daily_posts"))
    assert [row[:7] for row in after["guild_config"]] == before["guild_config"]
    assert after["daily_order"] == before["daily_order"]
    assert [row[:5] for row in after["daily_posts"]] == before["daily_posts"]  # claimed_at: unknown, None
    applied = sqlite3.connect(path).execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    assert [v for v, _ in applied] == list(range(1, len(migrations()) + 1))
    # kept as it was, for release 0.1.0 to run on again (it has no migrations: version 0)
    assert _dump(tmp_path / f"state.db.before-v{len(migrations())}", ("guild_config", "daily_order",
                                                                      "daily_posts")) == before


def test_opening_again_applies_nothing_twice(state_target) -> None:
    StateStore(state_target).close()
    store = StateStore(state_target)
    store.update_config(5, daily_quiz=True)
    store.close()
    store = StateStore(state_target)
    assert store.config(5).daily_quiz
    assert store.db.query("SELECT count(*) FROM schema_migrations")[0][0] == len(migrations(store.db.dialect))
    store.close()


def test_a_database_from_a_newer_release_is_refused_untouched(state_target) -> None:
    store = StateStore(state_target)
    with store.db.transaction() as tx:
        tx.execute("INSERT INTO schema_migrations VALUES (99, 'future', '2030-01-01')")
    store.close()
    with pytest.raises(StateError, match="newer release"):
        StateStore(state_target)
    assert _newest_version(state_target) == 99


def _newest_version(target) -> int:
    """Read straight from the database, without opening it as a store (which would migrate)."""
    if isinstance(target, Path):
        return sqlite3.connect(target).execute("SELECT max(version) FROM schema_migrations").fetchone()[0]
    import psycopg

    with psycopg.connect(target) as conn:
        return conn.execute("SELECT max(version) FROM schema_migrations").fetchone()[0]


def _database_at(target, version: int, rows: list[str]) -> None:
    """A database as a release that knew migrations 1..`version` left it, holding `rows` (SQL)."""
    dialect = SQLITE if isinstance(target, Path) else POSTGRESQL
    sql = [s for m in migrations(dialect)[:version] for s in statements(m.sql)]
    sql += ["CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            "applied_at TEXT NOT NULL)"]
    sql += [f"INSERT INTO schema_migrations VALUES ({m.version}, '{m.name}', '2026-01-01')"
            for m in migrations(dialect)[:version]]
    if dialect == SQLITE:
        conn = sqlite3.connect(target)
        with conn:
            for statement in sql + rows:
                conn.execute(statement)
        conn.close()
    else:
        import psycopg

        with psycopg.connect(target) as conn:
            for statement in sql + rows:
                conn.execute(statement)


def test_a_reminder_day_sent_before_v8_lets_the_next_utc_day_have_one(state_target) -> None:
    """V8 keeps the time of the last reminder, not its day; a day stored before reads as its first
    second, so the old rule (one a UTC date) holds across the upgrade: a member reminded the day
    before is reminded on the upgrade day (its last second kept that one back, QA69)."""
    _database_at(state_target, 4, [
        "INSERT INTO review_reminders (user_id, enabled, last_sent_day) VALUES (1, 1, '2026-11-20')",
        "INSERT INTO review_cards (user_id, term, fsrs_state, step, due, added_at) "
        "VALUES (1, 'Attention', 1, 0, '2026-11-19T08:00:00+00:00', '2026-11-19T08:00:00+00:00')"])
    store = StateStore(state_target)
    try:
        assert store.study.claim_reminders(datetime(2026, 11, 20, 23, 0, tzinfo=UTC)) == []
        assert store.study.claim_reminders(datetime(2026, 11, 21, 0, 0, tzinfo=UTC)) == [(1, 1)]
    finally:
        store.close()


def test_both_dialects_have_the_same_migrations_numbered_without_gaps() -> None:
    sqlite, postgresql = migrations(SQLITE), migrations(POSTGRESQL)
    assert [m.version for m in sqlite] == list(range(1, len(sqlite) + 1))
    assert [(m.version, m.name) for m in sqlite] == [(m.version, m.name) for m in postgresql]


def test_a_post_that_failed_before_v9_is_never_sent_again(state_target) -> None:
    """V9 marks the failed posts Discord surely refused; one from before may have appeared
    (nothing said which), so it stays done."""
    _database_at(state_target, 8, [
        "INSERT INTO guild_config (guild_id, study_channels, daily_channel_id, daily_time, timezone, daily_enabled, "
        "last_error) VALUES (1, '[]', 12, '09:00', 'UTC', 1, 'Missing Permissions')",
        "INSERT INTO daily_posts (guild_id, day, term, status, updated_at, claimed_at) "
        "VALUES (1, '2026-11-30', 'Attention', 'failed', '2026-11-30T09:00:00+00:00', '2026-11-30T09:00:00+00:00')"])
    store = StateStore(state_target)
    try:
        assert store.daily_failure(1, date(2026, 11, 30)) is False
        assert not store.retry_daily_post(1, date(2026, 11, 30))
        assert store.claim_daily_post(1, date(2026, 11, 30), ["Attention", "LoRA"]) is None
    finally:
        store.close()


def test_posts_from_before_v11_are_days_in_the_servers_zone_so_none_goes_twice(state_target) -> None:
    """V11 keys a day's post by its zone too; a row from before takes the server's zone, so the day
    it was posted on is still done after the upgrade (and /today still shows its term)."""
    _database_at(state_target, 10, [
        "INSERT INTO guild_config (guild_id, study_channels, daily_channel_id, daily_time, timezone, daily_enabled) "
        "VALUES (1, '[]', 12, '09:00', 'Europe/Berlin', 1)",
        "INSERT INTO daily_posts (guild_id, day, term, status, updated_at, claimed_at) VALUES "
        "(1, '2026-11-30', 'Attention', 'posted', '2026-11-30T08:00:00+00:00', '2026-11-30T08:00:00+00:00'), "
        "(2, '2026-11-30', 'LoRA', 'reserved', '2026-11-30T08:00:00+00:00', NULL)"])
    store = StateStore(state_target)
    try:
        day = date(2026, 11, 30)
        assert store.claim_daily_post(1, day, ["Attention", "LoRA"]) is None
        assert store.term_for_day(1, day, ["Attention", "LoRA"], "Europe/Berlin") == "Attention"
        assert store.claim_daily_post(2, day, ["Attention", "LoRA"], zone="UTC") == "LoRA"  # no settings: UTC
        assert store.db.query("SELECT guild_id, zone FROM daily_posts ORDER BY guild_id") == [
            (1, "Europe/Berlin"), (2, "UTC")]
    finally:
        store.close()


def test_a_champion_role_error_from_before_v13_moves_to_its_own_column(state_target) -> None:
    """V13 gives the champion role its own error: one a release before it kept as the server's last
    error moves there (the term of the day's next post would have cleared it), the daily post's stays."""
    _database_at(state_target, 12, [
        "INSERT INTO guild_config (guild_id, study_channels, daily_time, timezone, daily_enabled, last_error) "
        "VALUES (1, '[]', '09:00', 'UTC', 0, 'champion role: the role was deleted; choose another with "
        "/glossary config champion-role'), (2, '[]', '09:00', 'UTC', 1, 'not posted: Missing Permissions')"])
    store = StateStore(state_target)
    try:
        moved, kept = store.config(1), store.config(2)
        assert moved.last_error is None
        assert moved.champion_error == "the role was deleted; choose another with /glossary config champion-role"
        assert kept.last_error == "not posted: Missing Permissions" and kept.champion_error is None
    finally:
        store.close()


def _sqlite_database_at(path: Path, version: int) -> sqlite3.Connection:
    """A database as a release that knew migrations up to `version` left it."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                 "applied_at TEXT NOT NULL)")
    for migration in migrations(SQLITE)[:version]:
        for statement in statements(migration.sql):
            conn.execute(statement)
        conn.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", [migration.version, migration.name, "2026-01-01"])
    return conn


def test_upgrading_to_user_zones_keeps_a_morning_learners_streak_east_of_utc(tmp_path) -> None:
    """Active days were UTC dates: a learner in a Tokyo server quizzing at 08:00 there (23:00 UTC the
    evening before) had 30 June … 4 July. From V16 a day is a date in the server's zone, and "today"
    (6 July in Tokyo) would have found the last day two dates back: the streak read 0. The zone's
    dates come beside the UTC ones: one day more across the move, never fewer."""
    path = tmp_path / "state.db"
    conn = _sqlite_database_at(path, 15)
    conn.execute("INSERT INTO guild_config (guild_id, timezone) VALUES (5, 'Asia/Tokyo')")
    for day in range(1, 6):  # 08:00 on 1 … 5 July in Tokyo
        at = datetime(2026, 7, 1, 23, 0, tzinfo=UTC) + (day - 2) * (datetime(2026, 7, 2) - datetime(2026, 7, 1))
        conn.execute("INSERT INTO quiz_answers (guild_id, user_id, ref, answered_at, correct, points) "
                     "VALUES (5, 1, ?, ?, 1, 5)", [f"solo:{day}", at.isoformat(timespec="milliseconds")])
        conn.execute("INSERT INTO active_days (guild_id, user_id, day) VALUES (5, 1, ?)", [at.date().isoformat()])
    conn.execute("INSERT INTO active_days (guild_id, user_id, day) VALUES (5, 1, '2026-01-01')")  # no answer left
    conn.commit()
    conn.close()

    store = StateStore(path)
    try:
        morning = datetime(2026, 7, 5, 23, 0, tzinfo=UTC)  # 08:00 on 6 July in Tokyo, before today's answer
        stats = store.study.stats(5, 1, morning)
        assert (stats.current_streak, stats.best_streak) == (6, 6)
        days = [d for (d,) in store.db.query("SELECT day FROM active_days WHERE user_id = 1 ORDER BY day")]
        assert days == ["2026-01-01", "2026-06-30", "2026-07-01", "2026-07-02", "2026-07-03", "2026-07-04",
                        "2026-07-05"]
    finally:
        store.close()


def _night_learner(conn: sqlite3.Connection, days: set[str]) -> None:
    """A Tokyo server's member who answers each night of 1-7 July UTC around Tokyo's midnight: 23:00
    there on odd days, 01:00 the next morning there on even ones, so Tokyo's dates skip every other
    day; `days`: the active days the database holds for them."""
    conn.execute("INSERT INTO guild_config (guild_id, timezone) VALUES (5, 'Asia/Tokyo')")
    for day in range(1, 8):
        at = datetime(2026, 7, day, 14 if day % 2 else 16, 0, tzinfo=UTC)
        conn.execute("INSERT INTO quiz_answers (guild_id, user_id, ref, answered_at, correct, points) "
                     "VALUES (5, 1, ?, ?, 1, 5)", [f"solo:{day}", at.isoformat(timespec="milliseconds")])
    conn.executemany("INSERT INTO active_days (guild_id, user_id, day) VALUES (5, 1, ?)", [[d] for d in sorted(days)])
    conn.commit()
    conn.close()


def test_upgrading_to_user_zones_keeps_a_night_learners_streak(tmp_path) -> None:
    """QA69: the first V16 dropped each UTC day no Tokyo date matched: "streak 7 (best 7)" read 1 (best 1)."""
    path = tmp_path / "state.db"
    _night_learner(_sqlite_database_at(path, 15), {f"2026-07-0{d}" for d in range(1, 8)})
    store = StateStore(path)
    try:
        stats = store.study.stats(5, 1, datetime(2026, 7, 8, 6, 0, tzinfo=UTC))  # 15:00 on 8 July in Tokyo
        assert (stats.current_streak, stats.best_streak) == (7, 7)
    finally:
        store.close()


def test_a_streak_the_first_v16_cut_comes_back(tmp_path) -> None:
    """A database the first V16 upgraded holds only the Tokyo dates of the night learner's answers
    (1, 3, 5, 7 July): V17 gives back the UTC dates of the answers made before it ran."""
    path = tmp_path / "state.db"
    conn = _sqlite_database_at(path, 16)
    conn.execute("UPDATE schema_migrations SET applied_at = '2026-07-07T20:00:00+00:00' WHERE version = 16")
    _night_learner(conn, {"2026-07-01", "2026-07-03", "2026-07-05", "2026-07-07"})
    store = StateStore(path)
    try:
        stats = store.study.stats(5, 1, datetime(2026, 7, 8, 6, 0, tzinfo=UTC))
        assert (stats.current_streak, stats.best_streak) == (7, 7)
    finally:
        store.close()


def test_an_upgrade_keeps_a_copy_of_the_database_as_it_was(tmp_path, caplog) -> None:
    """An earlier release refuses a database a later one migrated, so the upgrade copies it first
    (QA69: no way back otherwise); the copy opens in that release's shape, and is made once."""
    path = tmp_path / "state.db"
    conn = _sqlite_database_at(path, 15)
    conn.execute("INSERT INTO guild_config (guild_id, timezone) VALUES (5, 'Asia/Tokyo')")
    conn.commit()
    conn.close()
    newest = len(migrations(SQLITE))
    with caplog.at_level(logging.WARNING):
        StateStore(path).close()
    backup = tmp_path / f"state.db.before-v{newest}"
    assert any(str(backup) in r.getMessage() for r in caplog.records)
    copy = sqlite3.connect(backup)
    assert copy.execute("SELECT max(version) FROM schema_migrations").fetchone() == (15,)
    assert copy.execute("SELECT guild_id, timezone FROM guild_config").fetchall() == [(5, "Asia/Tokyo")]
    copy.close()
    made = backup.stat().st_mtime_ns
    StateStore(path).close()  # up to date: nothing to copy
    assert backup.stat().st_mtime_ns == made and not list(tmp_path.glob("*.partial"))
    fresh = tmp_path / "fresh.db"
    StateStore(fresh).close()  # a new database has nothing to keep
    assert not list(tmp_path.glob("fresh.db.before-*"))

    # The admin went back to the copy and ran the earlier release on it a while: the next upgrade
    # keeps that while, not the first copy's older state.
    backup.replace(path)
    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("UPDATE guild_config SET timezone = 'Europe/Paris' WHERE guild_id = 5")
    StateStore(path).close()
    with contextlib.closing(sqlite3.connect(backup)) as copy:
        assert copy.execute("SELECT timezone FROM guild_config").fetchall() == [("Europe/Paris",)]


def test_upgrading_a_postgresql_state_says_so_in_the_log(postgres_server, caplog) -> None:
    """QA75: SQLite's upgrade logs a line (and keeps a copy); PostgreSQL's left no record at all."""
    import psycopg

    url = postgres_server.create_database("older_state")
    known = migrations(POSTGRESQL)
    with psycopg.connect(url, autocommit=True) as conn:  # the state as the release of migration 3 left it
        conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                     "applied_at TEXT NOT NULL)")
        for migration in known[:3]:
            for statement in statements(migration.sql):
                conn.execute(statement)
            conn.execute("INSERT INTO schema_migrations VALUES (%s, %s, '2026-01-01')",
                         [migration.version, migration.name])
    with caplog.at_level(logging.WARNING, logger="bot.state.db"):
        StateStore(url).close()
    said = [r.getMessage() for r in caplog.records if "upgrading it from version 3" in r.getMessage()]
    assert said and f"to {len(known)}" in said[0] and "pg_dump" in said[0], caplog.text
