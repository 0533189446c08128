"""/quiz: one multiple-choice question for the caller, answered with a button.

The question is private (ephemeral) and lives in its buttons (render_quiz), so an answer
clicked after a restart still counts; no model call is made anywhere here.
"""

from __future__ import annotations

import random

import discord
from discord import app_commands
from discord.ext import commands

from ...glossary.quiz import QuizMaker
from .. import render, render_quiz
from ..ui import dynamic_view, in_quick_pool, safe_reply


class Quiz(commands.Cog):
    def __init__(self, bot) -> None:
        self.bot = bot
        self.codec = render_quiz.QuizCodec(render_quiz.secret_for(bot.settings.discord_token))
        self._maker: QuizMaker | None = None

    def maker(self) -> QuizMaker:
        """The quiz for the index being served (made again if the index was rebuilt)."""
        index = self.bot.searcher.index
        if self._maker is None or self._maker.index is not index:
            self._maker = QuizMaker(index)
        return self._maker

    # -- work done in a thread -----------------------------------------------------------

    def _new_question(self):
        quiz = self.maker()
        question = quiz.question(random.Random())
        return render_quiz.question_embed(question, quiz), render_quiz.question_view(question, quiz, self.codec)

    def _result(self, custom_id: str):
        parsed = self.codec.parse(custom_id)
        quiz = self.maker()
        if parsed is None or not quiz.is_valid(parsed[0]):
            return None
        question, pick = parsed
        answer = self.bot.answer_entry(quiz.index.entries[question.answer])
        embed = render_quiz.result_embed(question, pick, quiz.index.entries)
        return embed, render_quiz.result_view(answer.entry, answer.related or [])

    # -- Discord ---------------------------------------------------------------------------

    @app_commands.command(name="quiz", description="A multiple-choice question on a glossary term, just for you")
    async def quiz(self, interaction: discord.Interaction) -> None:
        embed, view = await in_quick_pool(self._new_question)
        await interaction.response.send_message(embed=embed, view=dynamic_view(view), ephemeral=True,
                                                allowed_mentions=render.NO_MENTIONS)

    async def on_button(self, interaction: discord.Interaction, custom_id: str) -> None:
        if custom_id == render_quiz.NEXT_ID:
            embed, view = await in_quick_pool(self._new_question)
            await interaction.response.send_message(embed=embed, view=dynamic_view(view), ephemeral=True,
                                                    allowed_mentions=render.NO_MENTIONS)
            return
        shown = await in_quick_pool(self._result, custom_id)
        if shown is None:
            await safe_reply(interaction, "That question is no longer in the glossary. Try /quiz for a new one.")
            return
        embed, view = shown
        await interaction.response.edit_message(embed=embed, view=dynamic_view(view),
                                                allowed_mentions=render.NO_MENTIONS)


async def setup(bot) -> None:
    await bot.add_cog(Quiz(bot))
