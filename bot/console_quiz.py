"""/quiz in the local console: the same questions as on Discord (bot/glossary/quiz.py), as
text; the next line answers it ("2", "b", or a "which term" option's name, even misspelt), a number or letter
out of range asks again, and anything else leaves it unanswered (console.handle_line says so)."""

from __future__ import annotations

import random
import textwrap
from collections import deque
from dataclasses import dataclass, field

from .glossary.normalize import framed_subject
from .glossary.quiz import TERM, Question, QuizMaker
from .glossary.search import Searcher
from .glossary.terms import lookup_key
from .present import entry_text, shorten, wrap

LETTERS = "abcd"
OPTION_TEXT_MAX = 200
# A typed answer spelled this close (0–100) to one option's name, and this much closer than to any
# other option's, is that option: four names to choose from, not the glossary's 690.
QUIZ_SLIP_SCORE, QUIZ_SLIP_MARGIN = 80.0, 10.0
QUIZ_ANSWER_CHARS = 80  # longer is a question, not an option's name
RECENT = 100  # terms not asked again so soon (of about 580 askable)


@dataclass
class ConsoleQuiz:
    """The question waiting for an answer, for one console session."""

    rng: random.Random = field(default_factory=random.Random)
    pending: Question | None = None
    _maker: QuizMaker | None = None
    # the terms asked lately: drawn at random, 20 questions repeated one in a quarter of sessions
    recent: deque[int] = field(default_factory=lambda: deque(maxlen=RECENT))

    def maker(self, searcher: Searcher) -> QuizMaker:
        if self._maker is None or self._maker.index is not searcher.index:
            self._maker = QuizMaker(searcher.index, searcher.same_things)
        return self._maker

    def ask(self, searcher: Searcher) -> str:
        quiz = self.maker(searcher)
        question = self.pending = quiz.question(self.rng, avoid=self.recent)
        self.recent.append(question.answer)
        entries = searcher.index.entries
        if question.kind == TERM:
            lines = ["Which term is this?", "", _indent(wrap(quiz.masked_definition(question.answer), 86)), ""]
            lines += [f"  {n}. {entries[o].term}" for n, o in enumerate(question.options, start=1)]
        else:
            lines = [f"What does “{entries[question.answer].term}” mean?", ""]
            lines += [textwrap.fill(shorten(quiz.masked_definition(o), OPTION_TEXT_MAX), 88, initial_indent=f"  {n}. ",
                                    subsequent_indent="     ", break_on_hyphens=False)
                      for n, o in enumerate(question.options, start=1)]
        lines += ["", f"(answer with 1–{len(question.options)})"]
        return "\n".join(lines)

    def answer(self, searcher: Searcher, line: str) -> str | None:
        """The verdict if `line` answers the pending question; a reminder (the question still
        waiting) if it is a number or letter out of range; None (and the question dropped) if it
        is something else, which is then handled as any line is."""
        question = self.pending
        if question is None:
            return None
        entries = searcher.index.entries
        n = len(question.options)
        pick = _pick(line, n)
        if pick is None and question.kind == TERM:
            pick = _option_named(searcher, line, question.options)
        if pick is None:
            text = line.strip().lower().rstrip(".)")
            if text.isdigit() or (len(text) == 1 and text.isalpha()):
                return f"Answer with 1–{n} (or a–{LETTERS[n - 1]}); anything else leaves the question."
            self.pending = None
            return None
        self.pending = None
        entry = entries[question.answer]
        if pick == question.correct:
            verdict = f"Right: {entry.term}."
        else:
            verdict = f"Not quite: it was {entry.term} (you picked {entries[question.options[pick]].term})."
        return f"{verdict}\n\n{entry_text(entry, None, searcher.related(entry.id))}\n\n(/quiz for another)"


def _pick(line: str, options: int) -> int | None:
    text = line.strip().lower().rstrip(".)")
    if text.isdigit() and 1 <= int(text) <= options:
        return int(text) - 1
    if len(text) == 1 and text in LETTERS[:options]:
        return LETTERS.index(text)
    return None


def _option_named(searcher: Searcher, line: str, options: tuple[int, ...] | list[int]) -> int | None:
    """The option a "which term" answer typed out names: its term, any name of it ("Tensor
    parallelism" for Tensor parallelism (TP), "WGAN"), or a slip of one of those clearly nearer it
    than any other option ("Lischitz constraint"); None for anything else, a question or a command."""
    typed = lookup_key(line)
    terms = [lookup_key(searcher.index.entries[o].term) for o in options]
    by_term = [i for i, term in enumerate(terms) if term == typed]
    named = by_term or [i for i, o in enumerate(options) if o in searcher.names.exactly(line)]
    # "heun" for Heun's method, "lipschitz" for Lipschitz constraint: the first words of one option
    named = named or [i for i, term in enumerate(terms)
                      if typed and (f"{term} ".startswith(f"{typed} ") or f"{term} ".startswith(f"{typed} s "))]
    if len(named) == 1:
        return named[0]
    if not typed or len(typed) > QUIZ_ANSWER_CHARS or framed_subject(line) is not None:
        return None  # "what is lora" asks about it
    scores = {o: score for o, score, _name in searcher.names.spelled_like(line, 20)}
    close = sorted(((scores.get(o, 0.0), i) for i, o in enumerate(options)), reverse=True)
    best, runner_up = close[0], close[1]
    return best[1] if best[0] >= QUIZ_SLIP_SCORE and best[0] - runner_up[0] >= QUIZ_SLIP_MARGIN else None


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())

