"""FSRS review through our Card: learning steps, then days; "again" brings a card back soon."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.study import review

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_good_moves_a_new_card_through_learning_to_days() -> None:
    card = review.Card(1, 7, "Attention", due=START)
    first = review.rate(card, "good", START)
    assert first.fsrs_state == review.LEARNING and timedelta(minutes=5) <= first.due - START <= timedelta(minutes=15)
    second = review.rate(first, "good", first.due)
    assert second.learned and second.due - first.due >= timedelta(days=1)
    assert second.reviews == 2 and second.lapses == 0


def test_again_on_a_learned_card_is_a_lapse_due_within_minutes() -> None:
    card = review.rate(review.rate(review.Card(1, 7, "LoRA", due=START), "good", START), "good",
                       START + timedelta(minutes=10))
    later = card.due
    forgot = review.rate(card, "again", later)
    assert forgot.fsrs_state == review.RELEARNING and forgot.lapses == 1
    assert forgot.due - later <= timedelta(minutes=15)
    assert forgot.stability < card.stability


def test_easy_spaces_further_than_hard() -> None:
    card = review.Card(1, 7, "Dropout", due=START)
    assert review.rate(card, "easy", START).due > review.rate(card, "hard", START).due


def test_waits_are_said_in_words() -> None:
    assert review.describe_wait(timedelta(minutes=10)) == "in 10 minutes"
    assert review.describe_wait(timedelta(days=1)) == "in 1 day"
    assert review.describe_wait(timedelta(seconds=-5)) == "now"
    assert review.describe_wait(timedelta(days=59)) == "in 59 days"
    assert review.describe_wait(timedelta(days=122)) == "in about 4 months"
    assert review.describe_wait(timedelta(days=3224)) == "in about 9 years"
    assert review.describe_wait(timedelta(seconds=0.2)) == "now"
    assert review.describe_wait(timedelta(seconds=21)) == "in under a minute"  # was "now" beside "Due now: 0"
    # read a moment after it was set, a wait is still what the button said
    assert review.describe_wait(timedelta(seconds=59.998)) == "in 1 minute"
    assert review.describe_wait(timedelta(minutes=5.5)) == review.describe_wait(timedelta(minutes=5.5, seconds=-0.01))
    assert review.describe_wait(timedelta(minutes=5.5)) == "in 6 minutes"


def _learned(card_id: int) -> review.Card:
    card = review.rate(review.Card(card_id, 7, "Dropout", due=START), "good", START)
    return review.rate(card, "good", card.due)


def test_the_wait_a_button_promises_is_the_wait_a_press_gives() -> None:
    card = _learned(3)
    now = card.due
    for rating in review.RATINGS:
        previews = {review.rate(card, rating, now).due for _ in range(20)}
        assert len(previews) == 1, rating


def test_cards_learned_together_do_not_all_come_back_the_same_day() -> None:
    cards = [_learned(card_id) for card_id in range(1, 41)]
    easy = [review.rate(card, "easy", card.due) for card in cards]
    waits = {(after.due - card.due).days for card, after in zip(cards, easy)}
    assert min(waits) >= 3 and len(waits) > 1


def test_a_long_run_of_goods_never_schedules_past_fsrss_maximum_interval() -> None:
    # the 5% spread was added after FSRS's 36,500-day cap: eleven Goods could give 37,573 days
    card, now = review.Card(1, 7, "Dropout", due=START), START
    for _ in range(30):
        card = review.rate(card, "good", now)
        assert card.due - now <= timedelta(days=review._SCHEDULER.maximum_interval)
        now = card.due


def test_hard_good_and_easy_on_a_learned_card_are_at_least_a_day_apart() -> None:
    # after a lapse FSRS can give all three the same day: "Hard · 1 day / Good · 1 day / Easy · 1 day"
    import random

    rng = random.Random(3)
    for n in range(300):
        card, now = review.Card(n, 7, "Dropout", due=START), START
        for _ in range(rng.randint(2, 12)):
            card = review.rate(card, rng.choice(["again", "hard", "good", "good", "easy"]), now)
            now = card.due + timedelta(hours=rng.randint(0, 72))
        if not card.learned:
            continue
        days = [(review.rate(card, r, now).due - now) / timedelta(days=1) for r in ("hard", "good", "easy")]
        if days[2] < review._SCHEDULER.maximum_interval:  # 100 years away, all three may meet there
            assert days[0] + 1 <= days[1] and days[1] + 1 <= days[2], (n, days)


def test_easy_on_a_card_forgotten_again_and_again_is_a_day_past_good() -> None:
    """QA72: after a second lapse a relearning card offered "Good · 1 day / Easy · 1 day"."""
    card, now = review.Card(1, 7, "LoRA", due=START), START
    for rating in ("good", "good", "good"):
        card = review.rate(card, rating, now)
        now = card.due
    for lapse in range(6):
        card = review.rate(card, "again", now)
        now = card.due
        assert card.fsrs_state == review.RELEARNING
        good, easy = (review.rate(card, r, now).due - now for r in ("good", "easy"))
        if good >= timedelta(days=1):
            assert easy - good >= timedelta(days=1), (lapse, good, easy)
        assert review.rate(card, "again", now).due - now < timedelta(hours=1)  # minute steps stay


def test_a_learned_card_rated_a_little_early_is_scheduled_as_if_on_time() -> None:
    """Waits of learned cards are days: a learner back five minutes earlier than yesterday must not
    be read as reviewing the same day (FSRS's short-term update), nor have the next wait start early."""
    card = _learned(11)
    on_time = review.rate(card, "good", card.due)
    early = review.rate(card, "good", card.due - timedelta(minutes=5))
    assert (early.due, early.stability, early.difficulty) == (on_time.due, on_time.stability, on_time.difficulty)
    assert review.shown_from(card.due, card.fsrs_state) < card.due - timedelta(minutes=5)


def test_a_lapse_shown_early_comes_back_minutes_from_now_not_from_its_due_time() -> None:
    card = _learned(12)
    now = card.due - timedelta(hours=4)
    forgot = review.rate(card, "again", now)
    assert forgot.fsrs_state == review.RELEARNING and forgot.due - now <= timedelta(minutes=15)


def test_only_learned_cards_are_shown_before_they_are_due() -> None:
    learning = review.rate(review.Card(13, 7, "Dropout", due=START), "good", START)
    assert review.shown_from(learning.due, learning.fsrs_state) == learning.due
