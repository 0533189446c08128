"""`glossary-bot state migrate --to postgresql://…`: copy a state database, every table and
row, into an empty PostgreSQL database (both at the newest migration), in one transaction,
then check that every table holds as many rows as the source.

The source is read in one SQLite read transaction: every table as it was at one moment, so a
bot still writing to it cannot make the copy disagree with itself (a vote copied without its
question). What the bot writes after that moment is not in the copy: stop it first."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from .db import POSTGRESQL, SQLITE, StateError
from .store import StateStore

_SKIPPED = {"schema_migrations", "sqlite_sequence"}


def tables(store: StateStore) -> list[str]:
    if store.db.dialect == SQLITE:
        rows = store.db.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    else:
        rows = store.db.query("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")
    return [name for (name,) in rows if name not in _SKIPPED]


def _columns(store: StateStore, table: str) -> list[str]:
    return [row[1] for row in store.db.query(f"PRAGMA table_info({table})")]


def _ordered(names: list[str]) -> list[str]:
    """Tables others refer to first (votes → questions)."""
    return sorted(names, key=lambda name: name == "votes")


@contextmanager
def _one_snapshot(source: StateStore) -> Iterator[None]:
    """The SQLite source's reads in one read transaction: in WAL mode they all see the database as
    it was at the first of them, whatever another connection (a running bot) commits meanwhile.
    Each `query` alone would be a moment of its own."""
    conn = source.db.conn
    conn.execute("BEGIN")  # deferred: reads only, so the bot's writes are not held up
    try:
        yield
    finally:
        conn.execute("ROLLBACK")  # nothing to keep: nothing was written


#: tables a start of the bot writes before any member does anything (when each shard last identified,
#: the key it was given): a database a bot was started on once, by mistake or to try it, is still
#: empty for a migration (QA71), and takes the source's key
BOOKKEEPING = ("identify_turns", "state_key")
#: how long the copy waits for a session writing to the target to let go of its tables
LOCK_WAIT_MS = 5000


def copy_state(source: StateStore, target: StateStore) -> dict[str, int]:
    """Copy every row of `source` (SQLite) into `target` (PostgreSQL, empty), as of one moment;
    rows per table."""
    if source.db.dialect != SQLITE or target.db.dialect != POSTGRESQL:
        raise StateError("state migrate copies an SQLite state database into a PostgreSQL one")
    with _one_snapshot(source):
        return _copy(source, target)


def _copy(source: StateStore, target: StateStore) -> dict[str, int]:
    import psycopg  # installed: the target is PostgreSQL

    names, held = tables(source), tables(target)
    missing = sorted(set(names) - set(held))
    if missing:
        raise StateError(f"the target lacks tables {missing}: is it at an older schema?")
    copied: dict[str, int] = {}
    step, row = "the copy", ""
    try:
        with target.db.transaction() as tx:
            # The checks hold from here to the commit: no bot can write to a table until then, so
            # none can slip a row in between the check that the target is empty and the copy.
            tx.execute(f"SET LOCAL lock_timeout = '{LOCK_WAIT_MS}ms'")
            tx.execute(f"LOCK TABLE {', '.join(held)} IN EXCLUSIVE MODE")  # (listed before: a query
            # here would take a second connection from the pool, which the check counts as another session)
            _refuse_a_target_in_use(tx, names)
            for name in BOOKKEEPING:  # a trial start's, replaced by the source's
                tx.execute(f"DELETE FROM {name}")
            for name in _ordered(names):
                step = f"table {name}"
                columns = _columns(source, name)
                rows = source.db.query(f"SELECT {', '.join(columns)} FROM {name}")
                row = _with_nul(columns, rows)
                if rows:
                    tx.executemany(f"INSERT INTO {name} ({', '.join(columns)}) VALUES "
                                   f"({', '.join('?' for _ in columns)})", rows)
                copied[name] = len(rows)
            # identity columns go on after the highest copied id
            step = "the id sequences"
            for table, column in tx.execute(
                    "SELECT table_name, column_name FROM information_schema.columns "
                    "WHERE table_schema = current_schema() AND is_identity = 'YES'").fetchall():
                tx.execute(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                           f"coalesce((SELECT max({column}) FROM {table}), 0) + 1, false)")
    except (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected):  # (a writer's locks, taken
        # in another order than the copy's: either way a session is writing; review 55)
        raise StateError(f"another session is writing to the target database (it held its tables for over "
                         f"{LOCK_WAIT_MS / 1000:g} s): stop every bot on it, and close other sessions (psql too), "
                         "then run this again; nothing was copied") from None
    except psycopg.Error as exc:  # out of the transaction, which rolled back: nothing is half-copied
        a_row = isinstance(exc, (psycopg.DataError, psycopg.IntegrityError))
        raise StateError(_refused(step + row if a_row else step, source.where, exc, a_row)) from None
    for name, count in copied.items():
        found = target.db.query(f"SELECT count(*) FROM {name}")[0][0]
        if found != count:
            raise StateError(f"{name}: copied {count} rows but the target holds {found}")
    return copied


def _refuse_a_target_in_use(tx, names: list[str]) -> None:
    """StateError when another session is connected to the target or it holds data (bookkeeping aside)."""
    # A bot still running on the target (compose restarts its bots) would write beside the copy: rows
    # colliding with copied ones, blamed on the source, or counted after the commit (review 54).
    others = tx.execute(
        "SELECT coalesce(nullif(application_name, ''), 'an unnamed client'), coalesce(usename, 'unknown'), "
        "coalesce(host(client_addr), 'this machine') FROM pg_stat_activity WHERE datname = current_database() "
        "AND backend_type = 'client backend' AND pid <> pg_backend_pid()").fetchall()
    if others:
        named = "; ".join(f"{app} as {user} from {where}" for app, user, where in others[:3])
        raise StateError(f"{len(others)} other connection{'s' * (len(others) != 1)} to the target database ({named}"
                         f"{'; …' if len(others) > 3 else ''}): stop every bot on it, and close other sessions "
                         "(psql too), then run this again; nothing was copied")
    counts = {name: tx.execute(f"SELECT count(*) FROM {name}").fetchone()[0] for name in names
              if name not in BOOKKEEPING}
    if filled := {name: count for name, count in counts.items() if count}:
        held = ", ".join(f"{name} ({count} row{'s' * (count != 1)})" for name, count in filled.items())
        raise StateError(f"the target database already has data (in {held}): migrate into an empty database, "
                         "so that nothing is mixed or overwritten (if a bot was only tried on it, drop it and "
                         "create it again)")


def _with_nul(columns: list[str], rows: list[tuple]) -> str:
    """Which row holds a NUL character (text SQLite keeps and PostgreSQL refuses), for the admin to find."""
    found = next((r for r in rows if any(isinstance(v, str) and "\x00" in v for v in r)), None)
    return "" if found is None else f" (the row whose {columns[0]} is {found[0]!r})"


def _refused(step: str, source: str, exc: Exception, a_row: bool) -> str:
    """One line for an error PostgreSQL (or psycopg) raised mid-copy. SQLite stores what PostgreSQL
    refuses (a NUL character in text, say): such a row is the source's to mend, a lost connection not.
    (The copy is one snapshot of the source, so a row refused is one the source holds as it is, not
    one a running bot was writing meanwhile.)"""
    reason = " ".join(str(exc).split()) or type(exc).__name__
    if a_row:
        fix = f"correct or delete that row in {source} (e.g. with the sqlite3 shell) and migrate again"
    else:
        fix = "check the PostgreSQL server and migrate again"
    return f"{step}: PostgreSQL refused the copy ({reason}); nothing was copied: {fix}"
