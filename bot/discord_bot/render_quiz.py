"""Quiz questions → Discord embeds and buttons, within Discord's limits (see render.py).

A question lives entirely in its buttons' custom ids, so answering works after a restart
with nothing stored: `gloss:quiz:<t|m>[k][d<yyyymmdd>]:<option ids>[:<names>[<build>]]:<tag>:<pick>` ("d":
the question of the day under the term of the day, answered privately by anyone in the channel;
its day, so that only a recent one scores). The tag says which
option is right only to someone who holds the bot's secret (the answer's index shifted by
an HMAC of the options), so the answer is not readable from the message's payload. The secret
comes from the state's hash key, the one the user hashes use (`k` in the id), which a reset of
the bot token leaves as it was. Ids without `k`, made before, were keyed by the token and are
read with its secret: nothing else in an id tells which secret made it. Entry ids
are places in the glossary, so an entry added or removed before them moves them at the next
build: `names`, a short hash of the options' terms, tells a question on screen from the one
its ids now make, and `build`, the stamp of the index build it was made in, which build's ids
to read it with (two entries that swapped names change no id and no hash). Ids made before
either existed carry none, and are read as before.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Sequence
from datetime import date

import discord

from ..glossary.earlier_names import STAMP_CHARS
from ..glossary.quiz import KINDS, MEANING, TERM, Question, QuizMaker
from ..glossary.search import Related
from ..glossary.store import StoredEntry
from . import render

QUIZ_PREFIX = "gloss:quiz:"
NEXT_ID = "gloss:quiz:next"
LETTERS = "ABCD"
OPTION_TEXT_MAX = 300  # a definition shown as an option: its opening, clipped
_QUIZ_ID = re.compile(r"gloss:quiz:([tm])(k?)(?:d\d{8})?:(\d+(?:\.\d+){1,3})(?::([0-9a-f]{6})"
                      rf"([0-9a-f]{{{STAMP_CHARS}}})?)?:(\d):(\d)")
DAILY_MARK = re.compile(r"gloss:quiz:[tm]k?d(\d{4})(\d\d)(\d\d):")
KEYED = "k"  # the tag is keyed by the state's secret, not the token's
_STAMP = re.compile(rf"[0-9a-f]{{{STAMP_CHARS}}}")  # an index build's (glossary.earlier_names.build_stamp)


class QuizCodec:
    """Questions in and out of custom ids, keyed by a secret that survives restarts and token resets."""

    def __init__(self, secret: bytes, legacy: bytes | None = None):
        """`legacy`: the secret of ids made without the `k` mark (from the bot token), if they are to be read."""
        self._secret, self._legacy = secret, legacy

    @staticmethod
    def _shift(secret: bytes, kind: str, options: tuple[int, ...]) -> int:
        message = f"{kind}:{'.'.join(map(str, options))}".encode()
        return hmac.new(secret, message, hashlib.sha256).digest()[0] % len(options)

    def custom_id(self, question: Question, pick: int, day: date | None = None,
                  terms: Sequence[str] | None = None, build: str | None = None) -> str:
        """`day`: the question of the day posted that day; `terms`: the options' terms, in order;
        `build`: the stamp of the index build whose ids these are (with `terms` only)."""
        tag = (question.correct - self._shift(self._secret, question.kind, question.options)) % len(question.options)
        kind = question.kind[0] + KEYED + (f"d{day:%Y%m%d}" if day else "")
        stamp = build if build is not None and _STAMP.fullmatch(build) else ""
        names = f":{names_hash(terms)}{stamp}" if terms is not None else ""
        return f"{QUIZ_PREFIX}{kind}:{'.'.join(map(str, question.options))}{names}:{tag}:{pick}"

    def parse(self, custom_id: str, terms: Callable[[tuple[int, ...]], Sequence[str] | None] | None = None,
              ) -> tuple[Question, int] | None:
        """(question, the option picked), or None for anything that is not one of ours, and, given
        `terms` (the glossary's terms of option ids now, None for an id it lacks), for a question
        whose options are no longer the terms it was shown with."""
        match = _QUIZ_ID.fullmatch(custom_id)
        if match is None:
            return None
        kind = next(k for k in KINDS if k[0] == match.group(1))
        secret = self._secret if match.group(2) == KEYED else self._legacy
        options = tuple(int(o) for o in match.group(3).split("."))
        tag, pick = int(match.group(6)), int(match.group(7))
        if secret is None or len(set(options)) != len(options) or tag >= len(options) or pick >= len(options):
            return None
        if terms is not None and match.group(4) is not None:
            now = terms(options)
            if now is None or names_hash(now) != match.group(4):
                return None
        correct = (tag + self._shift(secret, kind, options)) % len(options)
        return Question(kind, options[correct], options), pick


def names_hash(terms: Sequence[str]) -> str:
    """Six hex digits of the options' terms: which entries a question's ids stood for."""
    return hashlib.sha256("\0".join(terms).encode()).hexdigest()[:6]


def secret_for(state_key: str) -> bytes:
    """The quiz key: from the state's secret (state.feedback.hash_key), stable across restarts and
    token resets, the same in every process sharing a state, never sent anywhere."""
    return hashlib.sha256(b"glossary-bot quiz key\0" + state_key.encode()).digest()


def token_secret_for(token: str | None) -> bytes:
    """The key of quiz ids made before they carried `k`: from the bot token, which a reset changes."""
    return hashlib.sha256(b"glossary-bot quiz\0" + (token or "").encode()).digest()


def question_text(quiz: QuizMaker, kind: str, answer: int, options: tuple[int, ...]) -> tuple[str, list[str]]:
    """(the question's text, its buttons' labels): the masked definition and the terms for
    "which term is this?", the lettered masked definitions and A–D for "what does X mean?"."""
    entries = quiz.index.entries
    if kind == TERM:
        return (render.clip(render.glossary_text(quiz.masked_definition(answer)), 3500),
                [render.clip(entries[o].term, render.LABEL_MAX) for o in options])
    lines = [f"**{LETTERS[i]}.** {render.clip(render.glossary_text(quiz.masked_definition(option)), OPTION_TEXT_MAX)}"
             for i, option in enumerate(options)]
    return "\n\n".join(lines), list(LETTERS[:len(options)])


def question_embed(question: Question, quiz: QuizMaker) -> discord.Embed:
    text, _labels = question_text(quiz, question.kind, question.answer, question.options)
    if question.kind == TERM:
        embed = discord.Embed(title="Which term is this?", colour=render.COLOUR, description=text)
    else:
        term = discord.utils.escape_markdown(render.clip(quiz.index.entries[question.answer].term, 200))
        embed = discord.Embed(title=render.clip(f"What does “{term}” mean?", render.TITLE_MAX),
                              description=text, colour=render.COLOUR)
    embed.set_footer(text="Pick one · from the glossary")
    return embed


def build_of(custom_id: str) -> str | None:
    """The stamp of the index build a question's ids come from (None: made before buttons said)."""
    match = _QUIZ_ID.fullmatch(custom_id)
    return match.group(5) if match else None


def daily_day(custom_id: str) -> date | None:
    """The day of a question of the day's post; None for a private question."""
    match = DAILY_MARK.match(custom_id)
    try:
        return date(*map(int, match.groups())) if match else None
    except ValueError:
        return None


def question_ref(question: Question) -> str:
    """Names a question for scoring: the same options answered again score nothing more."""
    return f"{question.kind[0]}:{'.'.join(map(str, question.options))}"


def question_view(question: Question, quiz: QuizMaker, codec: QuizCodec,
                  day: date | None = None) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    _text, labels = question_text(quiz, question.kind, question.answer, question.options)
    terms = [quiz.index.entries[o].term for o in question.options]
    for i, label in enumerate(labels):
        view.add_item(discord.ui.Button(label=label, custom_id=codec.custom_id(question, i, day, terms,
                                                                              quiz.index.build_stamp),
                                        style=discord.ButtonStyle.secondary, row=0))
    return view


def result_embed(question: Question, pick: int | None, entries: dict[int, StoredEntry],
                 score: str | None = None, *, first: bool = True) -> discord.Embed:
    """The verdict on a pick; a pick after the user's `first` is none ("✅ Right" after a wrong first
    pick looked like a win the stats denied). `pick` None: a wrong one, not known which."""
    answer = entries[question.answer]
    right = pick == question.correct
    title = (f"Already answered: it was {answer.term}" if not first
             else f"✅ Right: {answer.term}" if right else f"❌ Not quite. It was {answer.term}")
    embed = render.entry_embed(answer)
    embed.title = render.clip(title, render.TITLE_MAX)
    if not right and first and pick is not None:
        picked = entries[question.options[pick]].term
        if question.kind == MEANING:
            picked = f"{LETTERS[pick]} ({picked})"
        embed.add_field(name="You picked", value=render.clip(discord.utils.escape_markdown(picked), 200), inline=False)
    if score:
        embed.set_footer(text=render.clip(f"{score} · from the glossary", render.FOOTER_MAX))
    return embed


def result_view(entry: StoredEntry, related: list[Related]) -> discord.ui.View:
    """The answer's related terms (and pages), then "Next question"."""
    view = render.entry_view(entry, related)
    row = max((child.row or 0 for child in view.children), default=-1) + 1
    view.add_item(discord.ui.Button(label="Next question", custom_id=NEXT_ID,
                                    style=discord.ButtonStyle.primary, row=min(row, 4)))
    return view
