"""The state database's connection, transactions and numbered migrations.

Migrations are the files `migrations/V<n>__<name>.sql`, applied in order, each in one
transaction with its row in `schema_migrations`; a database is never changed by a
release that does not know its newest migration. A database made by release 0.1.0
(before migrations were numbered: no `schema_migrations`, `PRAGMA user_version` 1) is
at V1, whose statements are `IF NOT EXISTS` and so leave its tables as they are.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

_MIGRATION_NAME = re.compile(r"V(\d+)__(\w+)\.sql")


class StateError(RuntimeError):
    """The state database cannot be opened or written; the message says how to fix it."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    found = []
    for item in resources.files(__package__).joinpath("migrations").iterdir():
        match = _MIGRATION_NAME.fullmatch(item.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), item.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    if [m.version for m in found] != list(range(1, len(found) + 1)):
        raise RuntimeError(f"state migrations are not numbered 1..n: {[m.version for m in found]}")
    return found


def statements(sql: str) -> list[str]:
    """The statements of a migration file (comments dropped; no ';' inside a statement)."""
    text = "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
    return [s.strip() for s in text.split(";") if s.strip()]


class Database:
    """One SQLite connection shared by threads; one writer at a time (BEGIN IMMEDIATE)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=10)
            self.conn.execute("PRAGMA journal_mode=WAL")
            # In WAL mode NORMAL cannot corrupt the database; a power cut may lose the last commits,
            # and each write (one per /ask now) skips an fsync.
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute("PRAGMA foreign_keys=ON")
            self.version = self.migrate()
        except (sqlite3.DatabaseError, OSError) as exc:
            raise StateError(
                f"cannot use state database {self.path} ({exc}): check that the file is a writable "
                "SQLite database (GLOSSARY_STATE_DB)"
            ) from None

    @contextmanager
    def transaction(self):
        with self._lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def query(self, sql: str, params: list | tuple = ()) -> list[tuple]:
        return self.conn.execute(sql, params).fetchall()

    def close(self) -> None:
        with self._lock:
            self.conn.close()

    # -- migrations ---------------------------------------------------------------------

    def applied_version(self) -> int:
        has_table = self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").fetchone()
        if has_table:
            return self.conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()[0]
        return 0  # new, or made by 0.1.0: V1 is written so that it applies to both

    def migrate(self) -> int:
        """Apply the migrations this database lacks; returns its version after."""
        known = migrations()
        with self.transaction() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                         "name TEXT NOT NULL, applied_at TEXT NOT NULL)")
        current = self.applied_version()
        if current > len(known):
            raise StateError(
                f"state database {self.path} is at schema version {current}, made by a newer release of the "
                f"bot (this one knows {len(known)}): run that release, or point GLOSSARY_STATE_DB elsewhere")
        for migration in known[current:]:
            with self.transaction() as conn:
                if self.applied_version() >= migration.version:
                    continue  # another process (the console, a second bot) applied it meanwhile
                for statement in statements(migration.sql):
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                             [migration.version, migration.name, now_text()])
                conn.execute(f"PRAGMA user_version = {migration.version}")
        return len(known)


def now_text(when: datetime | None = None) -> str:
    return (when or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")
