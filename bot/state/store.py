"""Per-server state in its own SQLite file, apart from the rebuildable index.

Holds what admins configured and what the bot already did: study channels,
the term-of-the-day channel, time and zone, each server's shuffled term order,
and one row per server per local day (a date in a time zone) for the daily post.
Every write is one transaction; the daily row is written *before* the message is
sent, so a crash or restart can never produce a second post for the same day.

Every method that takes a `day` takes the `zone` it is a date in (the server's
`timezone` setting it was computed with); None reads the server's zone now.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from ..glossary.daily import (Schedule, parse_time, parse_zone, renamed_in_place, shuffled_cycle, with_new_terms,
                             zone_name)
from .db import Database, Transaction, now_text, open_database
from .additions import ServerAdditions
from .asked import AskedRecords
from .feedback import FeedbackRecords
from .study import NameNow, StudyRecords, redate_server_days

RESERVED, SENDING, POSTED, FAILED = "reserved", "sending", "posted", "failed"


@dataclass(frozen=True)
class GuildConfig:
    guild_id: int
    study_channels: tuple[int, ...] = ()
    daily_channel_id: int | None = None
    daily_time: str = "09:00"
    timezone: str = "UTC"
    daily_enabled: bool = False
    last_error: str | None = None
    daily_quiz: bool = False  # a quiz question under the term of the day
    quiz_role_id: int | None = None  # may start quiz rounds, besides Manage Messages
    champion_role_id: int | None = None  # given to last month's top scorer
    champion_month: str | None = None  # the month whose champion was last crowned ("2026-11")
    champion_user_id: int | None = None
    editor_role_id: int | None = None  # may add server aliases and notes, besides Manage Server
    # why the champion role was not given, apart from last_error (the term of the day's, which its
    # next post clears): kept until a crowning works or the role is set again
    champion_error: str | None = None

    @property
    def schedule(self) -> Schedule:
        return Schedule(parse_time(self.daily_time), parse_zone(self.timezone))


class StateStore:
    """Everything the bot remembers, in one database: server settings and the term of the day
    here, study records (reviews, quiz points, streaks, rounds) in `self.study`, logged
    questions and votes in `self.feedback`, server aliases and notes in `self.additions`, what
    the study cog said to recent questions in `self.asked`."""

    def __init__(self, target: Path | str, *, read_only: bool = False) -> None:
        """`target`: an SQLite file, or a `postgresql://` URL (DATABASE_URL). `read_only`: for reports
        that only read an SQLite file (db.open_database)."""
        self.db: Database = open_database(target, read_only=read_only)
        self.where = self.db.where
        self._transaction = self.db.transaction
        self.study = StudyRecords(self.db)
        self.feedback = FeedbackRecords(self.db)
        self.additions = ServerAdditions(self.db)
        self.asked = AskedRecords(self.db)

    def close(self) -> None:
        self.db.close()

    # -- configuration ------------------------------------------------------------

    def config(self, guild_id: int) -> GuildConfig:
        rows = self.db.query(f"{_SELECT_CONFIG} WHERE guild_id = ?", [guild_id])
        return _config_from_row(rows[0]) if rows else GuildConfig(guild_id)

    def all_configs(self) -> list[GuildConfig]:
        return [_config_from_row(row) for row in self.db.query(f"{_SELECT_CONFIG} ORDER BY guild_id")]

    def claim_champion_month(self, guild_id: int, month: str, now: datetime | None = None) -> bool:
        """Take the server's crowning for `month`: True for one caller only, as the daily post's claim
        (two processes that disagree for a moment about who serves a server crown once), and only
        for a month after the last one crowned: months are the server's zone's, so "last month" can
        go back (a UTC crowning before an upgrade, a zone moved west) and crowned the month before.
        Claimed, the crowning is marked as under way (`crowning_mark`) until its outcome is stored; one
        left so for CROWNING_STALE (its process killed mid-way) is taken again (QA75)."""
        now = now or datetime.now(UTC)
        stale = crowning_mark(month, now - CROWNING_STALE)
        with self._transaction() as conn:
            return conn.execute("UPDATE guild_config SET champion_month = ?, champion_error = ? WHERE guild_id = ? "
                                "AND (champion_month IS NULL OR champion_month < ? OR (champion_month = ? "
                                "AND ((champion_error LIKE ? AND champion_error < ?) OR champion_error LIKE ?)))",
                                [month, crowning_mark(month, now), guild_id, month, month,
                                 crowning_mark(month, None) + "%", stale, waiting_mark(month) + "%"]).rowcount == 1

    def update_config(self, guild_id: int, **changes) -> GuildConfig:
        """Validate and store changes; invalid values raise ScheduleError and store nothing."""
        if "daily_time" in changes:
            changes["daily_time"] = parse_time(changes["daily_time"]).strftime("%H:%M")
        if "timezone" in changes:
            changes["timezone"] = zone_name(changes["timezone"])
        with self._transaction() as conn:
            conn.lock(guild_id)  # PostgreSQL: two processes editing one server's settings take turns
            # read in this transaction, the row locked until it is written back: no other writer's
            # change (a /forget-me clearing the champion) can be lost in between
            row = conn.execute(f"{_SELECT_CONFIG} WHERE guild_id = ?{conn.for_update}", [guild_id]).fetchone()
            current = _config_from_row(row) if row else GuildConfig(guild_id)
            updated = replace(current, **changes)
            values = [_column_value(getattr(updated, name)) for name in _CONFIG_COLUMNS]
            conn.execute(
                f"INSERT INTO guild_config ({', '.join(_CONFIG_COLUMNS)}) "
                f"VALUES ({', '.join('?' for _ in _CONFIG_COLUMNS)}) ON CONFLICT(guild_id) DO UPDATE SET "
                + ", ".join(f"{name}=excluded.{name}" for name in _CONFIG_COLUMNS[1:]),
                values,
            )
            if updated.timezone != current.timezone:
                redate_server_days(conn, guild_id)
        return updated

    # -- term of the day ------------------------------------------------------------

    def _next_term(self, conn: Transaction, guild_id: int, terms: list[str], term_now: NameNow | None) -> str:
        row = conn.execute(
            "SELECT cycle, terms, position FROM daily_order WHERE guild_id = ?", [guild_id]
        ).fetchone()
        cycle, order, position = (row[0], json.loads(row[1]), row[2]) if row else (0, [], 0)
        known = set(terms)
        if term_now is not None:
            order = renamed_in_place(order, known, term_now)
        order = with_new_terms(order, position, terms, f"{guild_id}:{cycle}:{position}")
        while True:
            while position < len(order) and order[position] not in known:
                position += 1  # a term removed from the glossary since the order was made
            if position < len(order):
                break
            cycle, order, position = cycle + 1, shuffled_cycle(terms, f"{guild_id}:{cycle + 1}"), 0
        conn.execute(
            "INSERT INTO daily_order (guild_id, cycle, terms, position) VALUES (?, ?, ?, ?) ON CONFLICT (guild_id) "
            "DO UPDATE SET cycle = excluded.cycle, terms = excluded.terms, position = excluded.position",
            [guild_id, cycle, json.dumps(order), position + 1],
        )
        return order[position]

    def term_for_day(self, guild_id: int, day: date, terms: list[str], zone: str | None = None,
                     term_now: NameNow | None = None) -> str:
        """The server's term for that local day: the one reserved or posted for it, else the term of
        a post made in another zone that went out during that day here (a server that moved its
        zone east has it already), else the next one in its order, reserved."""
        with self._transaction() as conn:
            conn.lock(guild_id)  # PostgreSQL: processes reserving this server's day take turns
            return self._term_for_day(conn, guild_id, day, terms, _zone(conn, guild_id, zone), term_now)

    def _term_for_day(self, conn: Transaction, guild_id: int, day: date, terms: list[str], zone: str,
                      term_now: NameNow | None = None) -> str:
        row = conn.execute("SELECT term, status FROM daily_posts WHERE guild_id = ? AND day = ? AND zone = ?",
                           [guild_id, day.isoformat(), zone]).fetchone()
        if row and row[1] == RESERVED and term_now is not None and term_now(row[0]) is None:
            # The keepers removed the day's entry after /today reserved it and before it went out: its
            # post could only fail, and a retry with the same term fail again. The next term takes the day.
            term = self._next_term(conn, guild_id, terms, term_now)
            conn.execute("UPDATE daily_posts SET term = ?, updated_at = ? "
                         "WHERE guild_id = ? AND day = ? AND zone = ?", [term, now_text(), guild_id, day.isoformat(), zone])
            return term
        if row:
            return row[0]
        made = _post_made_during(conn, guild_id, day, zone)
        if made is not None:
            return made
        term = self._next_term(conn, guild_id, terms, term_now)
        conn.execute(
            "INSERT INTO daily_posts (guild_id, day, zone, term, status, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
            [guild_id, day.isoformat(), zone, term, RESERVED, now_text()],
        )
        return term

    def claim_daily_post(self, guild_id: int, day: date, terms: list[str],
                         at: datetime | None = None, zone: str | None = None,
                         term_now: NameNow | None = None, channel_id: int | None = None) -> str | None:
        """Mark the local day's post as being sent (at `at`, now by default) and return its term, or
        None if that day had its post already (in this zone or, moved since, another).

        Called *before* sending: whatever happens next, this day will not be
        claimed again.
        """
        with self._transaction() as conn:
            conn.lock(guild_id)  # one transaction: the day reserved and claimed with no other claim between
            zone = _zone(conn, guild_id, zone)
            term = self._term_for_day(conn, guild_id, day, terms, zone, term_now)
            changed = conn.execute(
                "UPDATE daily_posts SET status = ?, updated_at = ?, claimed_at = ?, channel_id = ? "
                "WHERE guild_id = ? AND day = ? AND zone = ? AND status = ?",
                [SENDING, now_text(), now_text(at), channel_id, guild_id, day.isoformat(), zone, RESERVED],
            ).rowcount
        return term if changed else None

    def finish_daily_post(self, guild_id: int, day: date, error: str | None = None, *,
                          not_sent: bool = False, zone: str | None = None) -> None:
        """Record how a claimed post went: posted, or failed with `error`; `not_sent`: the
        failure is sure the post did not appear (Discord refused it), so `retry_daily_post`
        may send that day's term again."""
        with self._transaction() as conn:
            _set_post_outcome(conn, guild_id, day.isoformat(), _zone(conn, guild_id, zone), error, not_sent)

    def daily_failure(self, guild_id: int, day: date, zone: str | None = None) -> bool | None:
        """Whether that day's post failed: None if it did not (or is not done), True if it surely
        did not appear, False if it may have (interrupted mid-send)."""
        rows = self.db.query("SELECT not_sent FROM daily_posts WHERE guild_id = ? AND day = ? AND zone = ? "
                             "AND status = ?", [guild_id, day.isoformat(), self._zone_now(guild_id, zone), FAILED])
        return bool(rows[0][0]) if rows else None

    def retry_daily_post(self, guild_id: int, day: date, zone: str | None = None) -> bool:
        """After an admin's fix, let a day's post that surely did not appear go out after all:
        its row goes back to reserved (the same term), so the next check claims and sends it
        once, and the error it left is cleared. A post that may have appeared (interrupted) or
        that went out is left alone: at most one post a day. True if the day was reopened."""
        with self._transaction() as conn:
            conn.lock(guild_id)  # PostgreSQL: the same server's claims and fixes take turns
            reopened = conn.execute(
                "UPDATE daily_posts SET status = ?, not_sent = 0, claimed_at = NULL, updated_at = ? "
                "WHERE guild_id = ? AND day = ? AND zone = ? AND status = ? AND not_sent = 1",
                [RESERVED, now_text(), guild_id, day.isoformat(), _zone(conn, guild_id, zone), FAILED],
            ).rowcount
            if reopened:
                conn.execute("UPDATE guild_config SET last_error = NULL WHERE guild_id = ?", [guild_id])
        return bool(reopened)

    def post_in_doubt(self, guild_id: int, day: date, zone: str | None = None) -> tuple[datetime, int | None] | None:
        """(when it was claimed, the channel it was for) of a day's post that may have appeared
        (stopped mid-send, or a server error after Discord took it); None if that day's post is not
        in doubt. A claim older than the database's record of claim times is dated at the start of
        the day; the channel is None for one claimed before the database recorded it."""
        rows = self.db.query("SELECT claimed_at, channel_id FROM daily_posts WHERE guild_id = ? AND day = ? "
                             "AND zone = ? AND status = ? AND not_sent = 0",
                             [guild_id, day.isoformat(), self._zone_now(guild_id, zone), FAILED])
        if not rows:
            return None
        claimed_at, channel_id = rows[0]
        return (datetime.fromisoformat(claimed_at) if claimed_at
                else datetime.combine(day, time(), parse_zone(self._zone_now(guild_id, zone)))), channel_id

    def settle_post_in_doubt(self, guild_id: int, day: date, appeared: bool, zone: str | None = None) -> bool:
        """What the channel showed of a post in doubt: it appeared (now "posted"), or it surely did
        not (reopened with the same term, as `retry_daily_post` does, so the next check sends it
        once). Either way the error it left is cleared. False if the post was no longer in doubt
        (another process settled it first)."""
        with self._transaction() as conn:
            conn.lock(guild_id)
            changed = conn.execute(
                "UPDATE daily_posts SET status = ?, not_sent = 0, updated_at = ?"
                + ("" if appeared else ", claimed_at = NULL")
                + " WHERE guild_id = ? AND day = ? AND zone = ? AND status = ? AND not_sent = 0",
                [POSTED if appeared else RESERVED, now_text(), guild_id, day.isoformat(), _zone(conn, guild_id, zone),
                 FAILED],
            ).rowcount
            if changed:
                conn.execute("UPDATE guild_config SET last_error = NULL WHERE guild_id = ?", [guild_id])
        return bool(changed)

    def recover_interrupted_posts(self, guilds: set[int] | None = None) -> list[tuple[int, date]]:
        """Mark posts a stopped bot left half-done ("sending") as failed, and say so in last_error.

        Called once at start-up, when this process is sending nothing, for the servers it
        serves (`guilds`; None: all, for a single process). Such a post may or may not have
        reached Discord, so it is not sent again (at most one post a day); the admin sees
        what happened in `/glossary config show`. Another process's post in flight is left alone.
        """
        with self._transaction() as conn:
            rows = [(g, d, z) for g, d, z in conn.execute(
                "SELECT guild_id, day, zone FROM daily_posts WHERE status = ? ORDER BY guild_id, day", [SENDING]
            ).fetchall() if guilds is None or g in guilds]
            for guild_id, day, zone in rows:
                _set_post_outcome(conn, guild_id, day, zone, interrupted_error(date.fromisoformat(day)))
        return [(guild_id, date.fromisoformat(day)) for guild_id, day, _zone in rows]

    def _zone_now(self, guild_id: int, zone: str | None) -> str:
        if zone is not None:
            return zone
        rows = self.db.query("SELECT timezone FROM guild_config WHERE guild_id = ?", [guild_id])
        return rows[0][0] if rows else GuildConfig.timezone

    # -- shards across processes ----------------------------------------------------------

    def last_identify(self, bucket: int) -> float | None:
        """When this IDENTIFY bucket last identified (Unix time), by any process."""
        rows = self.db.query("SELECT identified_at FROM identify_turns WHERE bucket = ?", [bucket])
        return rows[0][0] if rows else None

    def record_identify(self, bucket: int, at: float) -> None:
        with self._transaction() as conn:
            conn.execute("INSERT INTO identify_turns (bucket, identified_at) VALUES (?, ?) ON CONFLICT (bucket) "
                         "DO UPDATE SET identified_at = excluded.identified_at", [bucket, at])

    def last_claimed_day(self, guild_id: int) -> date | None:
        last = self.last_claim(guild_id)
        return last[0] if last else None

    def last_claim(self, guild_id: int) -> tuple[date, datetime | None] | None:
        """The day of the latest post claimed, and when (None for a post claimed before the state
        database recorded it). Latest by when: after a move west, the newest post's date may be
        no later than the one before it (each a date in its own zone)."""
        rows = self.db.query("SELECT day, claimed_at FROM daily_posts WHERE guild_id = ? AND status != ? "
                             "ORDER BY claimed_at IS NULL, claimed_at DESC, day DESC LIMIT 1", [guild_id, RESERVED])
        if not rows:
            return None
        day, claimed_at = rows[0]
        return date.fromisoformat(day), datetime.fromisoformat(claimed_at) if claimed_at else None

    def posts(self, guild_id: int) -> list[tuple[str, str, str]]:
        # one date may have two posts, each in its zone (a move west): in the order they went
        return [tuple(row) for row in self.db.query(
            "SELECT day, term, status FROM daily_posts WHERE guild_id = ? "
            "ORDER BY day, coalesce(claimed_at, updated_at)", [guild_id])]


_CONFIG_COLUMNS = ("guild_id", "study_channels", "daily_channel_id", "daily_time", "timezone", "daily_enabled",
                   "last_error", "daily_quiz", "quiz_role_id", "champion_role_id", "champion_month",
                   "champion_user_id", "editor_role_id", "champion_error")
_SELECT_CONFIG = f"SELECT {', '.join(_CONFIG_COLUMNS)} FROM guild_config"


def _column_value(value):
    if isinstance(value, tuple):
        return json.dumps(list(value))
    return int(value) if isinstance(value, bool) else value


def _config_from_row(row: tuple) -> GuildConfig:
    values = dict(zip(_CONFIG_COLUMNS, row, strict=True))
    values["study_channels"] = tuple(json.loads(values["study_channels"]))
    values["daily_enabled"], values["daily_quiz"] = bool(values["daily_enabled"]), bool(values["daily_quiz"])
    return GuildConfig(**values)


def _zone(conn: Transaction, guild_id: int, zone: str | None) -> str:
    """`zone`, or the server's time zone setting now."""
    if zone is not None:
        return zone
    row = conn.execute("SELECT timezone FROM guild_config WHERE guild_id = ?", [guild_id]).fetchone()
    return row[0] if row else GuildConfig.timezone


def _post_made_during(conn: Transaction, guild_id: int, day: date, zone: str) -> str | None:
    """The term of a post claimed during `day` in `zone` (under another zone's day: rows are keyed
    by the zone they were claimed in), if one was."""
    tz = parse_zone(zone)
    start, end = (datetime.combine(d, time(), tz) for d in (day, day + timedelta(days=1)))
    row = conn.execute("SELECT term FROM daily_posts WHERE guild_id = ? AND status != ? AND claimed_at >= ? "
                       "AND claimed_at < ? ORDER BY claimed_at LIMIT 1",
                       [guild_id, RESERVED, now_text(start), now_text(end)]).fetchone()
    return row[0] if row else None


def _set_post_outcome(conn: Transaction, guild_id: int, day: str, zone: str, error: str | None,
                      not_sent: bool = False) -> None:
    """A day's post is done: "posted", or "failed" with `error` shown as the server's last error
    (a successful post clears the old one); `not_sent`: the failure surely posted nothing."""
    conn.execute(
        "UPDATE daily_posts SET status = ?, not_sent = ?, updated_at = ? WHERE guild_id = ? AND day = ? AND zone = ?",
        [FAILED if error else POSTED, int(bool(error) and not_sent), now_text(), guild_id, day, zone],
    )
    conn.execute(
        "INSERT INTO guild_config (guild_id, last_error) VALUES (?, ?) "
        "ON CONFLICT(guild_id) DO UPDATE SET last_error = excluded.last_error",
        [guild_id, error],
    )


def interrupted_error(day: date) -> str:
    return (f"term of the day for {day.isoformat()}: the bot stopped while posting it, so it may not "
            "have appeared; the next one is posted as usual")


#: how long a crowning may be under way before another check takes it again (a 429 on the role
#: change may hold it a couple of minutes; giving a role twice is harmless)
CROWNING_STALE = timedelta(minutes=10)


def waiting_mark(month: str) -> str:
    """How the champion error of a crowning the bot may not make yet begins (its permissions, its
    place in the role list): the month is still to be crowned, at the first check after the fix,
    though a crowning cut off under way had claimed it (the error then written over its mark)."""
    return f"not given for {month} yet:"


def crowning_mark(month: str, since: datetime | None) -> str:
    """What `config show` says of a crowning under way (stored as the champion error until it ends);
    its time is ISO UTC, so that marks of one month compare by their time. `since` None: the prefix."""
    head = f"being given for {month} since "
    return head if since is None else head + since.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
