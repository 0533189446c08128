"""Spaced review: a card's memory state, moved by a rating, as FSRS schedules it.

FSRS (the `fsrs` package) decides when a card is next due from how well it was
recalled; we only keep its state in the database and map our buttons onto its ratings.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import fsrs

RATINGS = {"again": fsrs.Rating.Again, "hard": fsrs.Rating.Hard, "good": fsrs.Rating.Good, "easy": fsrs.Rating.Easy}
RATING_NAMES = {int(rating): name for name, rating in RATINGS.items()}
LEARNING, REVIEW, RELEARNING = (int(s) for s in (fsrs.State.Learning, fsrs.State.Review, fsrs.State.Relearning))
_SCHEDULER = fsrs.Scheduler()  # default parameters, 90% desired retention, fuzzed intervals


@dataclass(frozen=True)
class Card:
    card_id: int
    user_id: int
    term: str
    fsrs_state: int = LEARNING
    step: int | None = 0
    stability: float | None = None
    difficulty: float | None = None
    due: datetime | None = None
    last_review: datetime | None = None
    reviews: int = 0
    lapses: int = 0

    @property
    def learned(self) -> bool:
        """Past the learning steps: FSRS now spaces it by days."""
        return self.fsrs_state == REVIEW


def rate(card: Card, rating: str, now: datetime) -> Card:
    """The card after being reviewed at `now` with `rating` (again, hard, good or easy)."""
    before = fsrs.Card(card_id=card.card_id, state=fsrs.State(card.fsrs_state), step=card.step,
                       stability=card.stability, difficulty=card.difficulty, due=card.due or now,
                       last_review=card.last_review)
    after, _log = _SCHEDULER.review_card(before, RATINGS[rating], review_datetime=now)
    lapsed = rating == "again" and card.fsrs_state == REVIEW
    return replace(card, fsrs_state=int(after.state), step=after.step, stability=after.stability,
                   difficulty=after.difficulty, due=after.due, last_review=after.last_review,
                   reviews=card.reviews + 1, lapses=card.lapses + lapsed)


def describe_wait(delta: timedelta) -> str:
    """"in 10 minutes", "in 3 days": when the next review is."""
    seconds = max(0, int(delta.total_seconds()))
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            n = round(seconds / size)
            return f"in {n} {unit}{'s' if n != 1 else ''}"
    return "now"
