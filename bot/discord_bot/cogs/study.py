"""Answers questions asked in study channels, whenever the bot is mentioned, and in direct messages.

Confident answers are posted as replies; when unsure the bot stays quiet
unless it was mentioned, in which case it says what it found (or that the
glossary does not cover it). Chatter asked directly ("hi", "thanks!") gets a hint
or a "glad to help", and in a study channel nothing. Without the Message Content
intent Discord only shows the bot the text of messages that mention it, so empty
content is normal.
A question edited soon after it was asked is answered again (study_edits.py).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

import aiohttp
import discord
from discord.ext import commands

from ...glossary.search import NOT_FOUND, SUGGEST, SUGGESTIONS, clean_query
from .. import render
from ..asked import Asked, AskedMessages
from ..ui import dynamic_view, in_quick_pool, in_search_pool, log_failure
from .study_edits import EDIT_WINDOW, EditedQuestions, appearance

log = logging.getLogger(__name__)
QUESTION_WORDS = frozenset(
    ["what", "whats", "what's", "who", "whom", "whose", "which", "when", "where", "why", "how", "is", "are", "does", "do", "did", "can", "could", "should", "would", "define", "explain", "meaning"]
)
# Question words as typed in a hurry; alone ("wut") they are a reaction, not a question.
MISSPELT_QUESTION_WORDS = frozenset(["wat", "wats", "wut", "wht", "waht", "whta", "explian", "expalin", "explan"])
# Words a question is led in with in a conversation: "and what about qlora", "also what is gqa",
# "wait so what is gqa", "anyone know what a kv cache is" (QA74: left unanswered without a "?").
_LEAD_IN = re.compile(r"^(?:(?:and|also|so|wait|but|then|ok|okay|hmm+|um+)\s+"
                      r"|(?:(?:does|do)\s+)?(?:(?:anyone|any1|someone|somebody|u|you)\s+)?knows?\s+)+")
# … then a question's own shape: not "and is it just me or …", "but when i tried qlora …" (review 55)
_LED_QUESTION = re.compile(r"(?:what|wat|how|why)(?:'s|’s|s)?\s+(?:is|are|was|were|does|do|did|about|exactly|if"
                           r"|would|should|can|happens?|causes?|means?|an?|the)\b|(?:explain|define|expalin|explian)\s+\S")
# A question asked at the end of a sentence of context: "my loss spikes then slowly recovers, what is that"
_ASKED_LAST = re.compile(r"[,;:—–-]\s*(?:so\s+)?(?:what|why|how)(?:'s|’s)?\s+(?:is|are|does|do|was|causes?)\b[^,;:]*$")
# "hw" is "how" only before the words that carry a question on ("hw does LoRA work"): it is also homework.
_HW_QUESTION = re.compile(r"hw (?:do|does|did|to|can|could|would|should|much|many|come)\b")
# Comparisons typed without "?" or a question word: "lora vs qlora", "compare adam, adamw and sgd",
# "difference between bf16 and fp16". "vs" must stand between two words, and not be VS Code.
_COMPARISON = re.compile(r"^(?:compare|comparison (?:of|between)|diff(?:erences?)? (?:between|of))\b"
                         r"|\S\s+(?:vs\.?|versus)\s+(?!code\b)\S")
# Replies to questions: one every COOLDOWN_SECONDS a person (a direct ask on that wait is told
# when to ask again). Only a reply takes it: a study-channel message is searched before the bot
# knows whether it will say anything, and when it says nothing (unsure, not covered) its author,
# who heard nothing, must not find their next direct question refused. The cooldown is held while
# such a message is searched (so a burst of messages costs one search) and given back after a
# silent one. What bounds the silent searches is a separate, larger allowance, taken by every
# study-channel search, answered or not: SEARCHES in SEARCHES_PER seconds a person. A person's
# searches are thus at most SEARCHES a minute in study channels plus one per cooldown asked
# directly (a direct ask always gets a reply, so it takes the cooldown and not the allowance).
COOLDOWN_SECONDS = 10.0
SEARCHES, SEARCHES_PER = 10, 60.0
# What a direct ask with nothing to look up gets ("hi", "ok", a bare mention; "thanks!", "👍"): a hint,
# or an acknowledgement, never "The glossary doesn't cover “thanks!”". At most one per `per` a person.


def looks_like_question(text: str) -> bool:
    """Whether a study channel's message asks something: it ends with "?", starts with a question
    word (or a common misspelling of one), or compares terms. Chatter that passes costs a search,
    never a reply: only a confident answer is posted in a study channel."""
    text = text.strip().lower()
    if not text:
        return False
    if text.endswith("?"):
        return True
    first, *rest = re.split(r"[\s,:;!.]+", text, maxsplit=1)
    if first in QUESTION_WORDS:
        return True
    if first in MISSPELT_QUESTION_WORDS:
        return bool(rest and rest[0])
    led = _LEAD_IN.sub("", text)
    if led != text and _LED_QUESTION.match(led):
        return True
    return bool(_HW_QUESTION.match(text) or _COMPARISON.search(text) or _ASKED_LAST.search(text))


@dataclass(frozen=True)
class Reading:
    """A message as the study cog reads it."""

    text: str        # without the bot's mention: what is searched (and echoed in a refusal)
    mentioned: bool  # asked of the bot directly: an @mention, or a direct message

    @cached_property
    def question(self) -> str:
        return clean_query(self.text)

    @property
    def key(self) -> tuple[str, bool]:
        """What the answer depends on: an edit that leaves it alone (markdown, a link preview,
        a "thanks" at the end) is not answered again."""
        return self.question, self.mentioned

    @property
    def asks(self) -> bool:
        return self.mentioned or looks_like_question(self.question)


@dataclass
class Outcome:
    """What to say to a message: `reply` is a message's fields (None: say nothing)."""

    reply: dict[str, Any] | None = None
    counted: bool = False            # it was searched, paid for by its author's cooldown or search allowance
    question_id: int | None = None   # the question logged for it, if it was searched
    limited: bool = False            # refused by the cooldown: any earlier reply stays as it is
    elsewhere: bool = False          # not asked directly, and not in a study channel (any more)
    stopped: bool = False            # an edit's new reply would differ, and may not (nothing logged)


def _starts_forum_post(message: discord.Message) -> bool:
    """The message a forum post opens with: its id is the post's (a thread's) own."""
    channel = message.channel
    return (isinstance(channel, discord.Thread) and message.id == channel.id
            and isinstance(channel.parent, discord.ForumChannel))


class Study(EditedQuestions, commands.Cog):
    def __init__(self, bot, *, per: float = COOLDOWN_SECONDS, clock: Callable[[], float] = time.time) -> None:
        self.bot = bot
        self.per = per
        self.clock = clock  # injectable, so a test can move time on instead of sleeping
        self.cooldown = commands.CooldownMapping.from_cooldown(1, per, commands.BucketType.user)
        self.notices = commands.CooldownMapping.from_cooldown(1, per, commands.BucketType.user)  # "ask again in …"
        self.hints = commands.CooldownMapping.from_cooldown(1, per, commands.BucketType.user)  # render.to_chatter's hints
        # study-channel searches, answered or not (see COOLDOWN_SECONDS)
        self.searches = commands.CooldownMapping.from_cooldown(SEARCHES, SEARCHES_PER, commands.BucketType.user)
        # what was said to recent messages, kept in the state database too: a restart forgets nothing
        self.asked = AskedMessages(since=bot.now().timestamp(), records=bot.state.asked if bot.state else None,
                                   keep_for=EDIT_WINDOW.total_seconds(), clock=lambda: bot.now().timestamp(),
                                   forgotten=bot.forgotten)

    def strip_mentions(self, message: discord.Message) -> str:
        """The message without the bot's mention, its lines kept: a line's markup ("## Questions",
        "- what is lora?") is read as a line's, as the console and /ask read it (QA74: joined first,
        "Questions" was reported as a name the glossary lacks)."""
        text = message.content or ""
        if self.bot.user is not None:
            text = re.sub(rf"<@!?{self.bot.user.id}>", " ", text)
        return "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())

    def mentioned(self, message: discord.Message) -> bool:
        """Asked of the bot by name: an @mention typed in the text, or a reply to one of its messages
        that asks something. A reply pings its author by default, so a remark made in reply ("nice,
        that makes sense now") has the bot among its mentions without asking it anything."""
        me = self.bot.user
        role = message.guild.self_role if message.guild is not None else None
        if role is not None and f"<@&{role.id}>" in (message.content or ""):
            return True  # the bot's own role, which Discord's @-list offers beside the bot: meant as the bot
        if me is None or not any(u.id == me.id for u in message.mentions):
            return False
        if re.search(rf"<@!?{me.id}>", message.content or ""):
            return True
        return looks_like_question(clean_query(self.strip_mentions(message)))

    def read(self, message: discord.Message) -> Reading | None:
        """The message as a question to the bot; None if it is never one (a bot's, a group DM's,
        Discord's own notices)."""
        if message.author.bot or (self.bot.user and message.author.id == self.bot.user.id):
            return None
        if message.type not in (discord.MessageType.default, discord.MessageType.reply):
            # "alice started a thread: what is lora?" holds the thread's name as its text: answered,
            # it took her cooldown from the question she then asked in the thread
            return None
        if self.bot.state is None or self.bot.searcher is None:
            return None
        if message.guild is None and not isinstance(message.channel, discord.DMChannel):
            return None  # a group DM: not a conversation with the bot
        text = self.strip_mentions(message)
        if _starts_forum_post(message):
            # A forum post asks in its title ("What is LoRA?") as often as in its body.
            text = f"{message.channel.name}\n{text}" if text else message.channel.name
        # A direct message is asked of the bot as directly as a mention (Discord sends DMs' text
        # without the Message Content intent).
        return Reading(text, message.guild is None or self.mentioned(message))

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        try:
            await self.handle(message)
        except Exception as exc:
            log_failure("study reply failed (guild %s, channel %s, message %s)", exc,
                        message.guild.id if message.guild else None, message.channel.id, message.id)

    async def in_study_channel(self, message: discord.Message) -> bool:
        assert message.guild is not None and self.bot.state is not None
        # the state DB is read off the loop, in the one-worker pool: messages come
        # back in the order they arrived, so a user's first question takes the cooldown
        config = await in_quick_pool(self.bot.state.config, message.guild.id)
        channels = {message.channel.id, getattr(message.channel, "parent_id", None)}  # a thread's parent too
        return not channels.isdisjoint(config.study_channels)

    async def handle(self, message: discord.Message) -> bool:
        """Reply if appropriate; True if a reply was sent."""
        reading = self.read(message)
        if reading is None or not reading.asks:
            return False  # chatter: costs no lookup and no cooldown
        # Taken before anything is awaited, so an edit of this message waits for this answer.
        async with self.asked.lock(message.id):
            outcome = await self.compose(message, reading)
            # (an answer that took the cooldown, not a notice or a hint, gives it back if Discord lost it)
            took = outcome.counted and not outcome.limited
            reply_id = await self.reply(message, took_cooldown=took, **outcome.reply) if outcome.reply else None
            await self.remember(message, reading, outcome, reply_id)
            return outcome.reply is not None

    async def compose(self, message: discord.Message, reading: Reading, earlier: Asked | None = None, *,
                      may_change: bool = True) -> Outcome:
        """What to say to the message as `reading` reads it. `earlier`: what was said to it
        before an edit; one that was searched then is answered again without paying anew.
        An edit's answer is logged only when it changes the reply (else the 👍/👎 already
        shown keep voting on the question logged before) or there is none (for the gaps
        report); with `may_change` False, one that would change the reply is `stopped`."""
        if not reading.mentioned and not await self.in_study_channel(message):
            return Outcome(elsewhere=True)  # before `asks`: an edit there changes nothing (study_edits.py)
        if not reading.asks:
            return Outcome()
        now, held = self.clock(), False
        if not reading.question:  # asked directly, but nothing to look up: a bare mention, "hi", "thanks!"
            if self.hints.update_rate_limit(message, now):
                return Outcome(limited=True)  # "hi hi hi": one hint is enough
            # not under the cooldown: the question that follows a "hi" is answered at once
            return Outcome({"content": render.to_chatter(reading.text)})
        if earlier is None or not earlier.counted:
            if wait := self.cooldown.update_rate_limit(message, now):
                # Quiet in a study channel; asked directly, once per wait, say so rather than ignore it.
                notice = None
                if reading.mentioned and not self.notices.update_rate_limit(message, now):
                    notice = {"content": f"One question every {self.per:.0f} seconds, "
                                         f"please: ask again in {max(1, round(wait))} s."}
                return Outcome(notice, limited=True)
            if not reading.mentioned:  # a study channel: the cooldown is held for a reply that may not come
                if self.searches.update_rate_limit(message, now):
                    self.cooldown.get_bucket(message, now).reset()
                    return Outcome(limited=True)
                held = True
        guild_id = message.guild.id if message.guild else None
        answer = await in_search_pool(self._answer, reading.text, guild_id, message.author.id, earlier is None,
                                      message.created_at)
        fields = self.render(answer, reading)
        if held and fields is None:
            # Silence costs the author no reply cooldown. (A direct ask that came while this was
            # searched was refused: a narrow race, as both are sent within a search's time.)
            self.cooldown.get_bucket(message, now).reset()
        if earlier is not None:
            look = appearance(fields)
            if look != earlier.look and not may_change:
                return Outcome(counted=True, stopped=True)
            if look != earlier.look or look is None:
                answer.question_id = await in_search_pool(self._log, reading.text, guild_id, message.author.id,
                                                          answer, earlier.question_id, message.created_at)
                fields = self.render(answer, reading)
        return Outcome(fields, counted=True, question_id=answer.question_id)

    def render(self, answer, reading: Reading) -> dict[str, Any] | None:
        """An answer as a reply's fields; None when unsure and not asked directly (the question is
        logged for the gaps report all the same)."""
        result = answer.result
        if result.asked and result.band != NOT_FOUND:  # "lora vs qlora": both named, so never a guess
            embed, view = render.side_by_side(result)
            return {"embed": embed, "view": dynamic_view(render.with_feedback(view, answer.question_id))}
        if answer.entry is not None and result.best:
            view = render.entry_view(answer.entry, answer.related or [], others=answer.others)
            return {"embed": render.entry_embed(answer.entry, result.best.match, others=answer.others,
                                                note=answer.note, sense=answer.sense, lacking=answer.lacking),
                    "view": dynamic_view(render.with_feedback(view, answer.question_id))}
        if not reading.mentioned:
            return None
        if result.band == SUGGEST and result.hits:
            entries = [h.entry for h in result.hits[:SUGGESTIONS]]
            view = render.with_feedback(render.suggestions_view(entries), answer.question_id)
            return {"content": render.suggest_text(reading.text, entries, far=result.far, note=result.note,
                                                   lacking=bool(result.lacking)),
                    "view": dynamic_view(view)}
        return {"content": render.not_found_text(reading.text, result)}

    def _answer(self, text: str, guild_id: int | None, user_id: int, log: bool = True,
                asked_at: datetime | None = None):
        """The search, with the server's aliases and note; with `log`, the question logged for
        the gaps report and the votes."""
        answer = self.bot.answer_in(text, guild_id)
        answer.note = self.bot.server_note(guild_id, answer.entry)
        answer.question_id = self._log(text, guild_id, user_id, answer, asked_at=asked_at) if log else None
        return answer

    def _log(self, text: str, guild_id: int | None, user_id: int, answer, replaces: int | None = None,
             asked_at: datetime | None = None) -> int | None:
        """The question logged (`replaces`: the one logged for this message before its author edited it)."""
        return self.bot.log_question(guild_id, user_id, "study", text, answer, replaces, asked_at)

    async def remember(self, message: discord.Message, reading: Reading, outcome: Outcome, reply_id: int | None,
                       earlier: Asked | None = None, *, changed: bool = True) -> None:
        """Keep what was said to the message, for its edits: once it was searched or got a reply.
        `changed`: an edit changed the reply (sent, edited or deleted it)."""
        counted = outcome.counted or (earlier is not None and earlier.counted)
        if not counted and reply_id is None:
            # nothing said, nothing spent: an edit of it is a new question (only a record may need dropping)
            if earlier is not None:
                await self.asked.drop(message.id)
            else:
                self.asked.forget(message.id)
            return
        question_id = outcome.question_id if outcome.question_id is not None else (
            earlier.question_id if earlier else None)
        reanswered = earlier is not None and earlier.counted and outcome.counted
        reanswers = 0 if earlier is None else earlier.reanswers + int(reanswered and changed)
        searches = 0 if earlier is None else earlier.searches + int(reanswered)
        look = appearance(outcome.reply) if reply_id is not None else None
        used = earlier is not None and earlier.used_by_others and reply_id == earlier.reply_id
        await self.asked.keep(message.id, Asked(reading.key, message.created_at.timestamp(), counted, reply_id,
                                                question_id, reanswers, look, searches, author_id=message.author.id,
                                                used_by_others=used))

    async def reply(self, message: discord.Message, took_cooldown: bool = False, **kwargs) -> int | None:
        """Reply to the message; the reply's id, or None if Discord refused it. `took_cooldown`: the
        reply is the answer its author's cooldown was taken for."""
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
        try:
            sent = await message.reply(mention_author=False, allowed_mentions=render.NO_MENTIONS, **kwargs)
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
            # no permission, the message deleted meanwhile, or Discord's own trouble
            log.warning("could not reply in channel %s: %s", message.channel.id, " ".join(str(exc).split()))
            if took_cooldown and (not isinstance(exc, discord.HTTPException) or exc.status == 429
                                  or exc.status >= 500):
                # Discord's trouble, not the channel's: the asker heard nothing, so their next question is
                # not refused for the reply they never got (QA67; a channel the bot may not post in keeps it)
                self.cooldown.get_bucket(message, self.clock()).reset()
            return None
        return sent.id


async def setup(bot) -> None:
    await bot.add_cog(Study(bot))
