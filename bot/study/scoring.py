"""Quiz points, streaks and months: the rules the leaderboard and /stats show."""

from __future__ import annotations

from datetime import date, datetime, timedelta

#: a right answer to a private or daily quiz question
SOLO_POINTS = 5
#: private /quiz answers that score per user per server per day (more still count as practice)
SOLO_SCORED_PER_DAY = 20
#: a right answer in a channel round: ROUND_MIN_POINTS, plus up to ROUND_SPEED_POINTS for speed
ROUND_MIN_POINTS = 5
ROUND_SPEED_POINTS = 5


def round_points(correct: bool, elapsed: float, limit: float) -> int:
    """Faster scores more: the full speed bonus at once, none at the time limit."""
    if not correct:
        return 0
    left = min(max(limit - elapsed, 0.0), limit)
    return ROUND_MIN_POINTS + round(ROUND_SPEED_POINTS * left / limit)


def streaks(days: list[date], today: date) -> tuple[int, int]:
    """(current, best) runs of consecutive active days. The current run still counts
    when its last day is yesterday: today is not over yet."""
    best = run = 0
    previous: date | None = None
    for day in sorted(set(days)):
        run = run + 1 if previous is not None and day - previous == timedelta(days=1) else 1
        best = max(best, run)
        previous = day
    current = run if previous is not None and today - previous <= timedelta(days=1) else 0
    return current, best


def month_key(when: datetime | date) -> str:
    return f"{when.year:04d}-{when.month:02d}"


def previous_month(key: str) -> str:
    year, month = (int(part) for part in key.split("-"))
    return f"{year - (month == 1):04d}-{12 if month == 1 else month - 1:02d}"


def month_name(key: str) -> str:
    return date(int(key[:4]), int(key[5:7]), 1).strftime("%B %Y")
