"""Term of the day: a once-a-minute check that posts each server's term once per local day.

The state database is written before the message is sent (claim), so a crash
or restart never posts twice; a failed send is recorded and shown in
`/glossary config show`.
"""

from __future__ import annotations

import asyncio
import logging

import discord
from discord.ext import commands, tasks

from ...glossary.daily import ScheduleError
from ...state import GuildConfig
from .. import render
from ..ui import dynamic_view

log = logging.getLogger(__name__)


class Daily(commands.Cog):
    def __init__(self, bot) -> None:
        self.bot = bot
        self.now = bot.now  # injectable clock (tests replace it)
        self._lock = asyncio.Lock()
        self.loop = tasks.loop(seconds=bot.daily_interval)(self._tick)
        self.loop.before_loop(self._before)

    async def cog_load(self) -> None:
        self.loop.start()

    async def cog_unload(self) -> None:
        self.loop.cancel()

    async def _before(self) -> None:
        await self.bot.wait_until_ready()

    async def _tick(self) -> None:
        try:
            await self.post_due()
        except Exception:  # never let the loop die
            log.exception("daily check failed")

    async def post_due(self) -> int:
        """Post every due term of the day; returns how many were posted."""
        async with self._lock:
            state = self.bot.state
            if state is None:
                return 0
            posted = 0
            for config in await asyncio.to_thread(state.all_configs):
                if not (config.daily_enabled and config.daily_channel_id):
                    continue
                try:
                    posted += await self.post_for(config)
                except Exception:
                    log.exception("daily post failed for guild %s", config.guild_id)
            return posted

    async def post_for(self, config: GuildConfig) -> int:
        state = self.bot.state
        try:
            schedule = config.schedule
        except ScheduleError as exc:
            log.warning("guild %s has an unusable schedule: %s", config.guild_id, exc)
            return 0
        now = self.now()
        if not schedule.is_due(now, state.last_claimed_day(config.guild_id)):
            return 0
        day = schedule.local_day(now)
        term = await asyncio.to_thread(state.claim_daily_post, config.guild_id, day, self.bot.all_terms())
        if term is None:
            return 0
        error = None
        try:
            entry = self.bot.entry_by_term(term)
            if entry is None:
                raise LookupError(f"term {term!r} is no longer in the glossary")
            related = await asyncio.to_thread(self.bot.searcher.related, entry.id)
            channel = self.bot.get_channel(config.daily_channel_id) or await self.bot.fetch_channel(
                config.daily_channel_id)
            await channel.send(
                content=f"📘 Term of the day ({day.isoformat()})",
                embed=render.entry_embed(entry),
                view=dynamic_view(render.entry_view(entry, related)),
                allowed_mentions=render.NO_MENTIONS,
            )
        except discord.Forbidden:
            error = f"no permission to post in channel {config.daily_channel_id} (needs Send Messages, Embed Links)"
        except discord.NotFound:
            error = f"daily channel {config.daily_channel_id} no longer exists: set another one"
        except (discord.HTTPException, LookupError) as exc:
            error = f"could not post the term of the day: {exc}"
        if error:
            log.warning("guild %s: %s", config.guild_id, error)
        await asyncio.to_thread(state.finish_daily_post, config.guild_id, day, error)
        return 0 if error else 1


async def setup(bot) -> None:
    await bot.add_cog(Daily(bot))
