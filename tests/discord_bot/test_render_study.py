"""Study-mode messages stay within Discord's limits and ping nobody, whatever the glossary
and the users are called; their custom ids parse back to what they carry."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.discord_bot import render, render_study
from bot.state.study import BoardRow, DeckStats, Round, RoundQuestion, UserStats
from bot.study import review

from .test_render import check_embed, check_view, entry

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
texts = st.text(min_size=1, max_size=400)


@settings(max_examples=60, deadline=None)
@given(term=texts, definition=st.text(max_size=9000), card_id=st.integers(1, 10**12),
       reviews=st.integers(0, 10**6))
def test_review_cards_render_within_limits_and_their_ids_parse(term, definition, card_id, reviews) -> None:
    card = review.Card(card_id, 1, term, due=NOW, reviews=reviews)
    embed, view = render_study.card_front(card, 3)
    check_embed(embed)
    check_view(view)
    assert render_study.parse_review_id(view.children[0].custom_id) == ("show", [str(card_id), str(reviews)])
    embed, view = render_study.card_back(card, entry(term, definition or "x"), NOW)
    check_embed(embed)
    check_view(view)
    assert [render_study.parse_review_id(b.custom_id)[1][2] for b in view.children] == list(review.RATINGS)
    check_embed(render_study.all_done(DeckStats(2, 0, 1, 1, 4, 0.75, NOW + timedelta(days=3)), NOW, card))


def test_a_deck_with_nothing_due_says_what_keeps_the_streak() -> None:
    """QA72: a learner caught up with the deck, opening /review start daily, lost the streak unawares."""
    stats = DeckStats(2, 0, 1, 1, 4, 0.75, NOW + timedelta(days=3))
    assert "/quiz" in render_study.all_done(stats, NOW).description
    card = review.rate(review.Card(1, 7, "LoRA", due=NOW), "easy", NOW)
    assert "/quiz" not in render_study.all_done(stats, NOW, card).description  # a rating just made the day


@settings(max_examples=60, deadline=None)
@given(stranded=st.dictionaries(texts, st.none() | texts, max_size=40))
def test_set_aside_cards_are_named_within_limits(stranded) -> None:
    """However many cards a rebuilt glossary left stranded, and whatever they are called."""
    stats = DeckStats(len(stranded), 0, 0, 0, 0, None, None)
    embed = render_study.deck_embed(stats, stranded)
    check_embed(embed)
    done = render_study.all_done(stats, NOW, None, stranded)
    check_embed(done)
    if stranded:
        assert "/review stats" in done.description and embed.description
        assert len(render_study.stranded_lines(stranded, brief=True)) <= 2
    else:
        assert embed.description is None


@settings(max_examples=60, deadline=None)
@given(options=st.lists(texts, min_size=4, max_size=4, unique=True), text=st.text(max_size=9000),
       kind=st.sampled_from(["term", "meaning"]))
def test_round_questions_render_within_limits(options, text, kind) -> None:
    question = RoundQuestion(kind, options[2], tuple(options))
    quiz_round = Round(10**12, 1, 2, 3, (question,) * 20, 300, 19, None, NOW, "running")
    embed, view = render_study.round_question(quiz_round, text, options if kind == "term" else list("ABCD"))
    check_embed(embed)
    check_view(view)
    *answers, stop = view.children
    assert [render_study.parse_round_id(b.custom_id) for b in answers] == [(10**12, 19, pick) for pick in range(4)]
    assert render_study.parse_round_stop_id(stop.custom_id) == (10**12, render_study.STOP_ASK)
    assert render_study.parse_round_id(stop.custom_id) is None
    text, confirm = render_study.round_stop_confirmation(10**12)
    check_view(confirm)
    assert [render_study.parse_round_stop_id(b.custom_id) for b in confirm.children] == [
        (10**12, render_study.STOP_YES), (10**12, render_study.STOP_NO)]
    assert not any(render_study.parse_round_stop_id(b.custom_id) for b in answers)
    results = [(10**18 + i, i % 2 == 0, 10) for i in range(500)]
    check_embed(render_study.round_closed(quiz_round, results))
    check_embed(render_study.round_closed(replace(quiz_round, stopped_by=10**18), results))


def test_boards_and_stats_render_within_limits_and_mention_without_names() -> None:
    rows = [BoardRow(10**18 + i, 10**9, 10**6, 10**6) for i in range(10)]
    board = render_study.board_embed(rows, "2026-11")
    check_embed(board)
    assert board.title == "Leaderboard · November 2026" and board.description.startswith("🥇 <@")
    question = RoundQuestion("term", "A", ("A", "B", "C", "D"))
    finished = Round(10**12, 1, 2, 3, (question,) * 20, 300, 20, None, None, "running")
    check_embed(render_study.round_summary(rows * 50, finished))
    stopped = render_study.round_summary(rows * 50, replace(finished, position=7, stopped_by=10**18))
    check_embed(stopped)
    assert stopped.title == "Round stopped"
    assert stopped.description.startswith(f"Stopped by <@{10**18}> after question 7 of 20.")
    for forged in ("gloss:round:x:stop", "gloss:round:²:stop", f"gloss:round:{2**63}:stop", "gloss:round::stop",
                   "gloss:round:1:stop:yes", "gloss:round:1:stopped", "gloss:round:1:1:stop-yes"):
        assert render_study.parse_round_stop_id(forged) is None, forged
    assert render_study.parse_round_id(f"gloss:round:1:{2**64}:2") is None
    assert render_study.parse_round_id("gloss:round:1:²:2") is None
    check_embed(render_study.stats_embed("x" * 400, UserStats(1, 1, 1, 2, 3, 4), DeckStats(1, 1, 1, 0, 0, None, None)))
    # a display name is anyone's text: shown as typed, not as markup
    assert render_study.stats_embed("**Bob**_", UserStats(1, 1, 1, 2, 3, 4), None).title == \
        "Study stats: \\*\\*Bob\\*\\*\\_"
    assert render_study.parse_review_id("gloss:rev:rate:1:2:great") is None
    assert render_study.parse_round_id("gloss:round:1:x:2") is None


def test_equal_points_share_a_rank_on_the_board_and_say_so() -> None:
    """QA57: a tie read as one member beating the other."""
    rows = [BoardRow(1, 9, 3, 3), BoardRow(2, 5, 1, 1), BoardRow(3, 5, 1, 2), BoardRow(4, 3, 1, 1),
            BoardRow(5, 2, 1, 1), BoardRow(6, 2, 1, 1)]
    assert render_study.board_ranks(rows) == [1, 2, 2, 4, 5, 5]
    lines = render_study.board_embed(rows, None).description.splitlines()
    assert [line.split(" — ")[0] for line in lines] == ["🥇 <@1>", "🥈 <@2>", "🥈 <@3>", "4. <@4>", "5. <@5>", "5. <@6>"]
    assert [", tied" in line for line in lines] == [False, True, True, False, True, True]
    assert lines[1] == "🥈 <@2> — **5** points, tied (1 of 1 answer right)"


def test_a_big_rounds_summary_shows_whole_lines_and_says_how_many_more_played() -> None:
    """QA6 M1: 80 players cut off mid-line at "64.…", the other 16 unmentioned."""
    question = RoundQuestion("term", "A", ("A", "B", "C", "D"))
    finished = Round(10**12, 1, 2, 3, (question,) * 20, 300, 20, None, None, "running")
    for players, stopped_by in ((80, None), (80, 10**18), (200, None)):
        rows = [BoardRow(10**18 + i, 100 - i // 2, 1, 1 + i % 3) for i in range(players)]
        embed = render_study.round_summary(rows, replace(finished, position=7, stopped_by=stopped_by))
        check_embed(embed)
        lines = embed.description.splitlines()
        if stopped_by:
            assert lines[0].startswith(f"Stopped by <@{stopped_by}>") and lines[1] == ""
            lines = lines[2:]
        *shown, more = lines
        shown_count = len(shown)
        assert 0 < shown_count < players
        assert more == f"…and {players - shown_count} more players."
        # the best first, each line whole: its rank (two by two, as their points tie), its player, its points
        # and ratio
        assert shown == [f"{i // 2 * 2 + 1}. <@{row.user_id}> — **{row.points}** points, tied "
                         f"({render_study.answers_right(row)})" for i, row in enumerate(rows[:shown_count])]

    few = [BoardRow(10**18 + i, 10, 1, 1) for i in range(3)]
    assert "more" not in render_study.round_summary(few, finished).description

    results = [(10**18 + i, i % 5 != 0, 10) for i in range(500)]
    closed = render_study.round_closed(replace(finished, position=7), results)
    check_embed(closed)
    right = closed.description.splitlines()[1]
    names, _, more = right.removeprefix("Right: ").rpartition(" and ")
    shown = names.split(", ")
    assert more == f"{400 - len(shown)} more" and shown == [f"<@{10**18 + i}> +10" for i in range(500) if i % 5][:len(shown)]
    assert closed.description.splitlines()[2] == "Wrong: 100"


def test_review_and_page_ids_with_digits_int_refuses_are_not_ours() -> None:
    """A forged id with a digit Python calls a digit but int() refuses ("²"), or a number SQLite
    cannot hold, is no button of ours (it had logged a traceback and shown "Something went wrong")."""
    for forged in ("gloss:rev:show:²:0", "gloss:rev:show:1:²", f"gloss:rev:show:{2**63}:0", "gloss:rev:rate:²:0:good"):
        assert render_study.parse_review_id(forged) is None, forged
    assert render.parse_custom_id("gloss:page:²:Attention") is None
    assert render_study.parse_review_id("gloss:rev:show:12:3") == ("show", ["12", "3"])
