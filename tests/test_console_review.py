"""/review in the local console (bot/console_review.py), on the real index and a real state
database in a temporary directory, with a clock the tests move."""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import Settings
from bot.console import HELP, handle_line, run_console
from bot.console_review import EMPTY_DECK, USER_ID, ConsoleReview
from bot.state import StateStore
from bot.study import review
from tests.conftest import OpenedGlossary

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, when: datetime = START) -> None:
        self.when = when

    def __call__(self) -> datetime:
        return self.when

    def advance(self, **delta) -> None:
        self.when += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def state_path(tmp_path) -> Path:
    return tmp_path / "state.db"


@pytest.fixture
def rv(state_path, clock):
    session = ConsoleReview(state_path, now=clock)
    yield session
    session.close()


def say(searcher, rv: ConsoleReview, *lines: str) -> list[str]:
    return [handle_line(searcher, line, review=rv) for line in lines]


def the_card(rv: ConsoleReview, term: str) -> review.Card:
    rows = rv.store().db.query("SELECT card_id FROM review_cards WHERE user_id = ? AND term = ?", [USER_ID, term])
    assert rows, f"{term} is not in the deck"
    return rv.store().study.card(rows[0][0])


def review_one(searcher, rv: ConsoleReview, rating: str) -> str:
    """/review, Enter, rating: what the rating line answers."""
    front, back, rated = say(searcher, rv, "/review", "", rating)
    assert front.splitlines()[1].startswith("=") and "press Enter" in front
    assert "again / hard / good / easy (1-4)" in back
    return rated


# -- adding and removing --------------------------------------------------------------------


def test_add_stores_the_entrys_exact_term(searcher, rv):
    assert say(searcher, rv, "/review add attention")[0] == (
        "Added Attention to your review deck. /review shows your cards when they are due.")
    assert say(searcher, rv, "/review add ATTENTION")[0] == "Attention is already in your review deck."
    assert say(searcher, rv, "/review add attenton")[0] == "Attention is already in your review deck."  # misspelt
    assert say(searcher, rv, "/review add lora")[0].startswith("Added LoRA ")
    assert the_card(rv, "LoRA").reviews == 0


def test_add_refuses_what_the_glossary_does_not_have(searcher, rv):
    out = say(searcher, rv, "/review add what is the capital of France")[0]
    assert out == "The glossary has no entry “what is the capital of France”."
    assert rv.store().study.deck_stats(USER_ID, START).cards == 0
    assert say(searcher, rv, "/review add")[0] == "Usage: /review add <term>"


def test_remove_by_exact_name_or_by_what_names_the_entry(searcher, rv):
    say(searcher, rv, "/review add attention", "/review add lora")
    assert say(searcher, rv, "/review remove Attention")[0] == "Removed Attention from your review deck."
    assert say(searcher, rv, "/review remove lora")[0] == "Removed LoRA from your review deck."
    assert say(searcher, rv, "/review remove lora")[0] == "“lora” is not in your review deck."
    assert rv.store().study.deck_stats(USER_ID, START).cards == 0


def test_add_and_remove_find_a_card_kept_under_its_entrys_old_name(searcher, rv):
    # made before the keepers renamed LoRA (its old name, an alias now) and not reviewed since: adding
    # LoRA gave a second, fresh card and set the one with the history aside
    rv.store().study.add_card(USER_ID, "Low-Rank Adaptation", START)
    assert say(searcher, rv, "/review add lora")[0] == "LoRA is already in your review deck."
    assert rv.store().study.deck_terms(USER_ID) == ["LoRA"]
    assert say(searcher, rv, "/review remove lora")[0] == "Removed LoRA from your review deck."


def test_remove_finds_a_set_aside_card_typed_as_loosely_as_a_live_one(searcher, rv):
    """A card whose term left the glossary has no entry to name it: it is matched by its own name,
    in any case and spelling a lookup forgives (hyphens, punctuation, a plural), as /review remove
    matches a live term; two cards the text could mean are not guessed between."""
    study = rv.store().study
    for gone in ("Phlogiston", "Caloric-Theory", "Aether wind", "Aether-Wind"):
        assert searcher.index.entry_named(gone) is None and not searcher.names.exactly(gone)
        study.add_card(USER_ID, gone, START)
    assert "Phlogiston" in say(searcher, rv, "/review stats")[0]  # set aside, and named
    assert say(searcher, rv, "/review remove phlogiston")[0] == "Removed Phlogiston from your review deck."
    assert say(searcher, rv, "/review remove caloric theories")[0] == "Removed Caloric-Theory from your review deck."
    assert say(searcher, rv, "/review remove aether winds")[0] == "“aether winds” is not in your review deck."
    assert say(searcher, rv, "/review remove aether wind")[0] == "Removed Aether wind from your review deck."
    assert say(searcher, rv, "/review remove AETHER WIND")[0] == "Removed Aether-Wind from your review deck."
    assert study.deck_terms(USER_ID) == []


# -- reviewing --------------------------------------------------------------------------------


def test_an_empty_deck_says_how_to_add_cards(searcher, rv):
    out = say(searcher, rv, "/review")[0]
    assert out == EMPTY_DECK and "/review add <term>" in out
    assert rv.pending is None


def test_good_brings_a_new_card_back_in_ten_minutes(searcher, rv, clock):
    say(searcher, rv, "/review add attention")
    front, back = say(searcher, rv, "/review", "")
    assert front.splitlines()[0] == "Attention"  # the term first, not the definition
    assert "softmax" not in front and "(1 card due · spaced review)" in front
    assert back.startswith("Attention\n=========\n") and "softmax" in back
    assert "3 good: 10 minutes" in back and "1 again: 1 minute" in back

    rated = say(searcher, rv, "good")[0]
    assert rated.splitlines()[0] == "Attention comes back in 10 minutes."
    assert "All done: no cards due right now. Next card due in 10 minutes." in rated
    assert rv.pending is None
    card = the_card(rv, "Attention")
    assert card.reviews == 1 and card.due == START + timedelta(minutes=10)

    clock.advance(minutes=9, seconds=59)
    assert say(searcher, rv, "/review")[0].startswith("All done: no cards due right now.")
    assert rv.pending is None
    clock.advance(seconds=2)
    assert say(searcher, rv, "/review")[0].splitlines()[0] == "Attention"
    assert rv.pending is not None


def test_again_on_a_learned_card_sends_it_to_relearning(searcher, rv, clock):
    say(searcher, rv, "/review add attention")
    review_one(searcher, rv, "3")  # learning step 1, back in 10 minutes
    clock.advance(minutes=10)
    out = review_one(searcher, rv, "good")  # graduates: spaced by days now
    assert the_card(rv, "Attention").fsrs_state == review.REVIEW
    assert "comes back in" in out and "day" in out
    clock.when = the_card(rv, "Attention").due
    out = review_one(searcher, rv, "again")
    card = the_card(rv, "Attention")
    assert card.fsrs_state == review.RELEARNING and card.lapses == 1 and card.reviews == 3
    assert out.splitlines()[0] == "Attention comes back in 10 minutes."


def test_the_most_overdue_card_comes_first_and_rating_shows_the_next(searcher, rv, clock):
    say(searcher, rv, "/review add lora")
    clock.advance(seconds=1)
    say(searcher, rv, "/review add attention")
    out = review_one(searcher, rv, "hard")
    lines = out.splitlines()
    assert lines[0] == "LoRA comes back in 6 minutes."
    assert lines[2] == "Attention" and "(1 card due · spaced review)" in out
    assert rv.pending is not None and rv.pending.card.term == "Attention"


def test_stats_count_due_cards_learned_ones_and_recall(searcher, rv, clock):
    say(searcher, rv, "/review add attention", "/review add lora", "/review add rmsnorm")
    out = say(searcher, rv, "/review stats")[0]
    assert "Due now:            3" in out and "Due today:          3" in out
    assert "Cards:              3" in out and "Learned:            0" in out
    assert "Recalled (30 days): no learned card reviewed yet" in out

    review_one(searcher, rv, "easy")  # Attention: learned at once, due in days
    say(searcher, rv, "", "again")  # LoRA (shown after the rating): back in a minute
    stats = rv.store().study.deck_stats(USER_ID, clock())
    assert (stats.due_now, stats.due_today, stats.cards, stats.learned) == (1, 2, 3, 1)
    out = say(searcher, rv, "/review stats")[0]
    assert "Due now:            1" in out and "Due today:          2" in out
    assert "Cards:              3" in out and "Learned:            1" in out
    # both ratings were of new cards: a first "Again" says nothing yet of what the learner remembers
    assert "Recalled (30 days): no learned card reviewed yet" in out

    clock.advance(days=40)  # Attention is due again, learned: its rating counts, the others' never did
    say(searcher, rv, "/review remove lora", "/review remove rmsnorm")
    review_one(searcher, rv, "good")
    assert "Recalled (30 days): 100% of 1 review" in say(searcher, rv, "/review stats")[0]

    clock.advance(days=31)  # the reviews fall out of the 30-day window
    assert "Recalled (30 days): no learned card reviewed yet" in say(searcher, rv, "/review stats")[0]


def test_a_line_that_is_not_a_rating_leaves_the_card_unrated(searcher, rv):
    say(searcher, rv, "/review add lora")
    say(searcher, rv, "/review", "")
    assert say(searcher, rv, "")[0] == ""  # a stray Enter: still waiting for the rating
    assert rv.pending is not None
    out = say(searcher, rv, "attention")[0]  # not a rating: an ordinary question, after saying so
    paused, rest = out.split("\n", 1)
    assert paused == "(Review paused: LoRA stays due. /review to go on.)"
    assert rest.startswith("Attention\n=========\n") and "(matched by exact term" in rest
    assert rv.pending is None
    assert say(searcher, rv, "3")[0].startswith("Nothing is waiting for an answer.")  # no rating now
    card = the_card(rv, "LoRA")
    assert card.reviews == 0 and card.due == START
    assert rv.store().study.deck_stats(USER_ID, START).reviews_30d == 0

    say(searcher, rv, "/review", "")
    assert say(searcher, rv, "5")[0] != "" and the_card(rv, "LoRA").reviews == 0  # out of 1-4


def test_a_command_instead_of_turning_the_card_over_leaves_it_unrated(searcher, rv):
    say(searcher, rv, "/review add lora")
    say(searcher, rv, "/review")
    assert say(searcher, rv, "/help")[0] == "(Review paused: LoRA stays due. /review to go on.)\n" + HELP
    assert rv.pending is None and the_card(rv, "LoRA").reviews == 0


def test_a_card_rated_elsewhere_meanwhile_is_not_rated_twice(searcher, rv, state_path, clock):
    say(searcher, rv, "/review add lora")
    say(searcher, rv, "/review", "")
    other = ConsoleReview(state_path, now=clock)  # a second console on the same database
    try:
        review_one(searcher, other, "good")
    finally:
        other.close()
    assert say(searcher, rv, "easy")[0].startswith("That card was already rated")
    assert the_card(rv, "LoRA").reviews == 1


def test_a_card_whose_term_left_the_glossary_is_set_aside_and_a_renamed_one_follows(searcher, rv, clock):
    """As on Discord: a term the rebuilt glossary dropped is kept but neither shown nor counted, and
    named until it is removed; one it renamed (the old name kept as an alias) follows its entry."""
    gone = "Phlogiston"
    assert searcher.index.entry_named(gone) is None and not searcher.names.exactly(gone)
    lora = searcher.index.entry_named("LoRA")
    old = next(a for a in lora.aliases
               if searcher.index.entry_named(a) is None and searcher.names.exactly(a) == [lora.id])
    say(searcher, rv, "/review add attention")
    study = rv.store().study
    study.add_card(USER_ID, gone, START - timedelta(days=1))  # the most overdue
    study.add_card(USER_ID, old, START - timedelta(hours=1))

    front = say(searcher, rv, "/review")[0]
    assert front.splitlines()[0] == "LoRA" and "(2 cards due · spaced review)" in front
    assert study.deck_terms(USER_ID) == ["Attention", "LoRA", gone]  # followed; nothing deleted
    stats = say(searcher, rv, "/review stats")[0]
    assert "Due now:            2" in stats and "Cards:              2" in stats
    assert gone in stats and "/review remove" in stats

    assert review_one(searcher, rv, "easy").startswith("LoRA comes back in")
    done = review_one(searcher, rv, "easy")  # Attention
    assert "All done: no cards due right now." in done and gone in done
    assert say(searcher, rv, f"/review remove {gone}")[0] == f"Removed {gone} from your review deck."
    assert gone not in say(searcher, rv, "/review stats")[0]


def test_the_deck_persists_across_sessions(searcher, state_path, clock):
    first = ConsoleReview(state_path, now=clock)
    say(searcher, first, "/review add attention")
    review_one(searcher, first, "good")
    first.close()

    second = ConsoleReview(state_path, now=clock)
    try:
        assert say(searcher, second, "/review add attention")[0] == "Attention is already in your review deck."
        assert say(searcher, second, "/review")[0].startswith("All done: no cards due right now. Next card due in 10")
        clock.advance(minutes=10)
        assert say(searcher, second, "/review")[0].splitlines()[0] == "Attention"
        assert the_card(second, "Attention").reviews == 1  # the rating of the first session
    finally:
        second.close()


def test_review_is_unavailable_without_a_state_database(searcher):
    assert "/review is unavailable" in handle_line(searcher, "/review")
    assert handle_line(searcher, "/review", review=ConsoleReview(None)).startswith("/review is unavailable")


def test_help_lists_the_review_commands(searcher):
    for command in ("/review ", "/review add <term>", "/review remove <term>", "/review stats"):
        assert command in HELP


# -- in the console loop ------------------------------------------------------------------------


class GlossaryWithSettings(OpenedGlossary):
    def __init__(self, searcher, state_path: Path):
        super().__init__(searcher)
        self.settings = Settings.load(environ={"GLOSSARY_STATE_DB": str(state_path)}, dotenv=Path("/nonexistent"))


def run(searcher, state_path: Path, text: str, *, glossary: OpenedGlossary | None = None) -> tuple[str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    glossary = glossary or GlossaryWithSettings(searcher, state_path)
    code = run_console(glossary, stdin=io.StringIO(text), stdout=stdout, stderr=stderr)
    assert code == 0
    return stdout.getvalue(), stderr.getvalue()


def test_a_piped_session_reviews_in_the_settings_state_database(searcher, state_path):
    out, err = run(searcher, state_path, "/review add attention\n/review\n\ngood\n")
    assert err == ""
    assert "Added Attention to your review deck." in out
    assert "How well did you remember it? again / hard / good / easy (1-4)" in out
    assert "Attention comes back in 10 minutes." in out
    store = StateStore(state_path)  # closed by the console, and written
    try:
        assert store.db.query("SELECT count(*) FROM review_log WHERE user_id = ?", [USER_ID])[0][0] == 1
    finally:
        store.close()


@pytest.mark.parametrize("kind", ["directory", "not sqlite"])
def test_the_console_works_when_the_state_database_cannot_be_opened(searcher, tmp_path, kind):
    unusable = tmp_path / "state.db"
    glossary = GlossaryWithSettings(searcher, unusable)  # Settings.load refuses a folder: made after
    if kind == "directory":
        unusable.mkdir()
    else:
        unusable.write_bytes(b"this is not a database, just some text\n" * 100)
    out, err = run(searcher, unusable, "/review\nattention\n/review add attention\n", glossary=glossary)
    assert err == ""
    blocks = out.split("\n\n")
    assert blocks[0].startswith("/review is unavailable: cannot use state database ") and "\n" not in blocks[0]
    assert "GLOSSARY_STATE_DB" in blocks[0]
    assert any(b.startswith("Attention\n=========\n") for b in blocks)
    assert out.rstrip().splitlines()[-1].startswith("/review is unavailable")


def test_a_console_that_never_reviews_creates_no_state_database(searcher, state_path):
    out, _ = run(searcher, state_path, "attention\n")
    assert out.startswith("Attention\n")
    assert not state_path.exists()


def test_a_number_out_of_range_asks_for_the_rating_again(searcher, rv):
    say(searcher, rv, "/review add lora")
    say(searcher, rv, "/review", "")
    assert say(searcher, rv, "9")[0].startswith("Rate it with 1–4")
    assert rv.pending is not None  # the card stays on screen, unrated
    say(searcher, rv, "3")
    assert the_card(rv, "LoRA").reviews == 1


def test_the_deck_goes_to_a_file_anki_imports_and_no_other_file_is_overwritten(searcher, rv, tmp_path):
    target = tmp_path / "deck.txt"
    assert "nothing to export" in say(searcher, rv, f"/review export {target}")[0] and not target.exists()
    say(searcher, rv, "/review add lora", "/review add kv cache")
    reply = say(searcher, rv, f"/review export {target}")[0]
    assert "Wrote 2 cards" in reply and "File → Import" in reply
    fronts = sorted(line.split("\t")[0] for line in target.read_text(encoding="utf-8").splitlines()
                    if not line.startswith("#"))
    assert fronts == ["KV cache", "LoRA"]
    say(searcher, rv, "/review remove kv cache")
    assert "Wrote 1 card " in say(searcher, rv, f"/review export {target}")[0]  # an earlier export is replaced
    notes = tmp_path / "notes.txt"
    notes.write_text("my own notes\n", encoding="utf-8")
    assert "already exists" in say(searcher, rv, f"/review export {notes}")[0]
    assert notes.read_text(encoding="utf-8") == "my own notes\n"
    assert "Could not write" in say(searcher, rv, f"/review export {tmp_path / 'missing' / 'deck.txt'}")[0]


def test_an_export_replaces_only_its_own_file_whole_and_reads_paths_as_people_type_them(searcher, rv, tmp_path,
                                                                                        monkeypatch):
    say(searcher, rv, "/review add lora")
    out = tmp_path / "out"
    out.mkdir()
    # Anki's own text export starts "#separator:tab" too: someone's notes, never replaced (QA64)
    theirs = out / "my-anki-notes.txt"
    theirs.write_text("#separator:tab\n#html:true\nfront\tback\n", encoding="utf-8")
    assert "already exists" in say(searcher, rv, f"/review export {theirs}")[0]
    assert theirs.read_text(encoding="utf-8").endswith("front\tback\n")
    # a folder gets the usual file name in it; the reply says where, in full
    reply = say(searcher, rv, f"/review export {out}")[0]
    written = out / "ml-glossary-review-deck.txt"
    assert written.is_file() and str(written.resolve()) in reply
    # a quoted path, as a shell would take it
    assert "Wrote 1 card" in say(searcher, rv, f'/review export "{out / "my deck.txt"}"')[0]
    assert (out / "my deck.txt").is_file()
    # a named pipe is no file to read or replace: refused at once, not waited on
    pipe = out / "pipe"
    os.mkfifo(pipe)
    assert "not a regular file" in say(searcher, rv, f"/review export {pipe}")[0]
    # a write that fails half-way (a full disk) leaves the earlier export as it was
    before = written.read_text(encoding="utf-8")
    say(searcher, rv, "/review add kv cache")
    real_write = Path.write_text

    def half_then_full(self, text, *args, **kwargs):
        real_write(self, text[: len(text) // 2], *args, **kwargs)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", half_then_full)
    reply = say(searcher, rv, f"/review export {written}")[0]
    monkeypatch.undo()
    assert "Could not write" in reply and "nothing was changed" in reply
    assert written.read_text(encoding="utf-8") == before
    assert sorted(p.name for p in out.iterdir()) == ["ml-glossary-review-deck.txt", "my deck.txt",
                                                          "my-anki-notes.txt", "pipe"]  # no partial file left
