"""Helpers for the fault tests: an injectable clock, a fast daily loop, state set up before start."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.discord_bot.bot import GlossaryBot
from tests.fake_discord import (
    FakeChannel,
    FakeDiscord,
    FakeGuild,
    RecordedCallback,
    RecordedMessage,
    discord_py_pointed_at,
)

from .helpers import configure, make_bot

#: the daily loop checks every 50 ms in these tests instead of every minute
FAST_CHECK_SECONDS = 0.05


class Clock:
    """The bot's injected clock: the test moves it, the daily loop reads it."""

    def __init__(self, iso: str) -> None:
        self.now = datetime.fromisoformat(iso)

    def __call__(self) -> datetime:
        return self.now

    def set(self, iso: str) -> None:
        self.now = datetime.fromisoformat(iso)


def daily_bot(settings: Settings, embedder, clock: Clock) -> GlossaryBot:
    """A bot on `clock` whose daily loop runs every FAST_CHECK_SECONDS (read when the cog loads)."""
    bot = make_bot(settings, embedder, now=clock)
    bot.daily_interval = FAST_CHECK_SECONDS
    return bot


def daily_settings(channel: FakeChannel, at: str = "09:00", zone: str = "UTC") -> dict[str, Any]:
    return {"daily_channel_id": channel.id, "daily_time": at, "timezone": zone, "daily_enabled": True}


def server_with_daily_post(fake: FakeDiscord, state_path: Path, at: str) -> tuple[FakeGuild, FakeChannel]:
    """A server with #general and #daily whose daily post (UTC) an earlier run set up in #daily."""
    guild = fake.add_guild(channels=["general", "daily"])
    daily = guild.channel("daily")
    configure(state_path, guild.id, **daily_settings(daily, at))
    return guild, daily


async def daily_checks(fake: FakeDiscord, bot: GlossaryBot, n: int = 3) -> None:
    """Wait until the daily loop has run `n` more times: a count of checks, not a duration."""
    loop = bot.get_cog("Daily").loop
    target = loop.current_loop + n
    await fake.wait_for(lambda: loop.current_loop >= target, timeout=30, what=f"{n} more daily checks")


def posts_in(fake: FakeDiscord, channel: FakeChannel) -> list[RecordedMessage]:
    """Messages the bot posted in `channel` itself (not interaction responses)."""
    return [m for m in fake.channel_messages if m.channel_id == channel.id]


def statuses(fake: FakeDiscord, method: str, path: str) -> list[int]:
    """HTTP statuses the bot got for `method path`, in order (injected failures included)."""
    return [r.status for r in fake.requests if r.method == method and r.path == path]


async def command(fake: FakeDiscord, name: str, options: dict[str, Any] | None = None, *,
                  user=None, timeout: float = 5.0) -> RecordedCallback:
    """Invoke a slash command as `user` and return the bot's response."""
    interaction = await fake.send_slash_command(name, options or {}, user=user)
    return await fake.wait_for_response(interaction, timeout=timeout)


@contextlib.asynccontextmanager
async def running_with_token(fake: FakeDiscord, bot: GlossaryBot, token: str) -> AsyncIterator[asyncio.Task]:
    """Start `bot` with `token`; yields its `start()` task (which may end by itself, e.g. on 4004)."""
    with discord_py_pointed_at(fake):
        task = asyncio.create_task(bot.start(token))
        try:
            await asyncio.wait_for(bot.wait_until_ready(), 30)
            yield task
        finally:
            await bot.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 10)


def withhold_at_connect(fake: FakeDiscord, guild_ids: set[int]) -> None:
    """While `guild_ids` holds a server's id, a (re)connecting bot gets no GUILD_CREATE for it: it
    stays as READY named it, unavailable, as during a Discord outage of that server."""
    original = fake._dispatch_to

    async def dispatch_to(session, event, data):
        if event == "GUILD_CREATE" and int(data["id"]) in guild_ids:
            return None
        return await original(session, event, data)

    fake._dispatch_to = dispatch_to  # type: ignore[method-assign]


def guild_back(fake: FakeDiscord, guild) -> None:
    """The server is available again: GUILD_CREATE with all of it, to every session that has it."""
    for session in fake._sessions_for(guild.id):
        fake._spawn(fake._dispatch_to(session, "GUILD_CREATE", fake._guild_create_for(session, guild)))
