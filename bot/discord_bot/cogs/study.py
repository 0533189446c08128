"""Answers questions asked in study channels, whenever the bot is mentioned, and in direct messages.

Confident answers are posted as replies; when unsure the bot stays quiet
unless it was mentioned, in which case it says what it found (or that the
glossary does not cover it). Without the Message Content intent Discord only
shows the bot the text of messages that mention it, so empty content is normal.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable

import discord
from discord.ext import commands

from ...glossary.search import NOT_FOUND, SUGGEST, SUGGESTIONS, clean_query
from .. import render
from ..ui import dynamic_view, in_quick_pool, in_search_pool

log = logging.getLogger(__name__)
QUESTION_WORDS = frozenset(
    ["what", "whats", "what's", "who", "whom", "whose", "which", "when", "where", "why", "how", "is", "are", "does", "do", "did", "can", "could", "should", "would", "define", "explain", "meaning"]
)
COOLDOWN_SECONDS = 10.0


def looks_like_question(text: str) -> bool:
    text = text.strip()
    if not text:
        return False
    if text.endswith("?"):
        return True
    first = re.split(r"[\s,:;!.]+", text.lower(), maxsplit=1)[0]
    return first in QUESTION_WORDS


class Study(commands.Cog):
    def __init__(self, bot, *, per: float = COOLDOWN_SECONDS, clock: Callable[[], float] = time.time) -> None:
        self.bot = bot
        self.per = per
        self.clock = clock  # injectable, so a test can move time on instead of sleeping
        self.cooldown = commands.CooldownMapping.from_cooldown(1, per, commands.BucketType.user)
        self.notices = commands.CooldownMapping.from_cooldown(1, per, commands.BucketType.user)  # "ask again in …"

    def strip_mentions(self, message: discord.Message) -> str:
        text = message.content or ""
        if self.bot.user is not None:
            text = re.sub(rf"<@!?{self.bot.user.id}>", " ", text)
        return " ".join(text.split())

    def mentioned(self, message: discord.Message) -> bool:
        me = self.bot.user
        return me is not None and any(u.id == me.id for u in message.mentions)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        try:
            await self.handle(message)
        except Exception:
            log.exception("study reply failed (guild %s, channel %s, message %s)",
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
        if message.author.bot or (self.bot.user and message.author.id == self.bot.user.id):
            return False
        if self.bot.state is None or self.bot.searcher is None:
            return False
        if message.guild is None and not isinstance(message.channel, discord.DMChannel):
            return False  # a group DM: not a conversation with the bot
        # A direct message is asked of the bot as directly as a mention (Discord sends DMs' text
        # without the Message Content intent).
        mentioned = message.guild is None or self.mentioned(message)
        text = self.strip_mentions(message)
        if not mentioned and not looks_like_question(clean_query(text)):
            return False  # chatter: costs no lookup and no cooldown
        if not mentioned and not await self.in_study_channel(message):
            return False
        now = self.clock()
        if wait := self.cooldown.update_rate_limit(message, now):
            # Quiet in a study channel; asked directly, once per wait, say so rather than ignore it.
            if mentioned and not self.notices.update_rate_limit(message, now):
                await self.reply(message, content=f"One question every {self.per:.0f} seconds, "
                                                  f"please: ask again in {max(1, round(wait))} s.")
                return True
            return False
        if not text:
            await self.reply(message, content="Ask me about a term, e.g. “what is attention?”, or use /define.")
            return True
        answer = await in_search_pool(self._answer, text, message.guild.id if message.guild else None,
                                      message.author.id)
        result = answer.result
        if result.asked and result.band != NOT_FOUND:  # "lora vs qlora": both named, so never a guess
            embed, view = render.side_by_side(result)
            await self.reply(message, embed=embed, view=dynamic_view(render.with_feedback(view, answer.question_id)))
            return True
        if answer.entry is not None and result.best:
            view = render.entry_view(answer.entry, answer.related or [], others=answer.others)
            await self.reply(message, embed=render.entry_embed(answer.entry, result.best.match, others=answer.others,
                                                               note=answer.note, sense=answer.sense),
                             view=dynamic_view(render.with_feedback(view, answer.question_id)))
            return True
        if not mentioned:
            return False  # unsure and not asked directly: quiet (the question is logged for the gaps report)
        if result.band == SUGGEST and result.hits:
            entries = [h.entry for h in result.hits[:SUGGESTIONS]]
            view = render.with_feedback(render.suggestions_view(entries), answer.question_id)
            await self.reply(message, content=render.suggest_text(text, entries, far=result.far, note=result.note),
                             view=dynamic_view(view))
        else:
            await self.reply(message, content=render.not_found_text(text, result))
        return True

    def _answer(self, text: str, guild_id: int | None, user_id: int):
        """The search, with the server's aliases and note; the question logged for the gaps report."""
        answer = self.bot.answer_in(text, guild_id)
        answer.note = self.bot.server_note(guild_id, answer.entry)
        answer.question_id = self.bot.log_question(guild_id, user_id, "study", text, answer)
        return answer

    async def reply(self, message: discord.Message, **kwargs) -> None:
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
        try:
            await message.reply(mention_author=False, allowed_mentions=render.NO_MENTIONS, **kwargs)
        except discord.HTTPException as exc:  # no permission, message deleted meanwhile, …
            log.warning("could not reply in channel %s: %s", message.channel.id, exc)


async def setup(bot) -> None:
    await bot.add_cog(Study(bot))
