"""Study records on each backend (real SQLite and PostgreSQL, conftest.py): review decks, answers scored once, boards,
reminders claimed once a day, rounds, and forgetting a user completely."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.state import StateStore
from bot.state.asked import Asked
from bot.state.db import now_text
from bot.state.study import REMINDER_HOURS, REMINDER_QUIET, STOPPED, USER_TABLES, RoundQuestion

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def test_a_deck_gets_each_term_once_and_serves_due_cards_oldest_first(store) -> None:
    study = store.study
    assert study.add_card(1, "Attention", NOW) and not study.add_card(1, "Attention", NOW)
    assert study.add_card(1, "LoRA", NOW + timedelta(seconds=1))
    assert study.next_due(1, NOW + timedelta(seconds=5)).term == "Attention"
    assert study.next_due(1, NOW + timedelta(seconds=5), skip=frozenset({"Attention"})).term == "LoRA"
    assert study.next_due(2, NOW + timedelta(seconds=5)) is None


def test_a_rating_counts_once_and_only_for_the_cards_owner(store) -> None:
    study = store.study
    study.add_card(1, "Attention", NOW)
    card = study.next_due(1, NOW)
    assert study.rate(card.card_id, 2, 0, "good", NOW) is None  # someone else's card
    rated = study.rate(card.card_id, 1, 0, "good", NOW, guild_id=9)
    assert rated is not None and rated.reviews == 1 and rated.due > NOW
    assert study.rate(card.card_id, 1, 0, "easy", NOW) is None  # the same click again
    assert study.next_due(1, NOW) is None and study.next_due(1, rated.due).term == "Attention"
    stats = study.deck_stats(1, NOW)
    # a new card's first rating is a learning step, not a test of memory: not in the recall figure
    assert (stats.cards, stats.due_now, stats.due_today, stats.reviews_30d, stats.retention_30d) == (1, 0, 1, 0, None)
    assert study.stats(9, 1, NOW).current_streak == 1  # a review makes the day count


def test_a_click_in_another_process_meanwhile_is_the_only_rating_applied(postgres_server, monkeypatch) -> None:
    """/review open in two servers served by two processes, Good clicked in both at once: on
    PostgreSQL both transactions may read the card before either writes (SQLite's BEGIN IMMEDIATE
    lets only one in at a time). The other process's rating lands between this one's read and write."""
    import bot.state.study as study_module

    url = postgres_server.create_database("rate_race")
    one, two = StateStore(url), StateStore(url)
    try:
        one.study.add_card(1, "Attention", NOW)
        card = one.study.next_due(1, NOW)
        real_rate, other = study_module.review.rate, []

        def other_click_first(card_, rating, now):  # this process has read the card, not written it
            monkeypatch.setattr(study_module.review, "rate", real_rate)
            other.append(two.study.rate(card.card_id, 1, 0, "good", NOW, 222))
            return real_rate(card_, rating, now)

        monkeypatch.setattr(study_module.review, "rate", other_click_first)
        assert one.study.rate(card.card_id, 1, 0, "good", NOW, 111) is None
        assert other[0] is not None and other[0].reviews == 1
        assert one.db.query("SELECT count(*) FROM review_log WHERE user_id = 1")[0][0] == 1
        assert one.study.card(card.card_id).reviews == 1
    finally:
        one.close()
        two.close()


def test_answers_score_once_and_make_the_boards(store) -> None:
    study = store.study
    assert study.record_answer(5, 1, "solo:x", True, 5, NOW)
    assert not study.record_answer(5, 1, "solo:x", True, 5, NOW)
    study.record_answer(5, 2, "solo:x", True, 5, NOW)
    study.record_answer(5, 2, "solo:y", True, 5, NOW + timedelta(minutes=1))
    study.record_answer(5, 1, "solo:old", True, 50, datetime(2026, 10, 3, tzinfo=UTC))
    study.record_answer(6, 3, "solo:x", True, 99, NOW)  # another server
    month = [(r.user_id, r.points) for r in study.leaderboard(5, "2026-11")]
    assert month == [(2, 10), (1, 5)]
    assert [(r.user_id, r.points) for r in study.leaderboard(5, None)] == [(1, 55), (2, 10)]
    stats = study.stats(5, 1, NOW)
    assert (stats.points, stats.month_points, stats.correct, stats.answered) == (55, 5, 2, 2)
    assert (stats.current_streak, stats.best_streak) == (1, 1)


def test_reminders_go_once_a_day_to_opted_in_users_with_due_cards(store) -> None:
    study = store.study
    for user in (1, 2, 3):
        study.add_card(user, "Attention", NOW - REMINDER_QUIET)
    study.set_reminder(1, True)
    study.set_reminder(2, True)
    study.set_reminder(2, False)
    study.set_reminder(4, True)  # nothing due
    assert study.claim_reminders(NOW) == [(1, 1)]
    assert study.claim_reminders(NOW + timedelta(hours=3)) == []
    assert study.claim_reminders(NOW + timedelta(days=1)) == [(1, 1)]


def test_no_reminder_while_a_user_reviews_or_adds_cards_nor_just_after(state_target) -> None:
    store = StateStore(state_target)
    study = store.study
    study.set_reminder(1, True)
    study.add_card(1, "Attention", NOW)
    assert study.claim_reminders(NOW + timedelta(minutes=1)) == []  # just added, due at once
    rated = study.rate(study.next_due(1, NOW).card_id, 1, 0, "again", NOW + timedelta(minutes=30))
    assert rated.due - rated.last_review < REMINDER_QUIET  # a learning step: due again in a minute
    assert study.claim_reminders(rated.due) == []
    assert study.claim_reminders(rated.last_review + REMINDER_QUIET - timedelta(seconds=1)) == []
    store.close()
    # a restart: what is stored says when alice last reviewed; after the quiet hour, the card still due
    store = StateStore(state_target)
    try:
        assert store.study.claim_reminders(rated.last_review + REMINDER_QUIET) == [(1, 1)]
    finally:
        store.close()


def test_two_reminders_never_come_in_quick_succession_across_midnight(store) -> None:
    study = store.study
    late = datetime(2026, 11, 20, 23, 30, tzinfo=UTC)
    study.set_reminder(1, True)
    study.add_card(1, "Attention", late - REMINDER_QUIET)
    assert study.claim_reminders(late) == [(1, 1)]
    assert study.claim_reminders(late + timedelta(hours=1)) == []  # a new UTC day, an hour later
    assert study.claim_reminders(late + timedelta(hours=23, minutes=59)) == []
    assert study.claim_reminders(late + timedelta(days=1)) == [(1, 1)]


def test_a_refused_reminder_turns_reminders_off_until_the_user_turns_them_on(store) -> None:
    """Discord refused the DM for good (the user's DMs are closed): no more tries, and the user's
    next /review command is told, once; /review remind tells them itself."""
    study = store.study
    study.add_card(1, "Attention", NOW - REMINDER_QUIET)
    study.set_reminder(1, True)
    assert not study.take_refusal(1)  # nothing refused: nothing to say (and nothing written)
    assert study.claim_reminders(NOW) == [(1, 1)]
    assert study.reminder_refused(1, NOW)
    assert not study.reminder_enabled(1)
    assert study.claim_reminders(NOW + timedelta(days=2)) == []
    assert study.take_refusal(1) and not study.take_refusal(1)  # told once
    assert not study.set_reminder(1, True)  # already told
    assert study.claim_reminders(NOW + timedelta(days=3)) == [(1, 1)]

    assert study.reminder_refused(1, NOW + timedelta(days=3))
    assert study.set_reminder(1, True)  # /review remind on, not yet told: its reply tells
    assert not study.take_refusal(1) and study.reminder_enabled(1)
    study.set_reminder(1, False)
    assert not study.reminder_refused(1, NOW + timedelta(days=4))  # turned off meanwhile: nothing to tell
    assert not study.take_refusal(1) and not study.reminder_enabled(1)


def test_one_running_round_per_channel(store) -> None:
    study = store.study
    questions = [RoundQuestion("term", "A", ("B", "A", "C", "D"))]
    first = study.start_round(5, 50, 1, questions, 30, NOW)
    assert first is not None and first.question.correct == 1
    assert study.start_round(5, 50, 2, questions, 30, NOW) is None
    study.end_round(first.round_id)
    assert study.start_round(5, 50, 2, questions, 30, NOW) is not None


def test_a_round_is_stopped_once_and_stays_running_until_its_driver_ends_it(store) -> None:
    study = store.study
    questions = [RoundQuestion("term", "A", ("B", "A", "C", "D"))]
    first = study.start_round(5, 50, 1, questions, 30, NOW)
    assert first.stopped_by is None and study.running_round_in(50).round_id == first.round_id
    assert study.running_round_in(51) is None
    assert study.stop_round(first.round_id, 7)
    assert not study.stop_round(first.round_id, 8)  # a second stop (a double click, another moderator)
    # still running, so that a restart resumes it to post its summary, and still the channel's one round
    assert [(r.round_id, r.stopped_by) for r in study.running_rounds()] == [(first.round_id, 7)]
    assert study.start_round(5, 50, 2, questions, 30, NOW) is None
    study.end_round(first.round_id, STOPPED)
    assert study.running_round_in(50) is None and not study.stop_round(first.round_id, 7)
    assert study.round(first.round_id).status == STOPPED


def test_forgetting_a_user_removes_every_row_of_theirs_and_nobody_elses(store) -> None:
    study = store.study
    for user in (1, 2):
        study.add_card(user, "Attention", NOW)
        card = study.next_due(user, NOW)
        study.rate(card.card_id, user, 0, "good", NOW, guild_id=5)
        study.set_reminder(user, True)
        study.reminder_refused(user, NOW)  # a DM refused: reminders off, the user yet to be told
        study.record_answer(5, user, "solo:x", True, 5, NOW)
        study.set_zone(user, "Asia/Tokyo")
        store.asked.save(100 + user, Asked(("what is lora", False), NOW.timestamp(), True, None, None, author_id=user),
                         expires=NOW.timestamp() + 300, now=NOW.timestamp())
    round_ = study.start_round(5, 50, 1, [RoundQuestion("term", "A", ("A", "B", "C", "D"))], 30, NOW)
    study.stop_round(round_.round_id, 1)
    store.update_config(5, champion_user_id=1)

    assert study.forget_user(1) > 0
    db = store.db
    for table, column in USER_TABLES:
        assert db.query(f"SELECT count(*) FROM {table} WHERE {column} = 1")[0][0] == 0, table
        assert db.query(f"SELECT count(*) FROM {table} WHERE {column} = 2")[0][0] > 0, table
    stopped = study.round(round_.round_id)
    assert (stopped.started_by, stopped.stopped_by) == (0, 0) and store.config(5).champion_user_id is None
    assert not study.take_refusal(1) and study.take_refusal(2)


# A stand-in for the glossary as it is after a rebuild: "Low-rank adaptation" was renamed "LoRA"
# (the old name kept as an alias), "Phlogiston" was dropped; every other name is still an entry's.
GLOSSARY_NOW = {"Low-rank adaptation": "LoRA", "Phlogiston": None}


def name_now(term: str) -> str | None:
    return GLOSSARY_NOW.get(term, term)


def test_settling_a_deck_follows_renamed_terms_and_sets_aside_the_rest(store) -> None:
    study = store.study
    for term in ("Attention", "Low-rank adaptation", "Phlogiston"):
        study.add_card(1, term, NOW)
    renamed = study.next_due(1, NOW, skip=frozenset({"Attention", "Phlogiston"}))
    rated = study.rate(renamed.card_id, 1, 0, "good", NOW)
    for term in ("LoRA", "Low-rank adaptation"):  # user 2 already has the new name's card
        study.add_card(2, term, NOW)

    assert study.settle_deck(1, name_now) == {"Phlogiston": None}
    assert study.deck_terms(1) == ["Attention", "LoRA", "Phlogiston"]  # nothing deleted
    followed = study.card(renamed.card_id)
    assert followed.term == "LoRA" and (followed.reviews, followed.due) == (1, rated.due)  # its schedule kept
    assert study.settle_deck(2, name_now) == {"Low-rank adaptation": "LoRA"}
    assert study.deck_terms(2) == ["LoRA", "Low-rank adaptation"]
    assert study.settle_deck(1, name_now) == {"Phlogiston": None}  # settling again changes nothing

    # a stranded card is neither served nor counted
    later = NOW + timedelta(days=30)
    skip = frozenset({"Phlogiston"})
    stats = study.deck_stats(1, later, skip)
    assert (stats.cards, stats.due_now, stats.due_today) == (2, 2, 2)
    assert study.deck_stats(1, later).cards == 3
    first = study.next_due(1, later, skip)
    second = study.next_due(1, later, skip | {first.term})
    assert {first.term, second.term} == {"Attention", "LoRA"}
    assert study.next_due(1, later, skip | {first.term, second.term}) is None


def test_reminders_count_what_review_start_would_show(store) -> None:
    study = store.study
    before = NOW - REMINDER_QUIET
    study.add_card(1, "Phlogiston", before)  # user 1: only a card whose term left the glossary
    study.add_card(2, "Low-rank adaptation", before)  # user 2: a renamed term
    study.add_card(2, "Phlogiston", before)
    for term in ("LoRA", "Low-rank adaptation", "Attention"):  # user 3: the old and the new name
        study.add_card(3, term, before)
    for user in (1, 2, 3):
        study.set_reminder(user, True)

    assert study.claim_reminders(NOW, name_now) == [(2, 1), (3, 2)]
    assert study.deck_terms(2) == ["LoRA", "Phlogiston"]  # followed for the reminder, as /review start would
    assert study.deck_terms(3) == ["Attention", "LoRA", "Low-rank adaptation"]
    assert study.settle_deck(3, name_now) == {"Low-rank adaptation": "LoRA"}


def _learned_card(study, user_id: int, term: str, at: datetime):
    """A card added at `at` and rated Good through its learning steps: learned, due in days."""
    study.add_card(user_id, term, at)
    card = study.next_due(user_id, at)
    while not card.learned:
        card = study.rate(card.card_id, user_id, card.reviews, "good", max(at, card.due))
    return card


def test_a_learner_back_at_about_the_same_hour_finds_a_learned_card_waiting(store) -> None:
    """Rated Good at 20:05 for "1 day" and back at 20:00 the next day: the card is there, counted
    as due everywhere (review start, stats, reminders), not "next card due in 5 minutes"."""
    study = store.study
    evening = datetime(2026, 11, 20, 20, 5, tzinfo=UTC)
    card = _learned_card(study, 1, "Attention", evening)
    back = card.due - timedelta(minutes=5)
    assert study.next_due(1, back).term == "Attention"
    stats = study.deck_stats(1, back)
    assert (stats.due_now, stats.due_today) == (1, 1)
    study.set_reminder(1, True)
    assert study.claim_reminders(back) == [(1, 1)]
    # well before its day it is not due, and stats say when it will be
    before = card.due - timedelta(hours=12)
    assert study.next_due(1, before) is None
    stats = study.deck_stats(1, before)
    assert stats.due_now == 0 and before < stats.next_due <= back
    # rated Good a little early, it is scheduled as if on time: the next wait is days, not hours
    rated = study.rate(card.card_id, 1, card.reviews, "good", back)
    assert rated.due - card.due >= timedelta(days=1)


def test_recall_counts_ratings_of_learned_cards_only(store) -> None:
    """'Again' on a card seen for the first time a minute ago is not forgetting it: "Recalled (30
    days)" is the share of learned cards' ratings that were not Again, as Anki's retention is."""
    study = store.study
    card = _learned_card(study, 1, "Attention", NOW)
    study.add_card(1, "LoRA", NOW)
    new = study.next_due(1, NOW, skip=frozenset({"Attention"}))
    study.rate(new.card_id, 1, 0, "again", NOW)
    assert study.deck_stats(1, NOW).reviews_30d == 0
    study.rate(card.card_id, 1, card.reviews, "again", card.due)
    stats = study.deck_stats(1, card.due)
    assert (stats.reviews_30d, stats.retention_30d) == (1, 0.0)


def test_ratings_logged_before_the_learned_flag_still_count(store) -> None:
    """A rating logged before V14 is of an unknown state: counted, as it was when it was made."""
    with store.db.transaction() as conn:
        conn.execute("INSERT INTO review_log (user_id, guild_id, term, rating, reviewed_at) VALUES (?, ?, ?, ?, ?)",
                     [1, 0, "Attention", 3, now_text(NOW)])
    stats = store.study.deck_stats(1, NOW + timedelta(days=1))
    assert (stats.reviews_30d, stats.retention_30d) == (1, 1.0)


# -- a user's own time zone ----------------------------------------------------------------------------

# 06:30 UTC on 21 November: still the 20th in Los Angeles (22:30), already evening in Tokyo (15:30)
EARLY_UTC = datetime(2026, 11, 21, 6, 30, tzinfo=UTC)


def test_a_users_days_are_their_zones_else_their_servers_else_utc(store) -> None:
    study = store.study
    assert study.day_zone(1, 5)[0] == "UTC" and study.own_zone(1) is None
    store.update_config(5, timezone="Europe/Berlin")
    assert study.day_zone(1, 5)[0] == "Europe/Berlin" and study.day_zone(1, 0)[0] == "UTC"  # a DM: no server
    study.set_zone(1, "America/Los_Angeles")
    assert study.day_zone(1, 5)[0] == study.day_zone(1, 0)[0] == study.own_zone(1) == "America/Los_Angeles"
    study.set_zone(1, "Asia/Tokyo")  # changed, not added
    assert study.own_zone(1) == "Asia/Tokyo" and study.day_zone(2, 5)[0] == "Europe/Berlin"
    study.set_zone(1, None)
    assert study.own_zone(1) is None and study.day_zone(1, 5)[0] == "Europe/Berlin"


def test_a_zone_this_machine_does_not_know_reads_as_the_next_one_down(store) -> None:
    """A name stored under a newer tz database than this machine's is no reason to fail a review."""
    store.update_config(5, timezone="Europe/Berlin")
    store.study.set_zone(1, "Mars/Olympus_Mons")
    assert store.study.day_zone(1, 5)[0] == "Europe/Berlin" and store.study.day_zone(1, 0)[0] == "UTC"


def test_an_evening_streak_west_of_utc_counts_one_day_an_evening(store) -> None:
    """Quizzing at 17:30 in Los Angeles is 01:30 UTC the next day: by UTC dates the evenings of
    Monday and Tuesday (answered at 17:30 and at 15:00 on Tuesday, before UTC midnight) were
    one day, and the streak broke although the learner came every evening."""
    study = store.study
    study.set_zone(1, "America/Los_Angeles")
    monday_evening = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)   # Monday 17:30 there
    tuesday_evening = datetime(2026, 11, 24, 23, 0, tzinfo=UTC)  # Tuesday 15:00 there
    study.record_answer(5, 1, "solo:a", True, 5, monday_evening)
    study.record_answer(5, 1, "solo:b", True, 5, tuesday_evening)
    stats = study.stats(5, 1, tuesday_evening)
    assert (stats.current_streak, stats.best_streak, stats.day_zone) == (2, 2, "America/Los_Angeles")
    # the same answers by someone without a zone (nor a server zone): one UTC date, 24 November
    study.record_answer(5, 2, "solo:a", True, 5, monday_evening)
    study.record_answer(5, 2, "solo:b", True, 5, tuesday_evening)
    assert study.stats(5, 2, tuesday_evening).current_streak == 1


def test_the_days_scored_private_questions_are_counted_in_the_users_day(store) -> None:
    study = store.study
    study.set_zone(1, "America/Los_Angeles")
    study.record_answer(5, 1, "solo:late", True, 5, EARLY_UTC)  # 22:30 on the 20th there
    study.record_answer(5, 1, "solo:round", True, 5, EARLY_UTC)  # the same answer twice counts once
    study.record_answer(5, 1, "daily:x", True, 5, EARLY_UTC)  # not a private question
    assert study.solo_answers_today(5, 1, EARLY_UTC) == 2
    next_morning = datetime(2026, 11, 21, 17, 0, tzinfo=UTC)  # 09:00 on the 21st there: a new day
    assert study.solo_answers_today(5, 1, next_morning) == 0
    assert study.solo_answers_today(6, 1, EARLY_UTC) == 0  # another server's count is its own
    # by UTC dates the morning is the same day as the answers (both 21 November)
    assert study.solo_answers_today(5, 2, EARLY_UTC) == 0
    study.record_answer(5, 2, "solo:late", True, 5, EARLY_UTC)
    assert study.solo_answers_today(5, 2, next_morning) == 1


def test_due_today_ends_at_the_users_midnight(store) -> None:
    study = store.study
    study.add_card(1, "Attention", datetime(2026, 11, 22, 3, 0, tzinfo=UTC))  # 19:00 on the 21st in LA
    late_utc = datetime(2026, 11, 21, 23, 0, tzinfo=UTC)  # 15:00 in LA, 08:00 on the 22nd in Tokyo
    for zone, due_today in (("America/Los_Angeles", 1), ("Asia/Tokyo", 1), (None, 0)):
        study.set_zone(1, zone)
        assert study.deck_stats(1, late_utc).due_today == due_today, zone
    study.set_zone(1, "America/Los_Angeles")
    assert study.deck_stats(1, EARLY_UTC).due_today == 0  # 22:30 on the 20th there: due tomorrow


def test_reminders_wait_for_the_users_daytime_when_they_set_a_zone(store) -> None:
    study = store.study
    for user in (1, 2, 3):
        study.add_card(user, "Attention", NOW - timedelta(days=2))
        study.set_reminder(user, True)
    study.set_zone(1, "Asia/Tokyo")           # 15:30 there: day
    study.set_zone(2, "America/Los_Angeles")  # 22:30 there: night
    claimed = dict(study.claim_reminders(EARLY_UTC))
    assert sorted(claimed) == [1, 3]  # no zone (3): nobody knows when their night is
    assert 22 not in REMINDER_HOURS and 8 in REMINDER_HOURS
    morning = datetime(2026, 11, 21, 16, 0, tzinfo=UTC)  # 08:00 in Los Angeles
    assert dict(study.claim_reminders(morning)) == {2: 1}  # kept for the morning, and sent once
    assert study.claim_reminders(morning + timedelta(hours=1)) == []


def test_a_zone_this_machine_does_not_know_reminds_as_no_zone_does(store) -> None:
    """A zone stored by a machine with newer tzdata: its night is unknown here, so the 24-hour rule,
    not UTC's daytime."""
    study = store.study
    study.add_card(1, "Attention", NOW - timedelta(days=2))
    study.set_reminder(1, True)
    with store.db.transaction() as conn:
        conn.execute("INSERT INTO user_zones (user_id, zone) VALUES (1, 'Mars/Olympus_Mons')")
    night_utc = datetime(2026, 11, 21, 23, 30, tzinfo=UTC)
    assert dict(study.claim_reminders(night_utc)) == {1: 1}
    assert study.claim_reminders(night_utc + timedelta(hours=23)) == []
    assert dict(study.claim_reminders(night_utc + timedelta(hours=24))) == {1: 1}


def test_changing_zones_does_not_renew_the_days_scored_private_questions(store) -> None:
    """A new zone's day starts a count of its own; hopping east hour by hour once scored 20 more an hour."""
    study = store.study
    start = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
    for i in range(20):  # the day's cap, in UTC's day
        study.record_answer(5, 1, f"solo:{i}", True, 5, start + timedelta(minutes=i))
    assert not study.may_score_solo(5, 1, start + timedelta(minutes=30))
    study.set_zone(1, "Pacific/Kiritimati")  # +14: its 2 July began at 10:00 UTC
    hop = datetime(2026, 7, 1, 10, 5, tzinfo=UTC)
    assert study.may_score_solo(5, 1, hop)  # a new day there: a new day's questions, once
    for i in range(20):
        study.record_answer(5, 1, f"solo:k{i}", True, 5, hop + timedelta(minutes=i))
    study.set_zone(1, "Pacific/Apia")  # +13: its 2 July began at 11:00 UTC
    later = datetime(2026, 7, 1, 11, 5, tzinfo=UTC)
    assert study.solo_answers_today(5, 1, later) == 0 and not study.may_score_solo(5, 1, later)
    assert study.may_score_solo(5, 1, start + timedelta(days=1, minutes=30))  # 24 hours on


def test_a_servers_months_turn_at_its_own_midnight(store) -> None:
    """QA72: a New York server's board said "November" at 20:00 on 31 October, and an evening's
    points counted for the wrong month: its months are its zone's, as its days are."""
    study = store.study
    store.update_config(5, timezone="America/New_York")
    study.record_answer(5, 1, "solo:a", True, 5, datetime(2026, 10, 31, 23, 30, tzinfo=UTC))  # 19:30 there
    study.record_answer(5, 2, "solo:b", True, 5, datetime(2026, 11, 1, 0, 30, tzinfo=UTC))  # 20:30 on the 31st
    study.record_answer(5, 2, "solo:c", True, 5, datetime(2026, 11, 1, 0, 31, tzinfo=UTC))
    study.record_answer(5, 1, "solo:d", True, 5, datetime(2026, 12, 1, 4, 59, tzinfo=UTC))  # 23:59 on 30 Nov
    evening = datetime(2026, 11, 1, 0, 32, tzinfo=UTC)
    assert study.month_now(5, evening) == "2026-10" and study.month_now(6, evening) == "2026-11"  # 6: UTC
    assert [(r.user_id, r.points) for r in study.leaderboard(5, "2026-10")] == [(2, 10), (1, 5)]
    assert [(r.user_id, r.points) for r in study.leaderboard(5, "2026-11")] == [(1, 5)]
    assert study.stats(5, 2, evening).month_points == 10
    assert study.stats(5, 2, datetime(2026, 11, 1, 4, 0, tzinfo=UTC)).month_points == 0  # 00:00 there


def test_an_evenings_practice_past_the_days_questions_leaves_the_next_day_its_own(store) -> None:
    """QA72: 20 scored and 20 practice answers one evening filled the 24-hour bound, and the next
    morning's questions were "used up" until the evening: the bound counts answers that scored."""
    study = store.study
    evening = datetime(2026, 3, 10, 19, 0, tzinfo=UTC)
    for i in range(40):
        scored = study.may_score_solo(5, 1, evening + timedelta(minutes=i))
        assert scored == (i < 20)
        study.record_answer(5, 1, f"solo:{i}", True, 5 if scored else 0, evening + timedelta(minutes=i))
    assert study.may_score_solo(5, 1, datetime(2026, 3, 11, 8, 0, tzinfo=UTC))


def test_a_daily_reminder_comes_on_the_day_the_clocks_spring_forward(store) -> None:
    """Berlin, Saturday 28 March 2026, a reminder at 21:30: 24 hours later it is 22:30 on a 23-hour
    Sunday, night; a user with a zone gets one reminder a local date instead."""
    study = store.study
    study.add_card(1, "Attention", datetime(2026, 3, 1, tzinfo=UTC))
    study.set_reminder(1, True)
    study.set_zone(1, "Europe/Berlin")
    assert study.claim_reminders(datetime(2026, 3, 28, 20, 30, tzinfo=UTC)) == [(1, 1)]  # 21:30 CET
    assert study.claim_reminders(datetime(2026, 3, 28, 20, 45, tzinfo=UTC)) == []  # once a date
    sunday = [datetime(2026, 3, 29, 6, 0, tzinfo=UTC) + timedelta(minutes=m) for m in range(0, 16 * 60, 5)]
    sent = [t for t in sunday if study.claim_reminders(t)]
    assert sent == [datetime(2026, 3, 29, 6, 0, tzinfo=UTC)]  # 08:00 CEST, and only then


def test_a_streak_reads_alike_before_and_after_the_learner_sets_a_zone(store) -> None:
    """Days are dates in the learner's zone, history too: moving east, yesterday's date there had no
    row and the streak read 0; a day filled in from a zone far west is gone again with the zone."""
    study = store.study
    study.set_zone(1, "America/Los_Angeles")
    for day in range(1, 6):  # 10:00 on 1 … 5 July in Los Angeles
        study.record_answer(5, 1, f"solo:{day}", True, 5, datetime(2026, 7, day, 17, 0, tzinfo=UTC))
    evening = datetime(2026, 7, 7, 3, 0, tzinfo=UTC)  # 20:00 on 6 July there, noon on 7 July in Tokyo
    assert study.stats(5, 1, evening).current_streak == 5
    study.set_zone(1, "Asia/Tokyo")
    assert study.stats(5, 1, evening).current_streak == 5
    # a missed 2 July, "filled in" on 3 July at 06:00 UTC from UTC-12 (still 2 July there)
    study.set_zone(2, None)
    study.record_answer(5, 2, "solo:1", True, 5, datetime(2026, 7, 1, 12, 0, tzinfo=UTC))
    study.set_zone(2, "UTC-12:00")
    study.record_answer(5, 2, "solo:2", True, 5, datetime(2026, 7, 3, 6, 0, tzinfo=UTC))
    study.set_zone(2, None)
    study.record_answer(5, 2, "solo:3", True, 5, datetime(2026, 7, 3, 7, 0, tzinfo=UTC))
    assert study.stats(5, 2, datetime(2026, 7, 3, 7, 0, tzinfo=UTC)).current_streak == 1


def test_a_server_moving_its_zone_never_cuts_a_members_streak(store) -> None:
    """An admin's new server zone adds the new zone's dates of the answers of members without a zone
    of their own, beside the days kept: re-dated whole, an answer at 23:30 UTC moved to the next day
    in Berlin and emptied its day, and a streak of 4 read 2 (QA64). A member with a zone of their own,
    and other servers, keep their days."""
    study = store.study
    store.update_config(5, timezone="UTC")
    study.set_zone(2, "America/Los_Angeles")
    for when in (datetime(2026, 7, 1, 8, 0, tzinfo=UTC), datetime(2026, 7, 2, 23, 30, tzinfo=UTC),
                 datetime(2026, 7, 3, 8, 0, tzinfo=UTC), datetime(2026, 7, 4, 8, 0, tzinfo=UTC)):
        for user in (1, 2):
            study.record_answer(5, user, f"solo:{when.isoformat()}", True, 5, when)
    study.record_answer(6, 1, "solo:1", True, 5, datetime(2026, 7, 2, 23, 30, tzinfo=UTC))  # another server
    evening = datetime(2026, 7, 4, 18, 0, tzinfo=UTC)
    before = study.stats(5, 1, evening)
    assert (before.current_streak, before.best_streak) == (4, 4)
    own = {day for (day,) in store.db.query("SELECT day FROM active_days WHERE guild_id = 5 AND user_id = 2")}
    store.update_config(5, timezone="Europe/Berlin")
    after = study.stats(5, 1, evening)
    assert after.current_streak >= 4 and after.best_streak >= 4
    assert {day for (day,) in store.db.query("SELECT day FROM active_days WHERE guild_id = 5 AND user_id = 2")} == own
    assert {day for (day,) in store.db.query("SELECT day FROM active_days WHERE guild_id = 6")} == {"2026-07-02"}
    # moving east: yesterday there, which the UTC dates lacked, is a day too
    store.update_config(5, timezone="Asia/Tokyo")
    assert study.stats(5, 1, datetime(2026, 7, 5, 3, 0, tzinfo=UTC)).current_streak >= 4  # noon on 5 July there
    kept = {day for (day,) in store.db.query("SELECT day FROM active_days WHERE guild_id = 5 AND user_id = 1")}
    store.update_config(5, daily_time="10:00")  # no zone change: nothing re-dated
    assert {day for (day,) in store.db.query("SELECT day FROM active_days WHERE guild_id = 5 AND user_id = 1")} == kept


def _days_of(store, guild_id: int, user_id: int) -> set[str]:
    return {day for (day,) in store.db.query("SELECT day FROM active_days WHERE guild_id = ? AND user_id = ?",
                                             [guild_id, user_id])}


@pytest.mark.parametrize("change", ["server", "own"])
def test_an_answer_in_flight_during_a_zone_change_is_dated_in_the_new_zone_too(state_target, monkeypatch,
                                                                                 change) -> None:
    """Two processes: a member's answer at 23:30 UTC on 5 July has written its rows but not committed
    when the zone moves to Tokyo (the server's, or the member's own), where it is 6 July. Either the
    change waits for the answer and re-dates it, or the answer reads the new zone: on PostgreSQL
    the answer kept only 5 July (QA64). SQLite's one writer puts the two in order by itself."""
    import threading

    import bot.state.study as study_module

    answering, changing = StateStore(state_target), StateStore(state_target)
    written, release, errors = threading.Event(), threading.Event(), []
    mark_active = study_module._mark_active

    def held(conn, guild_id, user_id, now):
        mark_active(conn, guild_id, user_id, now)
        if threading.current_thread().name == "answering":
            written.set()
            release.wait(20)

    def run(work):
        try:
            work()
        except Exception as exc:  # reported below, with what the other side did
            errors.append(exc)

    monkeypatch.setattr(study_module, "_mark_active", held)
    at = datetime(2026, 7, 5, 23, 30, tzinfo=UTC)
    move = (lambda: changing.update_config(5, timezone="Asia/Tokyo")) if change == "server" else (
        lambda: changing.study.set_zone(1, "Asia/Tokyo"))
    try:
        answer = threading.Thread(name="answering", target=run,
                                  args=(lambda: answering.study.record_answer(5, 1, "solo:1", True, 5, at),))
        answer.start()
        assert written.wait(20)
        admin = threading.Thread(target=run, args=(move,))
        admin.start()
        admin.join(0.5)  # waiting for the answer, or (SQLite) for the one write lock
        release.set()
        answer.join(20)
        admin.join(20)
        assert not errors, errors
        assert "2026-07-06" in _days_of(answering, 5, 1)
    finally:
        release.set()
        answering.close()
        changing.close()
