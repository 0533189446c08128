"""Server additions: aliases (a name a server uses for an existing entry) and notes (a
short text a server shows under an entry), kept apart from the glossary and used in
that server only, with a log of every change and who made it (by name and salted hash)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from ..glossary.normalize import storable
from ..glossary.terms import compact_key
from .db import Database

ALIAS_MAX, NOTE_MAX = 60, 500
ALIASES_PER_SERVER, NOTES_PER_SERVER = 200, 200
# what would ping or link: user/role/channel mentions, @everyone/@here, URLs and invites; and the
# rest of Discord's <…> markup (timestamps, command mentions, custom emoji: QA76), which aliases and
# notes, shown in lists, logs and autocomplete as typed, would show as raw ids
_PINGS_OR_LINKS = re.compile(r"<(?:[@#][!&]?\d+|a?:\w+:\d+|/[^<>:]+:\d+|t:-?\d+(?::[tTdDfFR])?)>"
                             r"|@(everyone|here)\b|https?://|www\.|discord\.gg/|\]\(", re.I)


class AdditionError(ValueError):
    """An alias or note that is not allowed; the message says why."""


@dataclass(frozen=True)
class Change:
    changed_at: datetime
    by_name: str
    action: str
    detail: str


def alias_key(text: str) -> str:
    return compact_key(text)


def check_text(text: str, limit: int, what: str) -> str:
    text = " ".join(storable(text).split())
    if not text:
        raise AdditionError(f"the {what} is empty")
    if len(text) > limit:
        raise AdditionError(f"the {what} is {len(text)} characters long; at most {limit}")
    if _PINGS_OR_LINKS.search(text):
        raise AdditionError(f"the {what} may not contain mentions, links or Discord markup (custom emoji, "
                            "timestamps, command mentions)")
    return text


def _check_room(conn, table: str, key_column: str, guild_id: int, key: str, limit: int, what: str) -> None:
    """A new row must fit the server's limit; changing an existing one always does."""
    conn.lock(guild_id)  # PostgreSQL: two moderators adding at once cannot both take the last place
    exists = conn.execute(f"SELECT 1 FROM {table} WHERE guild_id = ? AND {key_column} = ?", [guild_id, key]).fetchone()
    count = conn.execute(f"SELECT count(*) FROM {table} WHERE guild_id = ?", [guild_id]).fetchone()[0]
    if exists is None and count >= limit:
        raise AdditionError(f"this server already has {limit} {what}; remove one first")


class ServerAdditions:
    def __init__(self, db: Database) -> None:
        self.db = db

    def _log(self, conn, guild_id: int, by_hash: str, by_name: str, action: str, detail: str, now: datetime) -> None:
        conn.execute("INSERT INTO server_changes (guild_id, changed_at, by_hash, by_name, action, detail) "
                     "VALUES (?, ?, ?, ?, ?, ?)",
                     [guild_id, now.isoformat(timespec="seconds"), by_hash, by_name[:100], action, detail[:600]])

    # -- aliases ----------------------------------------------------------------------------------

    def add_alias(self, guild_id: int, alias: str, term: str, by_hash: str, by_name: str, now: datetime) -> str:
        """Store `alias` → `term` (an existing entry's name, checked by the caller); returns the
        alias as stored. Raises AdditionError when it is not allowed."""
        alias = check_text(alias, ALIAS_MAX, "alias")
        key = alias_key(alias)
        if not key:
            raise AdditionError("the alias has no letters or digits")
        with self.db.transaction() as conn:
            _check_room(conn, "server_aliases", "alias_key", guild_id, key, ALIASES_PER_SERVER, "aliases")
            conn.execute("INSERT INTO server_aliases (guild_id, alias_key, alias, term, added_at) "
                         "VALUES (?, ?, ?, ?, ?) "
                         "ON CONFLICT (guild_id, alias_key) DO UPDATE SET alias = excluded.alias, term = excluded.term",
                         [guild_id, key, alias, term, now.isoformat(timespec="seconds")])
            self._log(conn, guild_id, by_hash, by_name, "alias add", f"{alias} → {term}", now)
        return alias

    def remove_alias(self, guild_id: int, alias: str, by_hash: str, by_name: str,
                     now: datetime) -> tuple[str, str] | None:
        """The removed alias as the server wrote it, and its term; None if the server has no such
        alias (`alias` is matched as aliases are: "MEMO  trick" is "memo trick")."""
        with self.db.transaction() as conn:
            row = conn.execute("SELECT alias, term FROM server_aliases WHERE guild_id = ? AND alias_key = ?",
                               [guild_id, alias_key(alias)]).fetchone()
            if row is None:
                return None
            conn.execute("DELETE FROM server_aliases WHERE guild_id = ? AND alias_key = ?",
                         [guild_id, alias_key(alias)])
            self._log(conn, guild_id, by_hash, by_name, "alias remove", f"{row[0]} → {row[1]}", now)
        return row[0], row[1]

    def alias_target(self, guild_id: int, text: str) -> str | None:
        """The term a server alias names, if `text` is one of this server's aliases."""
        key = alias_key(text)
        if not key:
            return None
        rows = self.db.query("SELECT term FROM server_aliases WHERE guild_id = ? AND alias_key = ?", [guild_id, key])
        return rows[0][0] if rows else None

    def aliases(self, guild_id: int) -> list[tuple[str, str]]:
        return self.db.query("SELECT alias, term FROM server_aliases WHERE guild_id = ? ORDER BY alias_key",
                             [guild_id])

    # -- notes --------------------------------------------------------------------------------------

    def set_note(self, guild_id: int, term: str, note: str, by_hash: str, by_name: str, now: datetime) -> str:
        note = check_text(note, NOTE_MAX, "note")
        with self.db.transaction() as conn:
            _check_room(conn, "server_notes", "term", guild_id, term, NOTES_PER_SERVER, "notes")
            conn.execute("INSERT INTO server_notes (guild_id, term, note, updated_at) VALUES (?, ?, ?, ?) "
                         "ON CONFLICT (guild_id, term) DO UPDATE SET note = excluded.note, "
                         "updated_at = excluded.updated_at",
                         [guild_id, term, note, now.isoformat(timespec="seconds")])
            self._log(conn, guild_id, by_hash, by_name, "note set", f"{term}: {note}", now)
        return note

    def remove_note(self, guild_id: int, term: str, by_hash: str, by_name: str, now: datetime) -> bool:
        with self.db.transaction() as conn:
            removed = conn.execute("DELETE FROM server_notes WHERE guild_id = ? AND term = ?",
                                   [guild_id, term]).rowcount
            if removed:
                self._log(conn, guild_id, by_hash, by_name, "note remove", term, now)
        return bool(removed)

    def note(self, guild_id: int, term: str) -> str | None:
        rows = self.db.query("SELECT note FROM server_notes WHERE guild_id = ? AND term = ?", [guild_id, term])
        return rows[0][0] if rows else None

    def note_terms(self, guild_id: int) -> list[str]:
        return [term for (term,) in self.db.query("SELECT term FROM server_notes WHERE guild_id = ? ORDER BY term",
                                                  [guild_id])]

    def notes(self, guild_id: int) -> list[tuple[str, str]]:
        return self.db.query("SELECT term, note FROM server_notes WHERE guild_id = ? ORDER BY term", [guild_id])

    def changes(self, guild_id: int, limit: int = 20) -> list[Change]:
        rows = self.db.query("SELECT changed_at, by_name, action, detail FROM server_changes WHERE guild_id = ? "
                             "ORDER BY id DESC LIMIT ?", [guild_id, limit])
        return [Change(datetime.fromisoformat(r[0]), r[1], r[2], r[3]) for r in rows]
