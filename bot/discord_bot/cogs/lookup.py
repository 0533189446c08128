"""/define, /ask, /related, /random, /today and the buttons on their answers."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from datetime import datetime

import discord
from discord import app_commands
from discord.ext import commands, tasks

from ...glossary.daily import daily_entries, term_of_the_day
from ...glossary.normalize import has_link, storable
from ...glossary.search import NOT_FOUND, SUGGEST, SUGGESTIONS, clean_query
from .. import render
from ..bot import Answer
from ..ui import dynamic_view, in_quick_pool, respond, run_timed, safe_reply, term_choices

log = logging.getLogger(__name__)
# /ask, /define and /related together, a person: a search may cost the shared search pool a model
# call, and each question is logged for the keepers; far more than anyone reads in a minute, and a
# script flooding the bot through any of them is held off.
ASKS, ASKS_PER = 20, 60.0


class Lookup(commands.Cog):
    def __init__(self, bot) -> None:
        self.bot = bot
        self._asks: dict[int, app_commands.Cooldown] = {}
        self.clock: Callable[[], float] = time.time  # the allowance's (tests move it on)
        self.index_watch = tasks.loop(seconds=bot.index_check)(self._index_tick)

    async def cog_load(self) -> None:
        self.index_watch.before_loop(self._not_at_start_up)
        self.index_watch.start()

    async def _not_at_start_up(self) -> None:
        await asyncio.sleep(self.bot.index_check)  # the index was just opened: nothing to check yet

    async def cog_unload(self) -> None:
        self.index_watch.cancel()

    async def _index_tick(self) -> None:
        try:
            await asyncio.to_thread(self.bot.reopen_if_rebuilt)  # rare: a reload takes ~0.1 s
        except Exception:  # never let the loop die
            log.exception("could not check whether the index was rebuilt")

    def _ask_wait(self, user_id: int) -> float | None:
        """Seconds until the user may look up again (/ask, /define, /related), or None: this one is
        within their allowance."""
        now = self.clock()
        if len(self._asks) > 10_000:  # people who asked long ago hold full allowances: forget them
            self._asks = {u: c for u, c in self._asks.items() if c.get_tokens(now) < c.rate}
        return self._asks.setdefault(user_id, app_commands.Cooldown(ASKS, ASKS_PER)).update_rate_limit(now)

    # -- work done in a thread ---------------------------------------------------------

    def _answer(self, query: str, guild_id: int | None = None, user_id: int | None = None,
                source: str | None = None, asked_at: datetime | None = None) -> Answer:
        """The commands' search (tests slow it down here): the server's aliases first, its
        note on the entry, and the question logged (with `source`) for the gaps report."""
        answer = self.bot.answer_in(query, guild_id)
        answer.note = self.bot.server_note(guild_id, answer.entry)
        if source is not None and user_id is not None:
            answer.question_id = self.bot.log_question(guild_id, user_id, source, query, answer, asked_at=asked_at)
        return answer

    def _term(self, term: str, guild_id: int | None, cut: bool = False) -> Answer | None:
        """A term's entry (a button, the term of the day), with the server's note on it; no model
        call (bot.entry_by_term)."""
        answer = self.bot.answer_term(term, cut=cut)
        if answer is not None:
            answer.note = self.bot.server_note(guild_id, answer.entry)
        return answer

    def _today(self, guild_id: int | None):
        """(day, term) of the term of the day: a server's own order (state DB reads and
        writes), or in a DM the console's pick for the date (a shuffle of every entry)."""
        if guild_id is None:
            day = self.bot.now().date()
            entries = self.bot.searcher.index.entries
            return day, entries[term_of_the_day(daily_entries(entries), day)].term
        config = self.bot.state.config(guild_id)
        day = config.schedule.local_day(self.bot.now())
        return day, self.bot.state.term_for_day(guild_id, day, self.bot.daily_terms(), config.timezone,
                                                term_now=self.bot.term_now)

    # -- sending ---------------------------------------------------------------------

    async def held_off(self, interaction: discord.Interaction) -> bool:
        """Refuse, privately, a lookup over the person's allowance (True); False: go ahead."""
        wait = self._ask_wait(interaction.user.id)
        if wait:
            await respond(interaction, False, ephemeral=True, content=f"That's {ASKS} questions and lookups in a "
                                                                      f"minute: ask again in {max(1, round(wait))} s.")
        return bool(wait)

    async def send_entry(self, interaction: discord.Interaction, deferred: bool, answer: Answer, *,
                         how: str | None = None, content: str | None = None) -> None:
        view = render.entry_view(answer.entry, answer.related or [], others=answer.others)
        view = dynamic_view(render.with_feedback(view, answer.question_id))
        embed = render.entry_embed(answer.entry, how, others=answer.others, note=answer.note, sense=answer.sense,
                                   lacking=answer.lacking)
        await respond(interaction, deferred, content=content, embed=embed, view=view)

    async def send_result(self, interaction: discord.Interaction, query: str, answer: Answer,
                          deferred: bool) -> None:
        result = answer.result
        interaction.extras["outcome"] = result.band  # the metrics' outcome for this command
        if result.asked and result.band != NOT_FOUND:  # "lora vs qlora": both, side by side
            embed, view = render.side_by_side(result)
            view = render.with_feedback(view, answer.question_id)
            await respond(interaction, deferred, embed=embed, view=dynamic_view(view))
        elif answer.entry is not None:
            await self.send_entry(interaction, deferred, answer, how=result.best.match if result.best else None)
        elif result.band == SUGGEST and result.hits:
            entries = [h.entry for h in result.hits[:SUGGESTIONS]]
            view = render.with_feedback(render.suggestions_view(entries), answer.question_id)
            content = render.suggest_text(query, entries, far=result.far, note=result.note,
                                        lacking=bool(result.lacking))
            await respond(interaction, deferred, ephemeral=True, content=content, view=dynamic_view(view))
        else:
            await respond(interaction, deferred, ephemeral=True, content=render.not_found_text(query, result))

    # -- commands --------------------------------------------------------------------

    @app_commands.command(name="define", description="Look up a glossary term")
    @app_commands.describe(term="Term, abbreviation or alias")
    async def define(self, interaction: discord.Interaction, term: app_commands.Range[str, 1, 200]) -> None:
        if await self.held_off(interaction):
            return
        answer, deferred = await run_timed(interaction, self._answer, term, interaction.guild_id,
                                           interaction.user.id, "define", interaction.created_at)
        answer.question_id = None  # a lookup by name: its log row counts it, no 👍/👎 under it
        await self.send_result(interaction, term, answer, deferred)

    @define.autocomplete("term")
    async def define_autocomplete(self, interaction: discord.Interaction,
                                  current: str) -> list[app_commands.Choice[str]]:
        choices = await term_choices(self.bot.searcher, current)
        if interaction.guild_id and current:  # the server's own aliases, labelled as its
            needle = current.casefold()

            def matching():  # each under its entry's name now: one the glossary renamed, or none if it left
                aliases = self.bot.state.additions.aliases(interaction.guild_id)
                return [(alias, self.bot.term_now(term)) for alias, term in aliases if needle in alias.casefold()
                        and self.bot.glossary_name_for(alias) is None]  # not one the glossary took since

            mine = [app_commands.Choice(name=render.clip(f"{storable(alias)} → {term} (this server's alias)",
                                                         render.CHOICE_NAME_MAX), value=render.clip(alias, 100))
                    for alias, term in await in_quick_pool(matching) if term is not None]
            choices = (mine + choices)[: render.CHOICES_MAX]
        return choices

    @app_commands.command(name="ask", description="Ask a question about the glossary in your own words")
    @app_commands.describe(question="Your question, e.g. what does attention do in a transformer?")
    async def ask(self, interaction: discord.Interaction, question: app_commands.Range[str, 1, 1000]) -> None:
        if not clean_query(question) and not has_link(question):  # "thanks!", "hi", as in a message (QA74)
            await safe_reply(interaction, render.to_chatter(question))
            return
        if await self.held_off(interaction):
            return
        answer, deferred = await run_timed(interaction, self._answer, question, interaction.guild_id,
                                           interaction.user.id, "ask", interaction.created_at)
        await self.send_result(interaction, question, answer, deferred)

    @app_commands.command(name="related", description="Terms related to a glossary term")
    @app_commands.describe(term="Term, abbreviation or alias")
    async def related(self, interaction: discord.Interaction, term: app_commands.Range[str, 1, 200]) -> None:
        if await self.held_off(interaction):
            return
        answer, deferred = await run_timed(interaction, self._answer, term, interaction.guild_id)
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
        answer, deferred = await run_timed(interaction, self._term, term, interaction.guild_id)
        if answer is None:
            await respond(interaction, deferred, ephemeral=True, content="Today's term is no longer in the glossary.")
            return
        await self.send_entry(interaction, deferred, answer, content=f"📘 Term of the day ({day.isoformat()})")

    # -- buttons ---------------------------------------------------------------------

    async def on_button(self, interaction: discord.Interaction, kind: str, term: str, page: int) -> None:
        cut = len((interaction.data or {}).get("custom_id", "")) >= render.CUSTOM_ID_MAX
        if kind == "page":
            # A page turns in place: resolved without the search pool, where a queue of questions
            # would make this a deferred reply, posted anew at page 1.
            answer, deferred = await in_quick_pool(self._term, term, interaction.guild_id, cut), False
        else:
            answer, deferred = await run_timed(interaction, self._term, term, interaction.guild_id, cut)
        if answer is None:
            await respond(interaction, deferred, ephemeral=True,
                          content=f"“{render.escape_user_text(term, 100)}” is no longer in the glossary.")
            return
        if kind == "page":
            message = interaction.message
            shown = message.embeds[0] if message is not None and message.embeds else None
            if shown is not None:  # keep what else the answer carries (a quiz's verdict, other matches …)
                embed, view = render.turn_page(answer.entry, page, shown, message.components)
            else:
                view = render.entry_view(answer.entry, answer.related or [], page)
                embed = render.entry_embed(answer.entry, None, page, note=answer.note)
            await interaction.response.edit_message(embed=embed, view=dynamic_view(view),
                                                    allowed_mentions=render.NO_MENTIONS)
            return
        await self.send_entry(interaction, deferred, answer)


async def setup(bot) -> None:
    await bot.add_cog(Lookup(bot))
