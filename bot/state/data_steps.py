"""Work a migration does beside its SQL that SQL cannot do alike on SQLite and PostgreSQL, run in
the migration's own transaction right after it (db.migrate): by version."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from .db import Transaction
from .study import zone_of  # the rule the store applies from now on


def redate_active_days(tx: Transaction) -> None:
    """V16: an active day was a UTC date, and is now a date in the user's zone (nobody has set one
    yet, so their server's). Re-made from the quiz answers and ratings it was marked by (all kept),
    else a learner east of UTC who quizzes every morning (the evening before, in UTC) found their
    streak broken on the day of the upgrade. A day no kept answer or rating accounts for stays."""
    zones = {guild: zone_of([name])[1] for guild, name in tx.execute(
        "SELECT guild_id, timezone FROM guild_config").fetchall()}
    utc_days, local_days = set(), set()
    for guild, user, at in tx.execute("SELECT guild_id, user_id, answered_at FROM quiz_answers UNION ALL "
                                      "SELECT guild_id, user_id, reviewed_at FROM review_log").fetchall():
        when = datetime.fromisoformat(at)
        utc_days.add((guild, user, when.date().isoformat()))
        zone = zones.get(guild)
        local_days.add((guild, user, (when.astimezone(zone) if zone else when).date().isoformat()))
    stale = sorted(utc_days - local_days)
    if stale:
        tx.executemany("DELETE FROM active_days WHERE guild_id = ? AND user_id = ? AND day = ?", stale)
    if local_days:
        tx.executemany("INSERT INTO active_days (guild_id, user_id, day) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                       sorted(local_days))


STEPS: dict[int, Callable[[Transaction], None]] = {16: redate_active_days}
