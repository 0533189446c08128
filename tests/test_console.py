"""The local console (`glossary-bot run` without DISCORD_TOKEN), on the real index.

The index is the test session's real one (conftest.real_index_path), opened
through the same path the CLI uses (Glossary(Settings.load()).open()); the
subprocesses get it through GLOSSARY_INDEX. So the suite builds the index once
and never writes into a developer's data/.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT, Settings
from bot.console import HELP, handle_line, run_console
from bot.console_quiz import ConsoleQuiz
from bot.glossary.daily import DAILY_MIN_CHARS, daily_entries, term_of_the_day
from bot.glossary.quiz import TERM, Question
from bot.glossary.service import Glossary
from tests.conftest import OpenedGlossary

CHECKPOINT_QUESTION = "what is the trick where you recompute activations to save memory"


@pytest.fixture(scope="session")
def index_env(real_index_path) -> dict[str, str]:
    return {"GLOSSARY_INDEX": str(real_index_path)}


@pytest.fixture(scope="session")
def glossary(index_env):
    g = Glossary(Settings.load(environ=index_env, dotenv=Path("/nonexistent")))
    g.open(build_if_needed=False)  # built by the session fixture, for this model and glossary
    return g


@pytest.fixture(scope="session")
def searcher(glossary):
    return glossary.searcher


def console(searcher, text: str) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = run_console(OpenedGlossary(searcher), stdin=io.StringIO(text), stdout=stdout, stderr=stderr)
    return code, stdout.getvalue(), stderr.getvalue()


# -- handle_line ---------------------------------------------------------------------


def test_define_exact_term_shows_definition_match_and_related(searcher):
    out = handle_line(searcher, "/define attention")
    assert out.startswith("Attention\n=========\n")
    assert "softmax" in out
    assert "(matched by exact term; from the glossary)" in out
    assert "Related: " in out


def test_replies_wrap_to_a_narrow_terminal(searcher, monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    for line in ("/define lora", "what is machine learning", "lora vs qlora"):
        lines = handle_line(searcher, line).splitlines()
        assert all(len(row) <= 59 for row in lines), (line, max(lines, key=len))
    related = handle_line(searcher, "/define lora").split("Related: ", 1)[1]
    assert "\n  " in related  # wrapped between names, every one kept whole
    assert "QLoRA (mentions this term)" in related.replace("\n  ", " ")


def test_a_wide_terminal_still_wraps_definitions_at_a_readable_width(searcher, monkeypatch):
    monkeypatch.setenv("COLUMNS", "240")
    definition = handle_line(searcher, "/define lora").split("\n\n(matched", 1)[0]
    assert 88 < max(len(row) for row in definition.splitlines()) <= 100  # wider than a pipe's 88, no wider than 100


def test_bare_line_is_a_question(searcher):
    assert handle_line(searcher, "what is attention") == handle_line(searcher, "/ask what is attention")
    assert handle_line(searcher, "what is attention").startswith("Attention\n")


def test_ask_paraphrase_finds_activation_checkpointing(searcher):
    out = handle_line(searcher, f"/ask {CHECKPOINT_QUESTION}")
    assert out.startswith(("Activation checkpointing\n", "Gradient checkpointing\n"))  # twins: one name


def test_misspelling_is_matched_by_spelling(searcher):
    out = handle_line(searcher, "/define attenton")
    assert out.startswith("Attention\n")
    assert "matched by spelling" in out


def test_off_topic_question_is_refused(searcher):
    assert handle_line(searcher, "what is the capital of France").startswith(
        "The glossary doesn't cover that."
    )


def test_related_lists_terms_with_reasons(searcher):
    out = handle_line(searcher, "/related attention")
    lines = out.splitlines()
    assert lines[0] == "Related to Attention:"
    assert len(lines) > 1 and all(" — " in line for line in lines[1:])


def test_related_unknown_term_says_so(searcher):
    assert "doesn't cover" in handle_line(searcher, "/related the capital of France")


def test_related_for_a_term_only_offered_replies_as_define_does(searcher):
    # "flux capacitor" is offered Flux ("may not cover"); /related had listed Flux's related terms
    related = handle_line(searcher, "/related flux capacitor")
    assert related == handle_line(searcher, "/define flux capacitor") and not related.startswith("Related to")


def test_random_is_a_glossary_entry(searcher):
    out = handle_line(searcher, "/random")
    terms = {e.term for e in searcher.index.entries.values()}
    assert out.splitlines()[0] in terms


def test_today_is_stable_for_a_date(searcher):
    day = dt.date(2026, 3, 14)
    out = handle_line(searcher, "/today", today=day)
    assert out.startswith("Term of the day (2026-03-14)\n\n")
    assert out == handle_line(searcher, "/TODAY", today=day)
    expected = searcher.index.entries[term_of_the_day(daily_entries(searcher.index.entries), day)].term
    assert out.splitlines()[2] == expected


def test_the_term_of_the_day_is_never_a_stub(searcher):
    """92 entries are one-line stubs ("ABA — Articulated-Body Algorithm — O(n) forward dynamics…"): a
    thin post for a whole day."""
    start, entries = dt.date(2026, 1, 1), searcher.index.entries
    picks = {term_of_the_day(daily_entries(entries), start + dt.timedelta(days=i)) for i in range(1200)}
    assert all(len(entries[e].definition) >= DAILY_MIN_CHARS for e in picks)
    assert len(picks) == len(daily_entries(entries)) > 500  # every one had its day
    stub = next(e for e in entries.values() if len(e.definition) < DAILY_MIN_CHARS)
    assert not any(handle_line(searcher, "/today", today=start + dt.timedelta(days=i)).splitlines()[2] == stub.term
                   for i in range(len(picks)))


def test_term_of_the_day_is_deterministic_and_cycles_without_repeats():
    ids = list(range(10, 60))
    start = dt.date(2030, 1, 1)
    assert term_of_the_day(ids, start) == term_of_the_day(reversed(ids), start)
    # Any run of len(ids) days inside one cycle shows distinct terms.
    cycle_start = dt.date.fromordinal(start.toordinal() - start.toordinal() % len(ids))
    picks = [term_of_the_day(ids, cycle_start + dt.timedelta(days=i)) for i in range(len(ids))]
    assert sorted(picks) == ids
    with pytest.raises(ValueError):
        term_of_the_day([], start)


def test_help_lists_every_command(searcher):
    out = handle_line(searcher, "/help")
    assert out == HELP
    for command in ("/define", "/ask", "/related", "/random", "/today", "/help", "/quit"):
        assert command in out


def test_unknown_command_and_missing_argument(searcher):
    assert handle_line(searcher, "/frobnicate x") == (
        "Unknown command /frobnicate. Type /help for the list of commands."
    )
    assert handle_line(searcher, "/FOO").startswith("Unknown command /FOO.")  # as typed, not lower-cased
    assert handle_line(searcher, "/define").startswith("Usage: /define <term>")
    assert handle_line(searcher, "/ask  ").startswith("Usage: /ask <question>")
    assert handle_line(searcher, "/related").startswith("Usage: /related <term>")


def test_blank_line_prints_nothing(searcher):
    assert handle_line(searcher, "   \n") == ""


# -- run_console ------------------------------------------------------------------------


def test_piped_console_answers_each_line_without_prompt(searcher):
    code, out, err = console(searcher, f"/define attention\n/ask {CHECKPOINT_QUESTION}\n/help\n")
    assert code == 0
    assert err == ""
    assert "glossary>" not in out and "Glossary console" not in out
    blocks = out.split("\n\n")
    assert blocks[0].startswith("Attention\n")
    assert any(b.startswith(("Activation checkpointing\n", "Gradient checkpointing\n")) for b in blocks)
    assert out.rstrip().endswith(HELP.splitlines()[-1])


def test_quit_stops_reading(searcher):
    code, out, _ = console(searcher, "/quit\nattention\n")
    assert code == 0 and out == ""


@pytest.mark.parametrize("leave", ["exit", "quit", "Quit", "/quit now", "/exit please"])
def test_the_ways_people_type_to_leave_leave(searcher, leave):
    # Python's prompt habit: "exit" was searched ("The glossary doesn't cover that.") and the console stayed
    code, out, _ = console(searcher, f"{leave}\nattention\n")
    assert code == 0 and out == ""


@pytest.mark.parametrize("word", ["quiz", "review", "today", "random"])
def test_a_command_typed_without_its_slash_is_pointed_at_the_command(searcher, word):
    reply = handle_line(searcher, word)
    assert reply.startswith(f"Did you mean /{word}?")


def test_a_mistyped_command_is_offered_the_command_it_resembles(searcher):
    assert "Did you mean /define?" in handle_line(searcher, "/defne attention")
    assert "Did you mean" not in handle_line(searcher, "/xyzzy")
    assert handle_line(searcher, "lora").startswith("LoRA")  # a bare term is still a lookup


def test_an_error_in_one_query_is_one_line_and_the_console_continues(searcher, monkeypatch):
    real_search = searcher.search

    def flaky(query, *args, **kwargs):
        if "explode" in query:
            raise RuntimeError("boom\nsecond line")
        return real_search(query, *args, **kwargs)

    monkeypatch.setattr(searcher, "search", flaky)
    code, out, err = console(searcher, "please explode\nattention\n")
    assert code == 0
    assert err == "error: boom second line\n"
    assert out.startswith("Attention\n")


def test_ctrl_c_exits_cleanly(searcher):
    class InterruptingStdin(io.StringIO):
        def __iter__(self):
            yield "attention\n"
            raise KeyboardInterrupt

    stdout, stderr = io.StringIO(), io.StringIO()
    code = run_console(OpenedGlossary(searcher), stdin=InterruptingStdin(), stdout=stdout, stderr=stderr)
    assert code == 0
    assert stdout.getvalue().startswith("Attention\n")
    assert "Traceback" not in stderr.getvalue()


def test_interactive_console_shows_banner_and_prompt(searcher, monkeypatch):
    answers = iter(["attention", "/today"])

    def fake_input(prompt=""):
        print(prompt, end="", file=stdout)
        try:
            return next(answers)
        except StopIteration:
            raise EOFError from None

    stdout = io.StringIO()
    monkeypatch.setattr("builtins.input", fake_input)
    code = run_console(
        OpenedGlossary(searcher), stdin=io.StringIO(), stdout=stdout, stderr=io.StringIO(), interactive=True
    )
    out = stdout.getvalue()
    assert code == 0
    assert out.startswith(f"Glossary console: {len(searcher.index.entries)} terms.")
    assert out.count("glossary> ") == 3
    assert "Attention\n=========" in out and "Term of the day (" in out


# -- the real command ---------------------------------------------------------------------


def _env_without_token(index_env: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"} | index_env
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    return env


def _run_bot(stdin: str, tmp_path: Path, index_env: dict[str, str]) -> subprocess.CompletedProcess:
    # cwd=tmp_path: no .env there, so a developer's DISCORD_TOKEN cannot start the real bot.
    return subprocess.run(
        [sys.executable, "-m", "bot", "run"], input=stdin, capture_output=True, text=True,
        env=_env_without_token(index_env), cwd=tmp_path, timeout=300, check=False,
    )


def test_python_m_bot_run_answers_a_piped_question(index_env, tmp_path):
    proc = _run_bot("what is attention\n", tmp_path, index_env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Attention\n=========\n")
    assert "(matched by exact term; from the glossary)" in proc.stdout
    assert "glossary>" not in proc.stdout
    assert "No DISCORD_TOKEN set" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_python_m_bot_run_handles_several_commands(index_env, tmp_path):
    proc = _run_bot(f"/define attention\n/ask {CHECKPOINT_QUESTION}\n/nope\n/help\n", tmp_path, index_env)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"^(Activation|Gradient) checkpointing$", proc.stdout, re.MULTILINE)  # twins: either answers
    assert "Unknown command /nope." in proc.stdout
    assert "/today" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_undecodable_input_bytes_do_not_end_the_session(index_env, tmp_path):
    env = {**_env_without_token(index_env), "PYTHONIOENCODING": "utf-8:strict"}  # strict: as in a UTF-8 locale
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "run"], input=b"\xff\xfe what\n/define attention\n", capture_output=True,
        env=env, cwd=tmp_path, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert b"Traceback" not in proc.stderr
    assert b"Attention\n=========\n" in proc.stdout


def test_a_quiz_question_is_answered_by_the_next_line_and_only_by_it(searcher):
    quiz = ConsoleQuiz(random.Random(5))
    asked = handle_line(searcher, "/quiz", quiz=quiz)
    question = quiz.pending
    assert question is not None and "(answer with 1–4)" in asked
    entries = searcher.index.entries
    if question.kind == "term":
        assert all(entries[o].term in asked for o in question.options)
    right = handle_line(searcher, str(question.correct + 1), quiz=quiz)
    assert right.startswith(f"Right: {entries[question.answer].term}.") and quiz.pending is None

    handle_line(searcher, "/quiz", quiz=quiz)
    question = quiz.pending
    wrong_letter = "abcd"[(question.correct + 1) % 4]
    wrong = handle_line(searcher, wrong_letter, quiz=quiz)
    assert wrong.startswith(f"Not quite: it was {entries[question.answer].term}")

    handle_line(searcher, "/quiz", quiz=quiz)
    moved_on = handle_line(searcher, "attention", quiz=quiz)  # not an answer: a normal query, question dropped
    first, rest = moved_on.split("\n", 1)
    assert first == "(Quiz question left unanswered. /quiz for another.)" and quiz.pending is None
    assert rest.startswith("Attention")
    # "2" now answers nothing, and says so rather than searching for "2"
    assert handle_line(searcher, "2", quiz=quiz).startswith("Nothing is waiting for an answer.")


def test_a_quiz_answer_out_of_range_asks_again_and_a_term_typed_out_answers(searcher):
    quiz = ConsoleQuiz(random.Random(5))
    entries = searcher.index.entries
    handle_line(searcher, "/quiz", quiz=quiz)
    question = quiz.pending
    assert handle_line(searcher, "7", quiz=quiz).startswith("Answer with 1–4")
    assert quiz.pending is question
    assert handle_line(searcher, str(question.correct + 1), quiz=quiz).startswith("Right:")

    while quiz.pending is None or quiz.pending.kind != "term":
        handle_line(searcher, "/quiz", quiz=quiz)
    answer = entries[quiz.pending.answer].term
    assert handle_line(searcher, answer.lower(), quiz=quiz).startswith(f"Right: {answer}.")


@pytest.mark.parametrize(("typed", "picked"), [
    ("Lischitz constraint", "Lipschitz constraint"),  # a slip of one option's name
    ("heun", "Heun's method"), ("lipschitz", "Lipschitz constraint"),  # its first words
    ("Tensor parallelism", "Tensor parallelism (TP)"), ("tp", "Tensor parallelism (TP)"),  # a name of it
])
def test_a_which_term_option_typed_loosely_answers_the_question(searcher, typed, picked):
    named = searcher.index.entry_named
    options = tuple(named(t).id for t in ("Heun's method", "Lipschitz constraint", "Tensor parallelism (TP)", "DDPG"))
    quiz = ConsoleQuiz()
    quiz.pending = Question(TERM, named("DDPG").id, options)
    verdict = handle_line(searcher, typed, quiz=quiz)
    assert verdict.startswith(f"Not quite: it was DDPG (you picked {picked}).") and quiz.pending is None


def test_a_question_typed_during_a_quiz_is_no_answer(searcher):
    named = searcher.index.entry_named
    quiz = ConsoleQuiz()
    quiz.pending = Question(TERM, named("LoRA").id, tuple(named(t).id for t in ("LoRA", "DDPG", "GAN inversion", "Elo")))
    reply = handle_line(searcher, "what is lora", quiz=quiz)
    assert reply.startswith("(Quiz question left unanswered.") and quiz.pending is None


def test_words_after_a_command_that_takes_none_are_said_to_be_ignored(searcher):
    quiz = ConsoleQuiz(random.Random(5))
    reply = handle_line(searcher, "/quiz round:5", quiz=quiz)
    assert reply.startswith("(/quiz takes nothing after it here: “round:5” ignored.)") and quiz.pending is not None
    assert handle_line(searcher, "/today", today=dt.date(2026, 12, 6)).startswith("Term of the day (2026-12-06)")


@pytest.mark.parametrize("word", ["good", "Easy", "again!"])
def test_a_rating_word_with_nothing_to_rate_says_so(searcher, word):
    assert handle_line(searcher, word).startswith("Nothing is waiting for an answer.")


def test_a_comparison_shows_each_side_with_its_whole_definition(searcher):
    reply = handle_line(searcher, "difference between ddp and fsdp")
    assert reply.startswith("DDP and FSDP, side by side")
    for term in ("DDP", "FSDP"):
        assert searcher.index.entry_named(term).definition.split("\n")[0][:60] in reply.replace("\n", " ")
    assert "Did you mean" not in reply


def test_help_typed_without_its_slash_is_help(searcher):
    assert handle_line(searcher, "help") == HELP


def test_a_new_quiz_question_replaces_the_last_without_a_note(searcher):
    quiz = ConsoleQuiz(random.Random(5))
    handle_line(searcher, "/quiz", quiz=quiz)
    again = handle_line(searcher, "/quiz", quiz=quiz)
    assert again.startswith(("Which term is this?", "What does")) and quiz.pending is not None


def _terminal_session(script: str, writes: list[tuple[float, bytes]]) -> str:
    """Run `script` on a pseudo-terminal, write each chunk after its pause, and return the
    terminal's output: how the console reads what a person types or pastes."""
    import pty
    import select
    import time

    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child process
        os.chdir(PROJECT_ROOT)
        os.execv(sys.executable, [sys.executable, "-c", script])
    output = b""

    def drain(seconds: float) -> None:
        nonlocal output
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if select.select([fd], [], [], 0.05)[0]:
                try:
                    output += os.read(fd, 65536)
                except OSError:
                    return

    try:
        for pause, chunk in writes:
            drain(pause)
            os.write(fd, chunk)
        drain(2.0)
    finally:
        os.close(fd)
        os.waitpid(pid, 0)
    return output.decode(errors="replace")


def _messages_at_a_terminal(writes: list[tuple[float, bytes]]) -> list[str]:
    """The messages the console's reader makes of `writes` (pause, bytes) typed at a terminal."""
    script = ("import sys\nfrom bot.console import _read_lines\n"
              "for message in _read_lines(sys.stdin, sys.stdout, True):\n"
              "    print('MESSAGE', repr(message), flush=True)\n")
    return re.findall(r"MESSAGE '(.*)'", _terminal_session(script, writes))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pseudo-terminals as on Linux")
def test_a_pasted_traceback_is_one_message_at_a_terminal():
    paste = b"Traceback (most recent call last):\n  File \"train.py\", line 88\nRuntimeError: CUDA out of memory\n"
    # Typed lines come seconds apart; a paste arrives in one go.
    messages = _messages_at_a_terminal([(3.0, paste), (1.0, b"what is lora\n"), (1.0, b"\x04")])
    assert messages == [
        "Traceback (most recent call last):\\n  File \"train.py\", line 88\\nRuntimeError: CUDA out of memory",
        "what is lora",
    ]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pseudo-terminals as on Linux")
def test_pasted_commands_are_one_message_each_at_a_terminal():
    paste = b"/review add lora\n/review add attention\n/quiz\n2\n"
    messages = _messages_at_a_terminal([(3.0, paste), (1.0, b"\x04")])
    assert messages == ["/review add lora", "/review add attention", "/quiz", "2"]


def test_through_a_pipe_every_line_is_its_own_question(glossary):
    out = io.StringIO()
    run_console(glossary, stdin=io.StringIO("what is lora\nwhat is qlora\n"), stdout=out, interactive=False)
    assert out.getvalue().count("(matched by") == 2


def test_entries_asked_about_beyond_five_are_named_after_the_five(searcher):
    names = ["RLHF", "DPO", "PPO", "GRPO", "ZeRO", "FSDP", "DDP"]
    reply = handle_line(searcher, ", ".join(f"what is {n.lower()}" for n in names))
    heading = reply.splitlines()[0]
    also = next(line for line in reply.splitlines() if line.startswith("Also asked: "))
    assert also.endswith("(ask about each on its own).")
    assert all((n in heading) != (n in also) for n in names)  # each named once: side by side or after


def test_a_quiz_session_does_not_ask_a_term_twice_in_twenty_questions(searcher):
    quiz = ConsoleQuiz(rng=random.Random(11))
    asked = []
    for _ in range(20):
        handle_line(searcher, "/quiz", quiz=quiz)
        asked.append(quiz.pending.answer)
    assert len(set(asked)) == 20


@pytest.mark.parametrize("line, reply", [("thanks!", "Glad to help!"), ("thank you 🙏", "Glad to help!"),
                                         ("hi", "Ask me about a term"), ("lol", "Ask me about a term")])
def test_chatter_gets_what_the_bot_says_to_it_on_discord(searcher, line, reply):
    assert handle_line(searcher, line).startswith(reply)
