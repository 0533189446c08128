"""Point the real discord.py client at a running FakeDiscord."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from .core import FakeDiscord


def point_discord_py_at(fake: FakeDiscord) -> Callable[[], None]:
    """Point the (process-global) discord.py endpoints at ``fake``; returns ``restore()``.

    discord.py 2.7.1 builds REST URLs from ``discord.http.Route.BASE`` (a ``str`` class
    attribute, read when each ``Route`` is created) and connects to
    ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` (a ``yarl.URL``) unless a
    resume URL is known. Webhook/interaction routes reuse ``discord.http.Route``.
    """
    import discord.gateway
    import discord.http
    import yarl

    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = fake.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)

    def restore() -> None:
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway

    return restore


@contextlib.contextmanager
def discord_py_pointed_at(fake: FakeDiscord) -> Iterator[FakeDiscord]:
    """Context-manager form of :func:`point_discord_py_at` (restores on exit)."""
    restore = point_discord_py_at(fake)
    try:
        yield fake
    finally:
        restore()


def run_checked(test: Callable[[], Awaitable[None]], timeout: float = 60) -> None:
    """``asyncio.run`` plus a check that nothing reached the loop's exception handler."""
    problems: list[dict[str, Any]] = []

    async def main() -> None:
        asyncio.get_running_loop().set_exception_handler(lambda _loop, ctx: problems.append(ctx))
        await asyncio.wait_for(test(), timeout)

    asyncio.run(main())
    gc.collect()  # unclosed aiohttp sessions report from __del__
    assert not problems, problems
