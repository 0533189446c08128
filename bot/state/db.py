"""The state database: SQLite (default, a file, nothing to set up) or PostgreSQL
(`DATABASE_URL=postgresql://…`, for several bot processes sharing one state), behind one
small interface, with one numbered migration history.

Migrations are SQL files per dialect, `migrations/<sqlite|postgresql>/V<n>__<name>.sql`,
the same numbers and names in both: SQL files rather than an ORM because the schema is a
dozen plain tables and the queries are plain SQL that both engines run alike, so the one
real difference, the column types (64-bit ids, identity columns), is visible in the files
instead of hidden behind a layer. Each migration is applied in one transaction with its row
in `schema_migrations`; a database is never changed by a release that does not know its
newest migration. A database made by release 0.1.0 (SQLite, before migrations were
numbered) is at V1, whose statements are `IF NOT EXISTS` and so leave its tables as they are.

Queries are written once, with `?` placeholders; the PostgreSQL side turns them into
psycopg's `%s`. Both sides return plain tuples.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"V(\d+)__(\w+)\.sql")
SQLITE, POSTGRESQL = "sqlite", "postgresql"
_MIGRATION_LOCK = 0x676C6F7373  # advisory lock key: one process migrates a PostgreSQL database at a time


class StateError(RuntimeError):
    """The state database cannot be opened or written; the message says how to fix it."""


class StateUnavailable(StateError):
    """The state database cannot be reached just now (PostgreSQL restarting, down, unreachable):
    a command says so and may be tried again in a minute."""


# How long a state call waits for a pooled PostgreSQL connection before it opens one of its own:
# Discord wants an interaction answered within 3 s, and every state call of a process queues on one
# worker (ui.in_quick_pool), so a long wait per call adds up to minutes in an outage.
POOL_WAIT = 1.5


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations(dialect: str = SQLITE) -> list[Migration]:
    found = []
    for item in resources.files(__package__).joinpath("migrations", dialect).iterdir():
        match = _MIGRATION_NAME.fullmatch(item.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), item.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    if [m.version for m in found] != list(range(1, len(found) + 1)):
        raise RuntimeError(f"{dialect} state migrations are not numbered 1..n: {[m.version for m in found]}")
    return found


def statements(sql: str) -> list[str]:
    """The statements of a migration file (comments dropped; no ';' inside a statement)."""
    text = "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
    return [s.strip() for s in text.split(";") if s.strip()]


class Cursor(Protocol):
    rowcount: int

    def fetchone(self) -> tuple | None: ...
    def fetchall(self) -> list[tuple]: ...


class Transaction(Protocol):
    for_update: str  # appended to a SELECT whose rows this transaction will write back

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor: ...
    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...
    def lock(self, key: int) -> None: ...
    def lock_shared(self, key: int) -> None: ...


class Database:
    """What the stores use: `transaction()` (one unit of writes), `query()` (a read)."""

    dialect: str
    version: int
    where: str  # for messages: the file, or the server without its password

    def transaction(self): ...
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]: ...
    def close(self) -> None: ...

    # -- migrations (shared) -------------------------------------------------------------------

    def migrate(self) -> int:
        """Apply the migrations this database lacks; returns its version after."""
        known = migrations(self.dialect)
        with self.transaction() as tx:
            tx.lock(_MIGRATION_LOCK)
            # created only when missing: a role that may use the tables but not create any (PostgreSQL
            # 15's default for a schema it does not own) was refused at every start (QA75)
            exists = ("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
                      if self.dialect == SQLITE else "SELECT to_regclass('schema_migrations')")
            if tx.execute(exists).fetchone() in (None, (None,)):
                tx.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                           "name TEXT NOT NULL, applied_at TEXT NOT NULL)")
        current = self._applied()
        if current > len(known):
            raise StateError(
                f"state database {self.where} is at schema version {current}, made by a newer release of the "
                f"bot (this one knows {len(known)}): run that release, or point the bot at another database")
        if self.dialect == POSTGRESQL and 0 < current < len(known):
            # as SQLite's upgrade says (with its copy); PostgreSQL's way back is the admin's pg_dump (QA75)
            log.warning("state database %s: upgrading it from version %d to %d (a pg_dump taken before is "
                        "the way back to the release before)", self.where, current, len(known))
        for migration in known[current:]:
            with self.transaction() as tx:
                tx.lock(_MIGRATION_LOCK)
                if self._applied(tx) >= migration.version:
                    continue  # another process (the console, a second bot) applied it meanwhile
                for statement in statements(migration.sql):
                    tx.execute(statement)
                from .data_steps import STEPS  # (here: they read the store's rules, which import this module)
                if migration.version in STEPS:
                    STEPS[migration.version](tx)
                tx.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                           [migration.version, migration.name, now_text()])
                self._after_migration(tx, migration.version)
        return len(known)

    def _applied(self, tx: Transaction | None = None) -> int:
        sql = "SELECT coalesce(max(version), 0) FROM schema_migrations"
        return (tx.execute(sql).fetchone() if tx is not None else self.query(sql)[0])[0]

    def _after_migration(self, tx: Transaction, version: int) -> None:
        pass


# -- SQLite ----------------------------------------------------------------------------------------


class _SqliteTransaction:
    for_update = ""  # the whole database is locked for the transaction already

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.conn.executemany(sql, rows)

    def lock(self, key: int) -> None:
        """Nothing to do: BEGIN IMMEDIATE already holds the one write lock."""

    def lock_shared(self, key: int) -> None:
        """Nothing to do, as for `lock`."""


# SQLite errors that are the file's surroundings, not the bot's doing, and pass when an admin acts:
# a command says the state is unavailable and the log has one line, as for PostgreSQL down.
_SQLITE_UNAVAILABLE = (
    ("SQLITE_FULL", "the disk it is on is full: free some space"),
    ("SQLITE_BUSY", "another process holds it locked"),
    ("SQLITE_LOCKED", "another process holds it locked"),
    ("SQLITE_READONLY", "it can no longer be written: check its file's and folder's permissions"),
    ("SQLITE_IOERR", "the disk failed to read or write it"),
)


def _sqlite_unavailable(where: str, exc: BaseException) -> StateUnavailable | None:
    """`exc` as the state being unavailable (StateUnavailable), or None for any other error."""
    name = getattr(exc, "sqlite_errorname", "") if isinstance(exc, sqlite3.OperationalError) else ""
    for prefix, why in _SQLITE_UNAVAILABLE if name else ():
        if name.startswith(prefix):
            return StateUnavailable(f"state database {where}: {why} ({_first_line(exc)})")
    return None


def _why_not_opened(path: Path, exc: BaseException) -> str:
    """What to do about a state database that could not be opened: a full disk (SQLite cannot make its
    shared-memory file, and says "disk I/O error") is named as one (QA73: the message sent the user
    to the file's permissions)."""
    name = getattr(exc, "sqlite_errorname", "")
    full = name == "SQLITE_FULL" or getattr(exc, "errno", None) == errno.ENOSPC
    if not full and name.startswith("SQLITE_IOERR"):
        with contextlib.suppress(OSError):
            disk = os.statvfs(path.parent)
            full = disk.f_bavail * disk.f_frsize < 1024 * 1024
    if full:
        return f"the disk it is on ({path.parent}) is full: free some space"
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return "another process holds it locked"
    return "check that the file is a writable SQLite database (GLOSSARY_STATE_DB)"


def _sqlite_version(path: Path) -> int | None:
    """The migrations version of an SQLite file (0 without any), None if it cannot be read."""
    try:
        with contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
            found = conn.execute("SELECT name FROM sqlite_master WHERE name = 'schema_migrations'").fetchone()
            return conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()[0] if found else 0
    except sqlite3.Error:
        return None


class SqliteDatabase(Database):
    """One SQLite connection shared by threads; one writer at a time (BEGIN IMMEDIATE)."""

    dialect = SQLITE

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.where = str(self.path)
        self._lock = threading.Lock()
        if read_only:
            self._open_read_only()
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=10)
            self.conn.execute("PRAGMA journal_mode=WAL")
            # In WAL mode NORMAL cannot corrupt the database; a power cut may lose the last commits,
            # and each write (one per /ask now) skips an fsync.
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute("PRAGMA foreign_keys=ON")
            self._back_up_before_upgrading()
            self.version = self.migrate()
            self._check_writable()
        except (sqlite3.DatabaseError, OSError) as exc:
            raise StateError(f"cannot use state database {self.path} ({exc}): {_why_not_opened(self.path, exc)}"
                             ) from None

    def _back_up_before_upgrading(self) -> None:
        """A copy of a database an earlier release made, as it was, before this release migrates it
        (`<name>.before-v<N>`, N the version this release brings): there is no way back otherwise,
        since an earlier release refuses a database a later one has migrated (QA69). The first copy
        is kept while the database is past it (an upgrade stopped halfway and started again); one of
        the database's own version is an earlier upgrade's, which the database has moved on from since
        (restored, run by the earlier release a while), so it is made afresh. A release 0.1.0
        database has tables but no migrations yet: version 0, copied too."""
        tables = {name for (name,) in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        current = self._applied() if "schema_migrations" in tables else 0
        known = len(migrations(self.dialect))
        backup = self.path.with_name(f"{self.path.name}.before-v{known}")
        if not tables or current >= known or (backup.exists() and _sqlite_version(backup) != current):
            return
        partial = backup.with_name(backup.name + ".partial")
        try:
            with contextlib.closing(sqlite3.connect(partial)) as copy:
                self.conn.backup(copy)
            os.replace(partial, backup)
        except (sqlite3.Error, OSError) as exc:
            partial.unlink(missing_ok=True)
            raise StateError(f"cannot copy state database {self.path} to {backup} before upgrading it from "
                             f"version {current} to {known} ({exc}): free some disk space, or make its folder "
                             "writable") from None
        log.warning("state database %s: upgrading it from version %d to %d; a copy as it was is in %s "
                    "(an earlier release can run on that copy; delete it once this one runs well)",
                    self.path, current, known, backup)

    def _open_read_only(self) -> None:
        """For a report that only reads (`gaps`, `feedback export`), perhaps on a copy the keeper may not
        write, or one the running bot holds: opened read-only, never migrated. A WAL database in a
        folder it cannot write either opens as immutable, since SQLite cannot make its shared-memory
        file there."""
        uri = self.path.resolve().as_uri()
        for mode in ("mode=ro", "immutable=1"):
            try:
                self.conn = sqlite3.connect(f"{uri}?{mode}", uri=True, check_same_thread=False,
                                            isolation_level=None, timeout=10)
            except (sqlite3.DatabaseError, OSError) as exc:
                error = exc
                continue
            try:
                self.version = self._applied()
                break
            except sqlite3.DatabaseError as exc:
                error = exc
                self.conn.close()
        else:
            raise StateError(f"cannot read state database {self.path} ({error}): check that it is the SQLite "
                             "database the bot writes (GLOSSARY_STATE_DB)") from None
        known = len(migrations(self.dialect))
        if self.version != known:
            self.conn.close()
            raise StateError(
                f"state database {self.path} is at schema version {self.version}, and this release reads "
                f"version {known}: " + ("run this release's bot on it once, which updates it" if self.version < known
                                        else "use the newer release that made it"))

    def _check_writable(self) -> None:
        """A file SQLite can only read (write-protected, made immutable) opens, serves reads and fails
        at the first write, a learner's rating lost: one write, rolled back, finds it at once."""
        with self._lock:
            version = int(self.conn.execute("PRAGMA user_version").fetchone()[0])
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                self.conn.execute(f"PRAGMA user_version = {version}")
            finally:
                self.conn.execute("ROLLBACK")

    @contextmanager
    def transaction(self) -> Iterator[_SqliteTransaction]:
        with self._lock:
            self._step("BEGIN IMMEDIATE")
            try:
                yield _SqliteTransaction(self.conn)
            except BaseException as exc:
                if self.conn.in_transaction:  # SQLite rolls back by itself after some errors (a full disk)
                    self.conn.execute("ROLLBACK")
                self._raise_unavailable(exc)
                raise
            try:
                self._step("COMMIT")
            except BaseException:
                if self.conn.in_transaction:  # or every later BEGIN would fail
                    self.conn.execute("ROLLBACK")
                raise

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        try:
            return self.conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            self._raise_unavailable(exc)
            raise

    def _step(self, sql: str) -> None:
        try:
            self.conn.execute(sql)
        except sqlite3.OperationalError as exc:
            self._raise_unavailable(exc)
            raise

    def _raise_unavailable(self, exc: BaseException) -> None:
        unavailable = _sqlite_unavailable(self.where, exc)
        if unavailable is not None:
            raise unavailable from exc

    def close(self) -> None:
        with self._lock:
            self.conn.close()

    def _after_migration(self, tx: Transaction, version: int) -> None:
        tx.execute(f"PRAGMA user_version = {version}")  # what release 0.1.0 looked at


# -- PostgreSQL --------------------------------------------------------------------------------------


def _psycopg_sql(sql: str) -> str:
    """`?` placeholders → psycopg's `%s` (a literal `%`, as in LIKE 'solo:%', doubled)."""
    return sql.replace("%", "%%").replace("?", "%s")


class _PostgresTransaction:
    for_update = " FOR UPDATE"  # a row read to be written back: others wait for this transaction

    def __init__(self, conn) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()):
        return self.conn.execute(_psycopg_sql(sql), list(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(_psycopg_sql(sql), [list(r) for r in rows])

    def lock(self, key: int) -> None:
        """Serialise with other processes on `key` until this transaction ends."""
        self.conn.execute("SELECT pg_advisory_xact_lock(%s)", [key])

    def lock_shared(self, key: int) -> None:
        """Wait for a `lock` on `key` held elsewhere, and make a later one wait for this transaction;
        shared holders do not wait for each other."""
        self.conn.execute("SELECT pg_advisory_xact_lock_shared(%s)", [key])


#: A server gone without a word (a host frozen or cut off: no reset comes) ends a connection in
#: seconds, not the ~15 minutes of Linux's retransmissions: what was sent unacknowledged for
#: tcp_user_timeout (ms), an idle pooled connection after keepalives unanswered (QA75).
TCP_LIMITS = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3,
              "tcp_user_timeout": 15000}


def _url_options(url: str) -> set[str]:
    try:
        from psycopg.conninfo import conninfo_to_dict

        return set(conninfo_to_dict(url))
    except Exception:  # a URL psycopg cannot read: its connect says so
        return set()


class PostgresDatabase(Database):
    """A psycopg 3 connection pool; each transaction on its own connection."""

    dialect = POSTGRESQL

    def __init__(self, url: str, *, pool_size: int = 4) -> None:
        try:
            import psycopg
            from psycopg_pool import ConnectionPool
        except ImportError as exc:  # pragma: no cover - they are runtime dependencies
            raise StateError(f"PostgreSQL needs psycopg and psycopg-pool ({exc})") from None
        self._errors = (psycopg.Error,)
        self._psycopg, self._url = psycopg, url
        # Set when the pool had no connection to give (the server restarting or down): calls then
        # connect on their own, at once refused or served, until the pool has one again. The pool's
        # own reconnect attempts back off (1 s, 2 s, 4 s …) and would leave a server back up unused
        # for seconds.
        self._outage = False
        self.where = _without_password(url)
        if _unescaped_at(url):  # psycopg would read the password's end as the host, and print it
            raise StateError(f"cannot use state database {self.where}: its password holds an '@' (or ':' or '/'), "
                             "which DATABASE_URL must write percent-encoded ('@' as %40, ':' as %3A, '/' as %2F)")
        try:
            # One plain connection first: a server that is down or refuses this user is then one error,
            # at once, and not the pool's reconnect loop logging a warning per attempt until it gives up.
            # (what DATABASE_URL sets itself of TCP_LIMITS is its own)
            self._tcp = {k: v for k, v in TCP_LIMITS.items() if k not in _url_options(url)}
            psycopg.connect(url, connect_timeout=10, **self._tcp).close()
            # check: a connection the server closed (a restart, a failover) is replaced, not handed out
            self.pool = ConnectionPool(url, min_size=1, max_size=pool_size, open=True, timeout=15,
                                       kwargs={"connect_timeout": 10, **self._tcp},
                                       check=ConnectionPool.check_connection)
            self.pool.wait(timeout=15)
            self.version = self.migrate()
            self._check_writable()
        except (psycopg.Error, OSError) as exc:
            self.close_quietly()
            raise StateError(f"cannot use state database {self.where} ({exc}): check DATABASE_URL and that "
                             "the server is running and accepts this user") from None
        except Exception as exc:  # the pool's own timeout, a bad URL
            self.close_quietly()
            if isinstance(exc, StateError):
                raise
            raise StateError(f"cannot use state database {self.where} ({exc}): check DATABASE_URL") from None

    def _check_writable(self) -> None:
        """A role that may read the tables but not write them (a read-only grant by mistake) started,
        and its first IDENTIFY's write failed every 5 s for ever (QA75): said at start, as for a
        read-only SQLite file."""
        # (has_table_privilege with a list of privileges is true for any one of them: each is asked)
        held = " AND ".join(f"has_table_privilege(quote_ident(schemaname) || '.' || quote_ident(tablename), '{p}')"
                            for p in ("SELECT", "INSERT", "UPDATE", "DELETE"))
        denied = [name for (name,) in self.query(
            f"SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND NOT ({held}) ORDER BY tablename")]
        if denied:
            user = self.query("SELECT current_user")[0][0]
            shown = ", ".join(denied[:4]) + (f" and {len(denied) - 4} more" if len(denied) > 4 else "")
            raise StateError(f"cannot use state database {self.where}: role {user} may not write its tables "
                             f"({shown}): GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "
                             f"{self.query('SELECT current_schema()')[0][0]} TO {user}, or run the bot as "
                             "the tables' owner")

    @contextmanager
    def transaction(self) -> Iterator[_PostgresTransaction]:
        with self._connection() as conn, conn.transaction():
            yield _PostgresTransaction(conn)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        with self._connection() as conn:
            return conn.execute(_psycopg_sql(sql), list(params)).fetchall()

    @contextmanager
    def _connection(self):
        """A pooled connection, or in an outage one of the call's own; committed at the end, rolled
        back on an error (as the pool's `connection()` does). StateUnavailable when neither comes."""
        from psycopg_pool import PoolTimeout

        try:
            # In an outage only a glance: a ready connection is taken, and asking makes the pool grow again.
            conn = self.pool.getconn(timeout=0.05 if self._outage else POOL_WAIT)
            self._outage = False
        except PoolTimeout:
            conn, self._outage = None, True
        if conn is not None:
            try:
                with conn:  # a pooled connection is not closed by its context, only ended
                    yield conn
            except self._psycopg.OperationalError as exc:
                if conn.broken:  # the server went away during the call (it was checked when handed out)
                    raise StateUnavailable(f"the state database {self.where} went away ({_first_line(exc)})") from exc
                raise
            finally:
                self.pool.putconn(conn)
            return
        try:
            own = self._psycopg.connect(self._url, connect_timeout=3, **self._tcp)
        except self._psycopg.OperationalError as exc:
            raise StateUnavailable(f"the state database {self.where} cannot be reached "
                                   f"({_first_line(exc)})") from None
        with own:
            yield own

    def close(self) -> None:
        self.pool.close()

    def try_lock(self, key: int):
        """Try to take the cluster-wide advisory lock `key` without waiting: the function that
        lets it go, or None if another session holds it. Held on a connection of its own, so
        a crashed holder frees it; a caller that gives up waiting leaks nothing."""
        conn = self.pool.getconn(timeout=POOL_WAIT)  # (in an outage: unavailable at once, not in 15 s)
        try:
            taken = conn.execute("SELECT pg_try_advisory_lock(%s)", [key]).fetchone()[0]
            conn.commit()
        except BaseException:
            self.pool.putconn(conn)
            raise
        if not taken:
            self.pool.putconn(conn)
            return None

        def release() -> None:
            try:
                conn.execute("SELECT pg_advisory_unlock(%s)", [key])
                conn.commit()
            except self._psycopg.Error:  # the server closed the connection (a restart): the lock went with it
                pass
            finally:
                self.pool.putconn(conn)

        return release

    def close_quietly(self) -> None:
        pool = getattr(self, "pool", None)
        if pool is not None:
            try:
                pool.close()
            except Exception:  # noqa: BLE001 - already failing; the first error is the one to report
                pass


def open_database(target: str | Path, *, read_only: bool = False) -> Database:
    """SQLite at a path, or PostgreSQL at a `postgresql://` URL. `read_only`: an SQLite file only read,
    never migrated (PostgreSQL is opened as usual: a report's reads need no rights of their own)."""
    text = str(target)
    if text.startswith(("postgresql://", "postgres://")):
        return PostgresDatabase(text)
    return SqliteDatabase(Path(target), read_only=read_only)


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _without_password(url: str) -> str:
    """The URL to show: its password masked, up to the last '@' (one written unescaped holds them)."""
    return re.sub(r"(://[^:/@]+):[^/]*@", r"\1:***@", url)


def _unescaped_at(url: str) -> bool:
    """Whether the URL's user and password part holds more than one '@' (a password's, unescaped)."""
    netloc = url.partition("://")[2].split("/", 1)[0]
    return netloc.count("@") > 1


def now_text(when: datetime | None = None) -> str:
    return (when or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")
