"""A server that moves its term-of-the-day time zone, east or west: the daily check, run every
half hour as the bot runs it (Schedule.is_due on the last claim, then claim_daily_post for the
local day), gives every local day exactly one post, in the zone in force that day, and skips none."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.glossary.daily import parse_zone

TERMS = [f"term {i}" for i in range(40)]
STEP = timedelta(minutes=30)
#: (old zone, new zone): west, east, and across the date line both ways (25 hours apart)
MOVES = [("Asia/Tokyo", "America/Los_Angeles"), ("America/Los_Angeles", "Asia/Tokyo"),
         ("Europe/Berlin", "America/New_York"), ("Pacific/Kiritimati", "Pacific/Pago_Pago"),
         ("Pacific/Pago_Pago", "Pacific/Kiritimati")]
TIMES = ["00:30", "09:00", "23:30"]
START = datetime(2026, 6, 1, tzinfo=UTC)


def _check(store, guild: int, now: datetime) -> datetime | None:
    """One check of the daily loop (cogs/daily.py post_for, without Discord): the post's time, if one went."""
    config = store.config(guild)
    schedule = config.schedule
    if not schedule.is_due(now, *(store.last_claim(guild) or (None, None))):
        return None
    day = schedule.local_day(now)
    if store.claim_daily_post(guild, day, TERMS, now) is None:
        return None
    store.finish_daily_post(guild, day)
    return now


def _run(store, guild: int, old: str, new: str, at: str, move_at: datetime, end: datetime) -> list[datetime]:
    store.update_config(guild, timezone=old, daily_time=at, daily_enabled=True, daily_channel_id=1)
    posted, now = [], START
    while now < end:
        if now == move_at:
            store.update_config(guild, timezone=new)
        if (sent := _check(store, guild, now)) is not None:
            posted.append(sent)
        now += STEP
    return posted


def _per_day(posted: list[datetime], zone: str) -> dict[date, int]:
    counts: dict[date, int] = {}
    for when in posted:
        day = when.astimezone(parse_zone(zone)).date()
        counts[day] = counts.get(day, 0) + 1
    return counts


@pytest.mark.parametrize("old, new", MOVES)
def test_a_moved_time_zone_gives_every_local_day_one_post_and_skips_none(store, old, new):
    end = START + timedelta(days=6)
    guild = 0
    for at in TIMES:
        for move_hours in range(48, 72, 3):  # a move at every time of day, on the third day
            guild += 1
            move_at = START + timedelta(hours=move_hours)
            posted = _run(store, guild, old, new, at, move_at, end)
            where = f"{old} → {new} at {move_at:%d %H:%M} UTC, posting at {at}"
            # in the old zone before the move, and in the new one from the day of the move on (the
            # old zone's last post may fall on it): at most one post a day, and none skipped
            assert set(_per_day([p for p in posted if p < move_at], old).values()) == {1}, where
            first = move_at.astimezone(parse_zone(new)).date()
            last = (end - timedelta(days=1)).astimezone(parse_zone(new)).date()  # days wholly simulated
            new_days = _per_day([p for p in posted if p.astimezone(parse_zone(new)).date() >= first], new)
            assert set(new_days.values()) == {1}, where
            skipped = [first + timedelta(days=i) for i in range((last - first).days)
                       if first + timedelta(days=i) not in new_days]
            assert not skipped, where


def test_a_move_west_posts_on_the_new_zones_day_that_has_the_old_zones_date(store):
    """The case that was skipped: Tokyo's post of 2 June went out at 17:00 on 1 June in Los Angeles,
    so Los Angeles's 2 June, whose date is that post's day, still needs its own post."""
    nine_in_tokyo = datetime(2026, 6, 2, 0, 0, tzinfo=UTC)
    store.update_config(1, timezone="Asia/Tokyo", daily_time="09:00", daily_enabled=True, daily_channel_id=1)
    assert _check(store, 1, nine_in_tokyo) == nine_in_tokyo
    tokyos = store.posts(1)[0][1]

    store.update_config(1, timezone="America/Los_Angeles")
    assert _check(store, 1, nine_in_tokyo + timedelta(hours=2)) is None  # 19:00 on 1 June there: had its post
    nine_in_los_angeles = datetime(2026, 6, 2, 16, 0, tzinfo=UTC)
    assert _check(store, 1, nine_in_los_angeles) == nine_in_los_angeles
    assert _check(store, 1, nine_in_los_angeles + timedelta(hours=1)) is None
    posts = store.posts(1)
    assert [(day, status) for day, _term, status in posts] == [("2026-06-02", "posted"), ("2026-06-02", "posted")]
    assert posts[1][1] != tokyos  # the next term of the server's order, not the one already posted

    # /today on the evening of 1 June in Los Angeles shows the post that went out that day
    assert store.term_for_day(1, date(2026, 6, 1), TERMS) == tokyos
