"""Term of the day: which term, and whether a server's post is due.

Pure functions with the clock passed in, so the scheduling rules are tested
without an event loop: each server gets every term once per cycle in its own
shuffled order, and at most one post per local calendar day — a bot that was
down at posting time catches up once later that day, never twice.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .store import StoredEntry


class ScheduleError(ValueError):
    """A time or time zone a server admin typed cannot be used; says why."""


def parse_time(text: str) -> time:
    """ "HH:MM" in 24-hour form."""
    try:
        hours, minutes = text.strip().split(":")
        if len(minutes) != 2:
            raise ValueError
        return time(int(hours), int(minutes))
    except ValueError:
        raise ScheduleError(f"time must be HH:MM in 24-hour form, e.g. 09:00 (got {text[:20]!r})") from None


# "UTC+2", "gmt-5", "+05:30", "UTC+0530": an offset east (+) or west (-) of UTC, as people write it
# (not as "Etc/GMT+2" does, which is UTC-2)
_OFFSET = re.compile(r"(?:utc|gmt)?\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?", re.IGNORECASE)


def parse_zone(name: str) -> tzinfo:
    name = name.strip()
    if name.upper() in {"UTC", "Z", "GMT"}:
        return timezone.utc
    offset = _OFFSET.fullmatch(name)
    if offset is not None:
        sign, hours, minutes = offset.group(1), int(offset.group(2)), int(offset.group(3) or 0)
        if hours > 14 or minutes not in (0, 15, 30, 45) or (hours == 14 and minutes):
            raise ScheduleError(f"{name[:20]!r} is no UTC offset: they run from UTC-12 to UTC+14")
        delta = timedelta(hours=hours, minutes=minutes) * (1 if sign == "+" else -1)
        if not delta:
            return timezone.utc
        return timezone(delta, f"UTC{sign}{hours:02d}:{minutes:02d}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "America" is a folder, a long name too long
        raise ScheduleError(
            f"unknown time zone {name[:40]!r}: use an IANA name such as Europe/Berlin or America/New_York"
        ) from None


def zone_name(name: str) -> str:
    """The name a zone is stored and shown by: "utc", "Z" and "GMT" are all UTC ("09:00 Z" read oddly,
    and a zone spelt two ways keyed a server's days twice)."""
    zone = parse_zone(name)
    if zone is timezone.utc:
        return "UTC"
    return zone.tzname(None) if isinstance(zone, timezone) else name.strip()  # an offset as "UTC+05:30"


def shuffled_cycle(terms: list[str], seed: str) -> list[str]:
    """A fresh order of all terms for one cycle; deterministic for a seed."""
    order = sorted(terms)
    random.Random(seed).shuffle(order)
    return order


def renamed_in_place(order: list[str], known: set[str], name_now) -> list[str]:
    """A cycle's `order` with each term the glossary renamed since under its new name, in its place:
    taken for a new entry, a renamed term already shown came up a second time in the cycle. A name
    `name_now` (old name → current one, or None) cannot follow, or whose new name the order holds
    already (two entries merged), stays as it was and is skipped as gone."""
    out, present = [], set(order)
    for term in order:
        now = name_now(term) if term not in known else None
        if now is not None and now not in present:
            present.add(now)
            term = now
        out.append(term)
    return out


def with_new_terms(order: list[str], position: int, terms: list[str], seed: str) -> list[str]:
    """A cycle's `order` with the `terms` it lacks (entries added to the glossary since it was
    made) at random places from `position` on, among the terms not shown yet: a new entry gets its
    day in this cycle, not after it (up to a cycle's length, ~2 years), and the terms already
    shown keep their places. Deterministic for a seed."""
    new = sorted(set(terms).difference(order))
    if not new or position >= len(order):  # nothing left of this cycle: the next one has every term
        return order
    rng, order = random.Random(seed), list(order)
    for term in new:
        order.insert(rng.randint(position, len(order)), term)
    return order


# A definition shorter than this is a stub ("ABA — Articulated-Body Algorithm — O(n) forward
# dynamics for rigid-body chains"): a thin post for a whole day, so it is no term of the day (as
# it is no quiz question: quiz.MIN_DEFINITION_CHARS).
DAILY_MIN_CHARS = 80


def daily_entries(entries: Mapping[int, StoredEntry]) -> list[int]:
    """The entries that may be a term of the day: all but stubs (all, if the glossary is nothing else)."""
    worth = [entry_id for entry_id, entry in entries.items() if len(entry.definition) >= DAILY_MIN_CHARS]
    return worth or list(entries)


def term_of_the_day(entry_ids: Iterable[int], day: date) -> int:
    """One entry id per calendar day, the same for everyone (the console, and /today
    in a DM; servers keep their own order in the state DB).

    Entry ids are shuffled with a seed per cycle of len(ids) days and day N of
    the cycle gets the Nth id, so no term repeats until every term has had its day.
    """
    ids = sorted(set(entry_ids))
    if not ids:
        raise ValueError("the glossary has no entries")
    cycle, position = divmod(day.toordinal(), len(ids))
    order = shuffled_cycle([str(i) for i in ids], f"glossary-bot term of the day {cycle}")
    return int(order[position])


@dataclass(frozen=True)
class Schedule:
    at: time
    zone: tzinfo

    def local_day(self, now: datetime) -> date:
        return now.astimezone(self.zone).date()

    def is_due(self, now: datetime, last_posted_day: date | None, last_posted_at: datetime | None = None) -> bool:
        """Due once the local posting time has passed, if nothing was posted today here.

        When the last post went out (`last_posted_at`) says whether that was today here: its
        `last_posted_day` is a date in the zone in force when it was posted, which may be another.
        Moved east, a post dated yesterday may have gone out today here; moved west, a post dated
        today went out yesterday here (Tokyo's 2 June is 1 June in Los Angeles), and its date
        alone would skip a day. The date decides only for a post from before posts were timed,
        and for one timed after `now` (the clock was set back).
        """
        local = now.astimezone(self.zone)
        if last_posted_at is not None and last_posted_at <= now:
            posted_today = last_posted_at.astimezone(self.zone).date() >= local.date()
        else:
            posted_today = last_posted_day is not None and last_posted_day >= local.date()
        return not posted_today and local.time() >= self.at
