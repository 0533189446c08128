"""Shared helpers for the Discord end-to-end tests (built on tests/fake_discord.py)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.discord_bot.bot import GlossaryBot
from bot.glossary.service import Glossary

try:
    from tests.fake_discord import FakeDiscord, discord_py_pointed_at
except ImportError:  # pragma: no cover
    from fake_discord import FakeDiscord, discord_py_pointed_at  # type: ignore[no-redef]


def make_settings(index_path: Path, state_path: Path, **overrides: Any) -> Settings:
    base = Settings.load(environ={}, dotenv=Path("/nonexistent"))
    return Settings(**{**base.__dict__, "index_path": index_path, "state_path": state_path, **overrides})


def make_bot(settings: Settings, embedder, *, now: Callable[[], datetime] | None = None) -> GlossaryBot:
    kwargs: dict[str, Any] = {"guild_ready_timeout": 0.05}
    if now is not None:
        kwargs["now"] = now
    bot = GlossaryBot(Glossary(settings, embedder=embedder), warm_model=False, **kwargs)

    async def before_identify_hook(shard_id: int | None, *, initial: bool = False) -> None:
        """discord.py sleeps 5 s before re-identifying; pointless against the fake."""

    bot.before_identify_hook = before_identify_hook  # type: ignore[method-assign]
    return bot


@contextlib.asynccontextmanager
async def running(fake: FakeDiscord, bot: GlossaryBot) -> AsyncIterator[GlossaryBot]:
    with discord_py_pointed_at(fake):
        task = asyncio.create_task(bot.start("fake-token"))
        try:
            await fake.wait_ready(timeout=30)
            await asyncio.wait_for(bot.wait_until_ready(), 10)
            yield bot
        finally:
            await bot.close()
            await asyncio.wait_for(task, 10)


def run(test: Callable[[], Awaitable[None]], timeout: float = 60) -> None:
    """asyncio.run plus a check that nothing reached the loop's exception handler."""
    problems: list[dict[str, Any]] = []

    async def main() -> None:
        asyncio.get_running_loop().set_exception_handler(lambda _loop, ctx: problems.append(ctx))
        await asyncio.wait_for(test(), timeout)

    asyncio.run(main())
    gc.collect()
    assert not problems, problems


def assert_no_pings(fake: FakeDiscord) -> None:
    """Every message body the bot sent says allowed_mentions parse []."""
    bodies: list[dict] = []
    for cb in fake.interaction_responses:
        data = cb.data or {}
        if data.get("content") is not None or data.get("embeds"):
            bodies.append(data)
    for req in fake.requests:
        if req.method in ("POST", "PATCH") and isinstance(req.body, dict) and (
            "/messages" in req.path or "/webhooks/" in req.path
        ) and (req.body.get("content") is not None or req.body.get("embeds")):
            bodies.append(req.body)
    assert bodies
    for body in bodies:
        assert body.get("allowed_mentions", {}).get("parse") == [], body
