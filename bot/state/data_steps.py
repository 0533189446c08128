"""Work a migration does beside its SQL that SQL cannot do alike on SQLite and PostgreSQL, run in
the migration's own transaction right after it (db.migrate): by version."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from .db import Transaction
from .study import zone_of  # the rule the store applies from now on


def redate_active_days(tx: Transaction) -> None:
    """V16: an active day was a UTC date, and is now a date in the user's zone (nobody has set one
    yet, so their server's). The zone's dates of the quiz answers and ratings (all kept) are added
    beside the days kept, as a server's zone change adds them (study.redate_server_days): a learner
    east of UTC who quizzes every morning (the evening before, in UTC) found their streak broken on
    the day of the upgrade, and one who answered around their midnight lost it whole when the UTC
    days were dropped (QA69). Never fewer days, at most one more across the move."""
    _add_days(tx, _answer_days(tx, in_zone=True))


def keep_utc_days(tx: Transaction) -> None:
    """V17: a database V16 upgraded before it kept the days it had dropped the UTC dates of the
    answers and ratings made before it, and with them streaks: they come back, beside the zone's.
    Not for a learner who has set a zone of their own since: their days were dated anew in it."""
    applied = tx.execute("SELECT applied_at FROM schema_migrations WHERE version = 16").fetchone()
    if applied is None:
        return
    before = _utc(datetime.fromisoformat(applied[0]))
    own = {user for (user,) in tx.execute("SELECT user_id FROM user_zones").fetchall()}
    _add_days(tx, {(guild, user, day) for guild, user, day, when in _answer_days(tx, in_zone=False, with_time=True)
                   if when < before and user not in own})


def _answer_days(tx: Transaction, *, in_zone: bool, with_time: bool = False) -> set[tuple]:
    """(guild, user, day) of every quiz answer and rating: the day in its server's zone (`in_zone`)
    or in UTC; with `with_time`, each with the moment it was made."""
    zones = {guild: zone_of([name])[1] for guild, name in tx.execute(
        "SELECT guild_id, timezone FROM guild_config").fetchall()} if in_zone else {}
    days = set()
    for guild, user, at in tx.execute("SELECT guild_id, user_id, answered_at FROM quiz_answers UNION ALL "
                                      "SELECT guild_id, user_id, reviewed_at FROM review_log").fetchall():
        when = _utc(datetime.fromisoformat(at))
        zone = zones.get(guild)
        day = (when.astimezone(zone) if zone else when).date().isoformat()  # stored in UTC
        days.add((guild, user, day, when) if with_time else (guild, user, day))
    return days


def _utc(when: datetime) -> datetime:
    # every release stored these in UTC, with its offset; one without it (a hand-made row) is read so too
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _add_days(tx: Transaction, days: set[tuple]) -> None:
    if days:
        tx.executemany("INSERT INTO active_days (guild_id, user_id, day) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                       sorted(days))


STEPS: dict[int, Callable[[Transaction], None]] = {16: redate_active_days, 17: keep_utc_days}
