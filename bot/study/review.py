"""Spaced review: a card's memory state, moved by a rating, as FSRS schedules it.

FSRS (the `fsrs` package) decides when a card is next due from how well it was
recalled; we only keep its state in the database and map our buttons onto its ratings.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from random import Random

import fsrs

RATINGS = {"again": fsrs.Rating.Again, "hard": fsrs.Rating.Hard, "good": fsrs.Rating.Good, "easy": fsrs.Rating.Easy}
RATING_NAMES = {int(rating): name for name, rating in RATINGS.items()}
LEARNING, REVIEW, RELEARNING = (int(s) for s in (fsrs.State.Learning, fsrs.State.Review, fsrs.State.Relearning))
# Default parameters, 90% desired retention. FSRS's own fuzz draws a new random spread on every
# call, so the wait a button promised ("Easy · 7 days") and the one a press gave (9 days) differed:
# the spread here is drawn from the card and its review count, the same for preview and press.
_SCHEDULER = fsrs.Scheduler(enable_fuzzing=False)
FUZZ_FROM_DAYS = 2.5  # shorter waits are kept as FSRS gives them
FUZZ_SHARE = 0.05     # longer ones move by up to 5% either way (at least a day), so cards added together spread out
# A learned card's waits are whole days, so it is shown from this long before it is due, and a
# Hard, Good or Easy in that time counts as given on time: a learner who comes back at about the
# same hour each day, a few minutes earlier than yesterday, finds it waiting instead of having the
# wait doubled by a day (Anki counts such waits in days for the same reason).
EARLY = timedelta(hours=6)


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
    if card.fsrs_state == REVIEW and rating != "again":
        # from its due time when shown early (FSRS would read less than a day as a same-day review);
        # a lapse counts from now, so its relearning step is minutes from now, not from the due time
        now = max(now, card.due) if card.due and card.due - now <= EARLY else now
    after = _reviewed(card, rating, now)
    if card.fsrs_state == REVIEW and rating != "again":
        after.due = _in_order(card, now)[rating]
    elif card.fsrs_state == RELEARNING and rating == "easy":
        after.due = _easy_past_good(card, now, after.due)
    lapsed = rating == "again" and card.fsrs_state == REVIEW
    return replace(card, fsrs_state=int(after.state), step=after.step, stability=after.stability,
                   difficulty=after.difficulty, due=after.due, last_review=after.last_review,
                   reviews=card.reviews + 1, lapses=card.lapses + lapsed)


def shown_from(due: datetime, fsrs_state: int) -> datetime:
    """When a card due at `due` is first shown (and counted as due)."""
    return due - EARLY if fsrs_state == REVIEW else due


def _reviewed(card: Card, rating: str, now: datetime) -> fsrs.Card:
    before = fsrs.Card(card_id=card.card_id, state=fsrs.State(card.fsrs_state), step=card.step,
                       stability=card.stability, difficulty=card.difficulty, due=card.due or now,
                       last_review=card.last_review)
    after, _log = _SCHEDULER.review_card(before, RATINGS[rating], review_datetime=now)
    after.due = _spread(after.due, now, card)
    return after


def _in_order(card: Card, now: datetime) -> dict[str, datetime]:
    """Hard, Good and Easy on a learned card at least a day apart, as Anki keeps FSRS's waits: after
    a lapse FSRS can give all three the same day, and "Hard · 1 day / Good · 1 day / Easy · 1 day"
    offers no choice. Waits on a learned card are whole days."""
    hard, good, easy = ((_reviewed(card, r, now).due - now) / timedelta(days=1) for r in ("hard", "good", "easy"))
    good = max(good, hard + 1)
    easy = max(easy, good + 1)
    cap = _SCHEDULER.maximum_interval
    return {name: now + timedelta(days=min(days, cap)) for name, days in (("hard", hard), ("good", good),
                                                                          ("easy", easy))}


def _easy_past_good(card: Card, now: datetime, easy: datetime) -> datetime:
    """Easy on a relearning card a day past Good, when Good brings it back in days: a card forgotten
    twice offered "Good · 1 day / Easy · 1 day" (QA72). Again and Hard stay minute steps there."""
    good = _reviewed(card, "good", now).due
    if good - now < timedelta(days=1) or easy - good >= timedelta(days=1):
        return easy
    return min(good + timedelta(days=1), now + timedelta(days=_SCHEDULER.maximum_interval))


def _spread(due: datetime, now: datetime, card: Card) -> datetime:
    days = (due - now).total_seconds() / 86400
    if days < FUZZ_FROM_DAYS:
        return due
    reach = max(1, round(days * FUZZ_SHARE))
    spread = due + timedelta(days=Random(f"{card.card_id}:{card.reviews}").randint(-reach, reach))
    return min(spread, now + timedelta(days=_SCHEDULER.maximum_interval))  # FSRS's own cap, spread or not


def describe_wait(delta: timedelta) -> str:
    """"in 10 minutes", "in 3 days", "in about 4 months": when the next review is. Rounded half up to whole seconds first:
    a wait read a few milliseconds after it was set ("again": 59.998 s) is still the minute the
    button promised, and "hard"'s 5.5 minutes are "6 minutes" both on the button and after it. A
    wait of a few seconds is "in under a minute", not "now": beside "Due now: 0", now is not yet."""
    seconds = max(0, int(delta.total_seconds() + 0.5))
    days = seconds / 86400
    if days >= 60:  # "in 3224 days" says less than "in about 9 years"
        n, unit = (round(days / 365.25), "year") if days >= 365.25 * 1.5 else (round(days / 30.44), "month")
        return f"in about {n} {unit}{'s' if n != 1 else ''}"
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            n = int(seconds / size + 0.5)
            return f"in {n} {unit}{'s' if n != 1 else ''}"
    return "in under a minute" if seconds else "now"
