"""A local console that answers exactly like the bot: `glossary-bot run` without a token.

Type a term or a question, or a command (`/define`, `/ask`, `/related`,
`/random`, `/today`, `/quiz`, `/review`, `/help`, `/quit`). Works as a pipe too:
`echo "what is attention" | glossary-bot run` prints the answer and exits 0;
when stdin is not a terminal there is no banner and no prompt on stdout.

`handle_line` turns one line into the text to print and holds all the logic,
so tests (and anything else) can drive the console without a terminal.
"""

from __future__ import annotations

import datetime as dt
import difflib
import logging
import os
import random
import re
import select
import sys
from typing import TextIO

from .console_quiz import ConsoleQuiz
from .console_review import ConsoleReview
from .glossary.daily import daily_entries, term_of_the_day
from .glossary.embeddings import valid_unicode
from .glossary.normalize import acknowledges
from .glossary.search import ANSWER, Searcher
from .glossary.service import Glossary
from .glossary.store import StoredEntry
from .present import entry_text, result_text

log = logging.getLogger(__name__)

QUIT_COMMANDS = frozenset({"/quit", "/exit", "/q"})
ASK_ME = "Ask me about a term, e.g. “what is attention?”, or type /help for the commands."
GLAD_TO_HELP = "Glad to help! Ask me about another term any time."
QUIT_WORDS = frozenset({"exit", "quit", "bye", "exit()", "quit()"})  # as other prompts (Python's) take them
COMMANDS = QUIT_COMMANDS | {"/define", "/ask", "/related", "/random", "/today", "/quiz", "/review", "/help", "/?", "/h"}
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f]")

HELP = """\
Type a term or a question and press Enter, or use a command:
  /define <term>     look up a term (exact name, alias or misspelling)
  /ask <question>    ask a free-form question
  /related <term>    terms related to a term
  /random            a random entry
  /today             the term of the day
  /quiz              a multiple-choice question (answer with its number)
  /review            your due review cards: Enter shows the definition, then rate it 1-4
  /review add <term> put a term in your review deck (/review remove <term> takes it out)
  /review stats      your deck: due now, due today, learned, how much you recall
  /review export     your deck as a file Anki imports (/review export <file> to name it)
  /help              this help
  /quit              leave (exit, quit, Ctrl-D or Ctrl-C work too)
A line without a leading / is the same as /ask."""


# -- one line in, one answer out ---------------------------------------------------

# … or a rating word: after a review ends or the console restarts, "good" is what a learner types.
_ANSWER_LIKE = re.compile(r"[1-9][.)]?|[a-dA-D][.)]|(?i:again|hard|good|easy)[.!]*")
# Lines that arrive within this many seconds of the one before came in one paste (a traceback,
# a code block): no one types Enter and the next line that fast.
PASTE_GAP = 0.03


def _usage(command: str, argument: str) -> str:
    return f"Usage: {command} <{argument}>  (type /help for all commands)"


def _related_text(searcher: Searcher, query: str) -> str:
    result = searcher.search(query)
    if result.band != ANSWER or not result.best:
        return result_text(result, searcher)  # as /define replies ("flux capacitor"), as on Discord
    entry = result.best.entry
    related = searcher.related(entry.id)
    if not related:
        return f"No related terms for {entry.term}."
    lines = [f"Related to {entry.term}:"]
    lines += [f"  {r.entry.term} — {r.reason}" for r in related]
    return "\n".join(lines)


def _entry_with_related(searcher: Searcher, entry: StoredEntry) -> str:
    return entry_text(entry, None, searcher.related(entry.id))


def handle_line(searcher: Searcher, line: str, *, today: dt.date | None = None,
                quiz: ConsoleQuiz | None = None, review: ConsoleReview | None = None) -> str:
    """The console's answer to one input line ("" for a blank line). `quiz` holds a session's
    pending quiz question, which the next line may answer; `review` its review deck and the
    card on screen, which the next line turns over (Enter will do) or rates. A line that
    answers neither leaves them, and the reply says so first: a later "4" is no rating."""
    line = valid_unicode(line).strip()  # undecodable input bytes: U+FFFD, so every later step can encode it
    left = []
    if review is not None and review.pending is not None:
        card = review.pending.card
        reply = review.answer(searcher, line)
        if reply is not None:
            return reply
        if not line.lower().startswith("/review"):
            left.append(f"(Review paused: {card.term} stays due. /review to go on.)")
    if quiz is not None and quiz.pending is not None and line:
        verdict = quiz.answer(searcher, line)
        if verdict is not None:
            return verdict
        if not line.lower().startswith("/quiz"):
            left.append("(Quiz question left unanswered. /quiz for another.)")
    reply = _handle(searcher, line, today=today, quiz=quiz, review=review)
    if not left:
        return reply
    return "\n".join(left + ([reply] if reply else []))


def _handle(searcher: Searcher, line: str, *, today: dt.date | None, quiz: ConsoleQuiz | None,
            review: ConsoleReview | None) -> str:
    if not line:
        return ""
    if _ANSWER_LIKE.fullmatch(line):
        # "4" with no question or card waiting: the user thinks one is (one left, or a restart)
        return "Nothing is waiting for an answer. /quiz asks a question; /review shows your due cards."
    if line.lower() in ("help", "?help", "commands"):
        return HELP
    if not line.startswith("/"):
        result = searcher.search(line)
        if not result.query:  # chatter, as the bot answers it when asked directly
            return GLAD_TO_HELP if acknowledges(line) else ASK_ME
        word = line.strip().lower()
        if f"/{word}" in COMMANDS and result.band != ANSWER:  # "quiz": the command, not a topic
            return f"Did you mean /{word}? Commands start with a slash; /help lists them."
        return result_text(result, searcher)

    typed, _, argument = line.replace("\t", " ").partition(" ")
    command, argument = typed.lower(), argument.strip()
    if command in ("/define", "/ask"):
        if not argument:
            return _usage(command, "term" if command == "/define" else "question")
        return result_text(searcher.search(argument), searcher)
    if command == "/related":
        if not argument:
            return _usage(command, "term")
        return _related_text(searcher, argument)
    if command in ("/random", "/today", "/quiz"):
        # "/quiz round:5" is Discord's; here the words after these are said to be ignored, not dropped silently
        ignored = f"({command} takes nothing after it here: “{_UNPRINTABLE.sub('?', argument[:40])}” ignored.)\n\n" \
            if argument else ""
        return ignored + _no_argument_command(searcher, command, today, quiz)
    if command == "/review":
        if review is None:
            return "/review is unavailable here: it needs the console's state database (glossary-bot run)."
        return review.command(searcher, argument)
    if command in ("/help", "/?", "/h"):
        return HELP
    if command in QUIT_COMMANDS:
        return ""
    # Echoed without control characters: they could restyle or clear the terminal.
    shown = _UNPRINTABLE.sub("?", typed[:40])
    close = difflib.get_close_matches(command, sorted(COMMANDS - {"/?", "/h", "/q"}), n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]}?" if close else ""
    return f"Unknown command {shown}.{hint} Type /help for the list of commands."


def _no_argument_command(searcher: Searcher, command: str, today: dt.date | None, quiz: ConsoleQuiz | None) -> str:
    if command == "/random":
        entry = random.choice(list(searcher.index.entries.values()))
        return _entry_with_related(searcher, entry)
    if command == "/today":
        day = today or dt.date.today()
        entry = searcher.index.entries[term_of_the_day(daily_entries(searcher.index.entries), day)]
        return f"Term of the day ({day.isoformat()})\n\n" + _entry_with_related(searcher, entry)
    return (quiz or ConsoleQuiz()).ask(searcher)


# -- the loop -------------------------------------------------------------------------


def _one_line_error(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"error: {text}" if isinstance(exc, (RuntimeError, ValueError, OSError)) else (
        f"error: {type(exc).__name__}: {text}"
    )


def _read_lines(stdin: TextIO, stdout: TextIO, interactive: bool):
    """Yield input messages until EOF; a prompt only when talking to a terminal.

    At a terminal, lines pasted together are one message, as they are on Discord: a pasted
    traceback is one question, not one per line. (A terminal with bracketed paste hands
    `input` the whole paste already.) Through a pipe, each line is a message of its own."""
    if not interactive:
        yield from stdin
        return
    try:  # line editing and history, where available
        import readline  # noqa: F401
    except ImportError:  # pragma: no cover - platform dependent
        pass
    while True:
        try:
            message = input("glossary> ")
        except EOFError:
            stdout.write("\n")
            return
        ended = False
        try:
            while _more_waiting(stdin):
                message += "\n" + input("")
        except EOFError:
            ended = True
        yield from _pasted_messages(message)
        if ended:
            stdout.write("\n")
            return


def _pasted_messages(paste: str) -> list[str]:
    """The messages of one paste: one, unless it opens with a command, when each line is its own
    ("/review add lora", "/review add attention" pasted together; "/quiz" then its answer "2")."""
    first = paste.lstrip().split(maxsplit=1)[0].lower() if paste.strip() else ""
    if "\n" not in paste or first not in COMMANDS:
        return [paste]
    return [line for line in paste.split("\n") if line.strip()]


def _more_waiting(stdin: TextIO) -> bool:
    """Whether the next line is already waiting (it came in the same paste)."""
    try:
        return bool(select.select([stdin], [], [], PASTE_GAP)[0])
    except (OSError, ValueError, TypeError):  # no select on this stream (Windows consoles)
        return False


def run_console(
    glossary: Glossary,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    interactive: bool | None = None,
) -> int:
    """Answer lines from stdin until EOF, /quit, Ctrl-D or Ctrl-C; returns the exit code (0).

    Opening the glossary builds the index first if it is missing or stale
    (with a progress bar on stderr), and moves a damaged one aside and rebuilds
    it, as the bot does; other errors there propagate to the CLI, which prints
    them as one line. An error in one query is printed as one line on
    stderr and the console carries on.
    """
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    if interactive is None:
        interactive = stdin is sys.stdin and stdin.isatty()
    if stdin is sys.stdin and hasattr(stdin, "reconfigure"):
        # Bytes that are not UTF-8 become U+FFFD instead of ending the session with UnicodeDecodeError.
        stdin.reconfigure(errors="replace")
    # As the Discord bot does: a damaged index is a cache of the glossary, moved aside and rebuilt.
    searcher = glossary.open(recover=True)
    if interactive:
        count = len(searcher.index.entries)
        print(
            f"Glossary console: {count} terms. Type a term or a question; /help for commands; "
            "/quit or Ctrl-D to leave.",
            file=stdout,
        )
    answered = 0
    quiz = ConsoleQuiz()
    # The bot's state database (GLOSSARY_STATE_DB or DATABASE_URL), opened at the first /review.
    settings = getattr(glossary, "settings", None)
    review = ConsoleReview(getattr(settings, "state_target", None))
    try:
        for line in _read_lines(stdin, stdout, interactive):
            said = line.strip().lower()
            if said in QUIT_WORDS or said.partition(" ")[0] in QUIT_COMMANDS:  # "/quit now" too
                break
            try:
                reply = handle_line(searcher, line, quiz=quiz, review=review)
            except KeyboardInterrupt:
                raise
            except Exception as exc:  # one bad query must not end the session
                log.debug("query %r failed", line, exc_info=True)
                print(_one_line_error(exc), file=stderr, flush=True)
                continue
            if not reply:
                continue
            if answered and not interactive:
                print(file=stdout)
            print(reply, file=stdout, flush=True)
            if interactive:
                print(file=stdout)
            answered += 1
    except KeyboardInterrupt:
        print(file=stdout if interactive else stderr)
    except BrokenPipeError:  # e.g. `… | glossary-bot run | head -3`
        if stdout is sys.stdout:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
    finally:
        review.close()
    return 0
