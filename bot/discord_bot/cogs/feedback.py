"""👍 / 👎 under answers, "which entry did you want?" after a 👎, and the retention of
logged questions.

A vote is one per user per answer (changing it replaces it); the voter is stored as a
salted hash. The buttons name the logged question, so they work after a restart; a
question past the retention period says so. Once a day (and at start) questions older
than GLOSSARY_LOG_RETENTION_DAYS are deleted with their votes.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import discord
from discord.ext import commands, tasks

from ...state.feedback import DOWN, NOT_IN_GLOSSARY, UP
from .. import render
from ..ui import FeedbackSelect, in_quick_pool, log_failure, safe_reply

log = logging.getLogger(__name__)
NONE_OF_THESE = "-"  # the menu's "none of these / not in the glossary"
RETENTION_CHECK_HOURS = 6


class Feedback(commands.Cog):
    def __init__(self, bot) -> None:
        self.bot = bot
        self.retention = tasks.loop(hours=RETENTION_CHECK_HOURS)(self._retention_tick)

    async def cog_load(self) -> None:
        self.retention.start()

    async def cog_unload(self) -> None:
        self.retention.cancel()

    async def _retention_tick(self) -> None:
        try:
            removed = await self.purge()
            if removed:
                log.info("deleted %d logged questions past retention", removed)
        except Exception as exc:  # never let the loop die; an unavailable state database in one line
            log_failure("retention purge failed", exc)

    async def purge(self) -> int:
        if self.bot.state is None:
            return 0
        now = self.bot.now()
        # the edit memory's rows also go here: saving a newer question is what deletes them otherwise,
        # and a quiet server's last question (with its asker's id) would stay for good
        await in_quick_pool(self.bot.state.asked.purge, now.timestamp())
        before = now - timedelta(days=self.bot.settings.log_retention_days)
        return await in_quick_pool(self.bot.state.feedback.purge, before)

    # -- votes ---------------------------------------------------------------------------------

    def _vote(self, question_id: int, user_id: int, vote: int):
        feedback = self.bot.state.feedback
        question = feedback.question(question_id)
        if question is None or not feedback.vote(question_id, self.bot.user_hash(user_id), vote, self.bot.now()):
            return None
        return question

    async def on_button(self, interaction: discord.Interaction, custom_id: str) -> None:
        vote, _, number = custom_id.removeprefix(render.FEEDBACK_PREFIX).partition(":")
        question = await in_quick_pool(self._vote, int(number), interaction.user.id, UP if vote == "up" else DOWN)
        if question is None:
            # Its question is gone: past the log's retention, or deleted by its asker's /forget-me.
            await safe_reply(interaction, "That answer's question is no longer kept (it was deleted or is past "
                                          "the log's retention), so it takes no more votes.")
            return
        if vote == "up":
            await safe_reply(interaction, "Thanks! Noted 👍 (press 👎 to change your vote).")
            return
        values = {t[:100]: t for t in question.candidates if t != question.answer_term and t[:100] != NONE_OF_THESE}
        options = [discord.SelectOption(label=render.clip(term, 100), value=value)
                   for value, term in list(values.items())[:23]]  # one option per value: Discord refuses repeats
        options.append(discord.SelectOption(label="None of these / not in the glossary", value=NONE_OF_THESE))
        view = discord.ui.View(timeout=None)
        view.add_item(FeedbackSelect(question.question_id, options))
        await interaction.response.send_message(
            "Noted 👎. Which entry did you want? It helps whoever keeps the glossary.", view=view, ephemeral=True,
            allowed_mentions=render.NO_MENTIONS)

    async def on_wanted(self, interaction: discord.Interaction, question_id: int, value: str) -> None:
        wanted = NOT_IN_GLOSSARY if value == NONE_OF_THESE else value
        if wanted:  # a value cut at 100 characters: the whole name, if exactly one entry starts so
            entry = self.bot.searcher.index.entry_named(wanted, cut=True)
            wanted = entry.term if entry is not None else wanted
        saved = await in_quick_pool(self.bot.state.feedback.set_wanted, question_id,
                                    self.bot.user_hash(interaction.user.id), wanted)
        if not saved:
            text = "Your 👎 on that answer is gone (changed, or too old), so there is nothing to add it to."
        elif wanted:
            text = f"Thanks: you wanted **{discord.utils.escape_markdown(render.clip(wanted, 100))}**. Noted."
        else:
            text = "Thanks: noted as not in the glossary. Its keepers see it in the gaps report."
        await interaction.response.edit_message(content=text, view=None, allowed_mentions=render.NO_MENTIONS)


async def setup(bot) -> None:
    await bot.add_cog(Feedback(bot))
