"""/define, /ask, /related, /random, /today and the buttons on their answers."""

from __future__ import annotations

import logging
import random

import discord
from discord import app_commands
from discord.ext import commands

from ...glossary.daily import term_of_the_day
from ...glossary.search import SUGGEST
from .. import render
from ..bot import Answer
from ..ui import dynamic_view, in_quick_pool, respond, run_timed, term_choices

log = logging.getLogger(__name__)
SUGGESTIONS = 3  # "did you mean": at most this many candidates


class Lookup(commands.Cog):
    def __init__(self, bot) -> None:
        self.bot = bot

    # -- work done in a thread ---------------------------------------------------------

    def _answer(self, query: str) -> Answer:  # the commands' search (tests slow it down here)
        return self.bot.answer(query)

    def _today(self, guild_id: int | None):
        """(day, term) of the term of the day: a server's own order (state DB reads and
        writes), or in a DM the console's pick for the date (a shuffle of every entry)."""
        if guild_id is None:
            day = self.bot.now().date()
            entries = self.bot.searcher.index.entries
            return day, entries[term_of_the_day(entries, day)].term
        day = self.bot.state.config(guild_id).schedule.local_day(self.bot.now())
        return day, self.bot.state.term_for_day(guild_id, day, self.bot.all_terms())

    # -- sending ---------------------------------------------------------------------

    async def send_entry(self, interaction: discord.Interaction, deferred: bool, answer: Answer, *,
                         how: str | None = None, content: str | None = None) -> None:
        view = dynamic_view(render.entry_view(answer.entry, answer.related or [], others=answer.others))
        embed = render.entry_embed(answer.entry, how, others=answer.others)
        await respond(interaction, deferred, content=content, embed=embed, view=view)

    async def send_result(self, interaction: discord.Interaction, query: str, answer: Answer,
                          deferred: bool) -> None:
        result = answer.result
        if answer.entry is not None:
            await self.send_entry(interaction, deferred, answer, how=result.best.match if result.best else None)
        elif result.band == SUGGEST and result.hits:
            entries = [h.entry for h in result.hits[:SUGGESTIONS]]
            await respond(interaction, deferred, ephemeral=True, content=render.suggest_text(query, entries),
                          view=dynamic_view(render.suggestions_view(entries)))
        else:
            await respond(interaction, deferred, ephemeral=True, content=render.not_found_text(query, result))

    # -- commands --------------------------------------------------------------------

    @app_commands.command(name="define", description="Look up a glossary term")
    @app_commands.describe(term="Term, abbreviation or alias")
    async def define(self, interaction: discord.Interaction, term: app_commands.Range[str, 1, 200]) -> None:
        answer, deferred = await run_timed(interaction, self._answer, term)
        await self.send_result(interaction, term, answer, deferred)

    @define.autocomplete("term")
    async def define_autocomplete(self, interaction: discord.Interaction,
                                  current: str) -> list[app_commands.Choice[str]]:
        return await term_choices(self.bot.searcher, current)

    @app_commands.command(name="ask", description="Ask a question about the glossary in your own words")
    @app_commands.describe(question="Your question, e.g. what does attention do in a transformer?")
    async def ask(self, interaction: discord.Interaction, question: app_commands.Range[str, 1, 1000]) -> None:
        answer, deferred = await run_timed(interaction, self._answer, question)
        await self.send_result(interaction, question, answer, deferred)

    @app_commands.command(name="related", description="Terms related to a glossary term")
    @app_commands.describe(term="Term, abbreviation or alias")
    async def related(self, interaction: discord.Interaction, term: app_commands.Range[str, 1, 200]) -> None:
        answer, deferred = await run_timed(interaction, self._answer, term)
        if answer.entry is None:
            await self.send_result(interaction, term, answer, deferred)
            return
        view = dynamic_view(render.suggestions_view([r.entry for r in answer.related or []]))
        await respond(interaction, deferred, embed=render.related_embed(answer.entry, answer.related or []),
                      view=view)

    related.autocomplete("term")(define_autocomplete)

    @app_commands.command(name="random", description="A random glossary entry")
    async def random_entry(self, interaction: discord.Interaction) -> None:
        entry = random.choice(list(self.bot.searcher.index.entries.values()))
        answer, deferred = await run_timed(interaction, self.bot.answer_entry, entry)
        await self.send_entry(interaction, deferred, answer)

    @app_commands.command(name="today", description="Today's term of the day")
    async def today(self, interaction: discord.Interaction) -> None:
        day, term = await in_quick_pool(self._today, interaction.guild_id)
        answer, deferred = await run_timed(interaction, self.bot.answer_term, term)
        if answer is None:
            await respond(interaction, deferred, ephemeral=True, content="Today's term is no longer in the glossary.")
            return
        await self.send_entry(interaction, deferred, answer, content=f"📘 Term of the day ({day.isoformat()})")

    # -- buttons ---------------------------------------------------------------------

    async def on_button(self, interaction: discord.Interaction, kind: str, term: str, page: int) -> None:
        answer, deferred = await run_timed(interaction, self.bot.answer_term, term)
        if answer is None:
            await respond(interaction, deferred, ephemeral=True,
                          content=f"“{render.escape_user_text(term, 100)}” is no longer in the glossary.")
            return
        if kind == "page" and not deferred:
            view = dynamic_view(render.entry_view(answer.entry, answer.related or [], page))
            await interaction.response.edit_message(embed=render.entry_embed(answer.entry, None, page), view=view,
                                                    allowed_mentions=render.NO_MENTIONS)
            return
        await self.send_entry(interaction, deferred, answer)


async def setup(bot) -> None:
    await bot.add_cog(Lookup(bot))
