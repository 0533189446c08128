from datetime import date, datetime, timedelta, timezone

import pytest

from bot.glossary.daily import Schedule, ScheduleError, parse_time, parse_zone, shuffled_cycle
from bot.state import StateError, StateStore

TERMS = [f"term {i}" for i in range(5)]


def test_config_round_trip_and_validation(store):
    assert store.config(1).daily_enabled is False
    store.update_config(1, study_channels=(10, 11), daily_channel_id=12, daily_time="7:05",
                        timezone="Europe/Berlin", daily_enabled=True)
    cfg = store.config(1)
    assert cfg.study_channels == (10, 11) and cfg.daily_time == "07:05" and cfg.daily_enabled
    with pytest.raises(ScheduleError):
        store.update_config(1, daily_time="25:99")
    with pytest.raises(ScheduleError):
        store.update_config(1, timezone="Mars/Olympus")
    assert store.config(1) == cfg  # a rejected change stores nothing


@pytest.mark.parametrize("typed", ["utc", "Z", " gmt ", "UTC"])
def test_utc_however_typed_is_stored_as_utc(store, typed):
    # stored as typed, /glossary config show read "09:00 Z", and a zone spelt two ways keyed days twice
    assert store.update_config(1, timezone=typed).timezone == "UTC"
    assert store.config(1).timezone == "UTC"
    assert store.update_config(1, timezone=" Europe/Berlin ").timezone == "Europe/Berlin"


def test_every_term_once_per_cycle_then_a_new_cycle(store):
    start = date(2026, 1, 1)
    first = [store.term_for_day(1, start + timedelta(days=i), TERMS) for i in range(5)]
    assert sorted(first) == sorted(TERMS)
    second = [store.term_for_day(1, start + timedelta(days=5 + i), TERMS) for i in range(5)]
    assert sorted(second) == sorted(TERMS)


def test_an_entry_added_mid_cycle_has_its_day_in_that_cycle_and_shown_days_keep_theirs(store):
    terms, start = [f"term {i:02}" for i in range(20)], date(2026, 1, 1)
    shown = [store.term_for_day(1, start + timedelta(days=i), terms) for i in range(3)]
    grown = sorted([*terms, "added later", "also added"])  # the keepers add entries and rebuild
    rest = [store.term_for_day(1, start + timedelta(days=i), grown) for i in range(3, len(grown))]
    assert sorted(shown + rest) == grown  # this cycle still shows every term once, the new ones too
    assert [store.term_for_day(1, start + timedelta(days=i), grown) for i in range(3)] == shown
    after = [store.term_for_day(1, start + timedelta(days=i), grown) for i in range(len(grown), 2 * len(grown))]
    assert sorted(after) == grown  # then a whole new cycle


def test_an_entry_renamed_mid_cycle_keeps_its_place_and_is_not_shown_twice(store):
    terms, start = [f"term {i:02}" for i in range(20)], date(2026, 1, 1)
    shown = [store.term_for_day(1, start + timedelta(days=i), terms) for i in range(5)]
    # the keepers rename one entry already shown and one not yet, keeping the old names as aliases
    unshown = next(t for t in terms if t not in shown)
    renames = {shown[1]: "renamed shown", unshown: "renamed unshown"}
    current = sorted(renames.get(t, t) for t in terms)
    name_now = {**{t: t for t in current}, **renames}.get
    rest = [store.term_for_day(1, start + timedelta(days=i), current, term_now=name_now)
            for i in range(5, len(terms))]
    # every entry has one day in the cycle, by whichever name: the renamed one shown is not shown again
    assert sorted(renames.get(t, t) for t in shown + rest) == current
    assert "renamed shown" not in rest and "renamed unshown" in rest


def test_one_post_per_day_even_across_restarts(state_target):
    day = date(2026, 1, 1)
    store = StateStore(state_target)
    today = store.term_for_day(1, day, TERMS)  # /today before the post reserves the same term
    assert store.claim_daily_post(1, day, TERMS) == today
    store.close()
    restarted = StateStore(state_target)
    assert restarted.claim_daily_post(1, day, TERMS) is None
    assert restarted.last_claimed_day(1) == day
    restarted.finish_daily_post(1, day, error="missing permission: Send Messages")
    assert restarted.config(1).last_error.startswith("missing permission")
    assert restarted.posts(1) == [("2026-01-01", today, "failed")]


def test_schedule_is_due_once_after_the_local_time():
    schedule = Schedule(parse_time("09:00"), parse_zone("Europe/Berlin"))
    before = datetime(2026, 6, 1, 6, 59, tzinfo=timezone.utc)  # 08:59 in Berlin (UTC+2)
    after = datetime(2026, 6, 1, 7, 0, tzinfo=timezone.utc)
    assert not schedule.is_due(before, None)
    assert schedule.is_due(after, None)
    assert schedule.is_due(after + timedelta(hours=10), date(2026, 5, 31))  # catch up after downtime
    assert not schedule.is_due(after, schedule.local_day(after))


def test_a_changed_time_zone_gets_no_second_post_the_same_local_day(store):
    posted_at = datetime(2026, 6, 1, 16, 0, tzinfo=timezone.utc)  # 09:00 in Los Angeles
    los_angeles = Schedule(parse_time("09:00"), parse_zone("America/Los_Angeles"))
    day = los_angeles.local_day(posted_at)
    store.claim_daily_post(1, day, TERMS, at=posted_at)
    assert store.last_claim(1) == (day, posted_at)
    tokyo = Schedule(parse_time("09:00"), parse_zone("Asia/Tokyo"))  # 01:00 on 2 June there
    nine_in_tokyo = datetime(2026, 6, 2, 0, 0, tzinfo=timezone.utc)
    assert not tokyo.is_due(nine_in_tokyo, *store.last_claim(1))  # the 2nd had its post, at 01:00
    assert tokyo.is_due(nine_in_tokyo + timedelta(days=1), *store.last_claim(1))
    assert tokyo.is_due(nine_in_tokyo, day, None)  # a post from before claims were timed: the day alone
    assert tokyo.is_due(nine_in_tokyo, day, nine_in_tokyo + timedelta(days=30))  # the clock was set back


def test_shuffle_is_deterministic_per_seed():
    assert shuffled_cycle(TERMS, "a") == shuffled_cycle(TERMS, "a")
    assert sorted(shuffled_cycle(TERMS, "b")) == sorted(TERMS)


def test_unusable_state_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "state.db"
    bad.write_bytes(b"not a database" * 100)
    with pytest.raises(StateError, match="GLOSSARY_STATE_DB"):
        StateStore(bad)


def test_a_post_left_half_done_by_a_crash_is_reported_not_resent(state_target):
    day = date(2026, 1, 1)
    crashed = StateStore(state_target)
    crashed.update_config(1, daily_channel_id=12, daily_enabled=True)
    term = crashed.claim_daily_post(1, day, TERMS)  # claimed, then the process died mid-send
    crashed.claim_daily_post(2, day, TERMS)
    crashed.finish_daily_post(2, day)  # another server's post went out fine
    crashed.close()

    restarted = StateStore(state_target)
    assert restarted.recover_interrupted_posts() == [(1, day)]
    assert restarted.posts(1) == [("2026-01-01", term, "failed")]
    assert restarted.posts(2)[0][2] == "posted" and restarted.config(2).last_error is None
    assert "2026-01-01" in restarted.config(1).last_error and "may not have appeared" in restarted.config(1).last_error
    assert restarted.config(1).daily_channel_id == 12 and restarted.config(1).daily_enabled  # settings kept
    assert restarted.claim_daily_post(1, day, TERMS) is None  # still at most one post that day
    assert restarted.recover_interrupted_posts() == []
    restarted.close()


def test_two_processes_racing_for_a_days_post_claim_it_once(state_target):
    """Two stores on one database (two bot processes that disagree about who owns a server)
    claim the same day at the same moment: exactly one gets it."""
    import threading

    stores = [StateStore(state_target), StateStore(state_target)]
    won: list[str | None] = []
    start = threading.Barrier(2)

    def claim(store):
        start.wait()
        won.append(store.claim_daily_post(7, date(2026, 1, 2), TERMS))

    threads = [threading.Thread(target=claim, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for s in stores:
        s.close()
    assert len(won) == 2 and won.count(None) == 1 and set(won) - {None} <= set(TERMS)


def test_a_post_discord_refused_goes_out_once_after_an_admins_fix(store):
    """QA6 M2: after a 403 or a deleted channel, the admin's fix sends that day's term once;
    a post interrupted mid-send (it may have appeared) is never sent again."""
    day = date(2026, 1, 1)
    store.update_config(1, daily_channel_id=12, daily_enabled=True)
    term = store.claim_daily_post(1, day, TERMS)
    assert store.daily_failure(1, day) is None and not store.retry_daily_post(1, day)  # still sending
    store.finish_daily_post(1, day, error="not posted: Missing Permissions", not_sent=True)
    assert store.daily_failure(1, day) is True and store.config(1).last_error

    assert store.retry_daily_post(1, day)
    assert store.config(1).last_error is None  # the admin's fix: the error no longer applies
    assert not store.retry_daily_post(1, day)  # reopened once, not twice
    assert store.last_claimed_day(1) is None  # due again
    assert store.claim_daily_post(1, day, TERMS) == term  # the same term
    assert store.claim_daily_post(1, day, TERMS) is None
    store.finish_daily_post(1, day)
    assert store.posts(1) == [("2026-01-01", term, "posted")]
    assert store.daily_failure(1, day) is None and not store.retry_daily_post(1, day)  # posted: done for the day
    assert store.claim_daily_post(1, day, TERMS) is None

    # failed again after the retry: another fix may retry again, it is still not posted
    other = date(2026, 1, 2)
    store.claim_daily_post(1, other, TERMS)
    store.finish_daily_post(1, other, error="not posted: Unknown Channel", not_sent=True)
    assert store.retry_daily_post(1, other)
    store.claim_daily_post(1, other, TERMS)
    store.finish_daily_post(1, other, error="not posted: Missing Access", not_sent=True)
    assert store.retry_daily_post(1, other)

    # a failure that may have reached Discord (a server error, or interrupted) stays done
    for guild, unsure in ((2, "server error"), (3, None)):
        store.claim_daily_post(guild, day, TERMS)
        if unsure:
            store.finish_daily_post(guild, day, error="Discord answered 503")
        else:
            assert store.recover_interrupted_posts({3}) == [(3, day)]
        assert store.daily_failure(guild, day) is False
        assert not store.retry_daily_post(guild, day)
        assert store.claim_daily_post(guild, day, TERMS) is None


def test_a_post_in_doubt_is_settled_once_by_what_the_channel_shows(store):
    """A post that may have appeared is settled by the channel's messages: found, it is posted;
    surely missing, it is reopened with its term for one more send. Either clears its error, and
    a post not in doubt (posted, refused, or settled already) is left alone."""
    day = date(2026, 1, 1)
    for guild in (1, 2):
        store.update_config(guild, daily_channel_id=12, daily_enabled=True)
    appeared = store.claim_daily_post(1, day, TERMS, channel_id=12)
    store.finish_daily_post(1, day, error="Discord answered 503")
    missing = store.claim_daily_post(2, day, TERMS)  # (a claim of an earlier release: no channel)
    assert store.recover_interrupted_posts({2}) == [(2, day)]
    assert store.post_in_doubt(1, day)[1] == 12 and store.post_in_doubt(2, day)[1] is None

    assert store.settle_post_in_doubt(1, day, appeared=True)
    assert store.posts(1) == [("2026-01-01", appeared, "posted")] and store.config(1).last_error is None
    assert store.settle_post_in_doubt(2, day, appeared=False)
    assert store.config(2).last_error is None and store.last_claimed_day(2) is None  # due again
    for guild in (1, 2):
        assert store.post_in_doubt(guild, day) is None
        assert not store.settle_post_in_doubt(guild, day, appeared=False)  # once
    assert store.claim_daily_post(1, day, TERMS) is None
    assert store.claim_daily_post(2, day, TERMS) == missing  # the same term, once
    assert store.claim_daily_post(2, day, TERMS) is None

    refused = date(2026, 1, 2)
    store.claim_daily_post(1, refused, TERMS)
    store.finish_daily_post(1, refused, error="not posted: Missing Access", not_sent=True)
    assert store.post_in_doubt(1, refused) is None and not store.settle_post_in_doubt(1, refused, appeared=True)


def test_the_champion_roles_error_is_its_own_and_outlives_the_term_of_the_day(store):
    """QA53 B2: a champion role that could not be given is kept apart from the term of the day's
    last error: a good post, a failed one or an admin's fix of the daily post leaves it, and it
    leaves theirs."""
    day = date(2026, 4, 1)
    store.update_config(1, daily_channel_id=12, daily_enabled=True, champion_role_id=7,
                        champion_error="not given for 2026-03: the role was deleted")
    store.claim_daily_post(1, day, TERMS)
    store.finish_daily_post(1, day, error="not posted: Missing Permissions", not_sent=True)
    assert store.config(1).champion_error == "not given for 2026-03: the role was deleted"
    assert store.config(1).last_error == "not posted: Missing Permissions"
    assert store.retry_daily_post(1, day)
    store.claim_daily_post(1, day, TERMS)
    store.finish_daily_post(1, day)
    config = store.config(1)
    assert config.last_error is None and config.champion_error == "not given for 2026-03: the role was deleted"


def test_a_reserved_term_the_keepers_removed_before_its_post_gives_the_day_to_the_next_term(store):
    terms, day = [f"term {i:02}" for i in range(10)], date(2026, 1, 1)
    reserved = store.term_for_day(1, day, terms)  # /today in the morning
    left = [t for t in terms if t != reserved]  # the entry is removed and the glossary rebuilt
    name_now = {t: t for t in left}.get
    posted = store.claim_daily_post(1, day, left, term_now=name_now)
    assert posted in left  # not the removed term, whose post could only fail, and fail again on a retry
    assert store.term_for_day(1, day, left, term_now=name_now) == posted  # /today now shows it too
    # a term only renamed is followed, not replaced (its old name kept as an alias)
    other = store.term_for_day(1, day + timedelta(days=1), left)
    renamed = [f"{t} (new)" if t == other else t for t in left]
    follows = {**{t: t for t in renamed}, other: f"{other} (new)"}.get
    assert store.claim_daily_post(1, day + timedelta(days=1), renamed, term_now=follows) == other


def test_a_month_is_claimed_for_its_champion_once(store):
    store.update_config(1, champion_role_id=7)
    assert store.claim_champion_month(1, "2026-03")
    assert not store.claim_champion_month(1, "2026-03")  # a second process, or a second tick
    assert store.claim_champion_month(1, "2026-04")
    # review 54: months are the server's zone's, so "last month" can go back (crowned in UTC's month
    # before an upgrade, a zone moved west): the month before is not crowned again
    assert not store.claim_champion_month(1, "2026-03")
    assert store.config(1).champion_month == "2026-04"
