"""Points and streaks: faster right answers score more, a streak survives until today ends."""

from __future__ import annotations

from datetime import date

from bot.study import scoring


def test_faster_right_answers_score_more_and_wrong_ones_nothing() -> None:
    fast, slow = scoring.round_points(True, 1.0, 30), scoring.round_points(True, 25.0, 30)
    assert fast > slow >= scoring.ROUND_MIN_POINTS
    assert scoring.round_points(True, 0, 30) == scoring.ROUND_MIN_POINTS + scoring.ROUND_SPEED_POINTS
    assert scoring.round_points(True, 99, 30) == scoring.ROUND_MIN_POINTS
    assert scoring.round_points(False, 1.0, 30) == 0


def test_streaks_count_consecutive_days_and_keep_yesterdays_run() -> None:
    days = [date(2026, 11, d) for d in (1, 2, 3, 10, 11)]
    assert scoring.streaks(days, date(2026, 11, 12)) == (2, 3)  # today not over yet
    assert scoring.streaks(days, date(2026, 11, 11)) == (2, 3)
    assert scoring.streaks(days, date(2026, 11, 13)) == (0, 3)
    assert scoring.streaks([], date(2026, 11, 13)) == (0, 0)


def test_months() -> None:
    assert scoring.previous_month("2026-01") == "2025-12" and scoring.previous_month("2026-12") == "2026-11"
    assert scoring.month_name("2026-11") == "November 2026"
