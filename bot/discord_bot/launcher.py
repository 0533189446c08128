"""`glossary-bot run` with DISCORD_TOKEN set: start the Discord bot.

DISCORD_API_BASE and DISCORD_GATEWAY_URL, when set, point discord.py at
another server (tests use a loopback fake Discord). The token is never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys

import discord

from ..config import Settings
from ..glossary.service import Glossary
from ..state import StateError

log = logging.getLogger(__name__)


def apply_endpoints(settings: Settings) -> None:
    """Point discord.py's REST base and initial gateway URL at the configured servers."""
    import discord.gateway
    import discord.http
    import yarl

    if settings.api_base:
        discord.http.Route.BASE = settings.api_base.rstrip("/")
    if settings.gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.gateway_url)


def _setup_logging(level: str) -> None:
    numeric = getattr(logging, str(level).upper(), logging.WARNING)
    root = logging.getLogger()
    for handler in list(root.handlers):  # the CLI's basicConfig handler: avoid double lines
        root.removeHandler(handler)
    discord.utils.setup_logging(level=numeric, root=True)


async def _serve(glossary: Glossary) -> None:
    from .bot import GlossaryBot

    bot = GlossaryBot(glossary)
    loop = asyncio.get_running_loop()
    closing: list[asyncio.Task] = []

    def stop(name: str) -> None:
        if not closing:
            log.info("%s received: closing", name)
            closing.append(loop.create_task(bot.close()))

    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop, sig.name)
    async with bot:
        await bot.start(glossary.settings.discord_token or "", reconnect=True)
    if closing:
        await closing[0]


def run_bot(glossary: Glossary, log_level: str = "WARNING") -> int:
    _setup_logging(log_level)
    apply_endpoints(glossary.settings)
    try:
        asyncio.run(_serve(glossary))
    except discord.LoginFailure:
        print("glossary-bot: Discord rejected DISCORD_TOKEN: copy the bot token again from the developer "
              "portal (Bot → Reset Token) into .env", file=sys.stderr)
        return 1
    except discord.PrivilegedIntentsRequired:
        print("glossary-bot: GLOSSARY_MESSAGE_CONTENT=true needs the Message Content intent: enable it in the "
              "developer portal (Bot → Privileged Gateway Intents) or set it to false", file=sys.stderr)
        return 1
    except StateError as exc:
        print(f"glossary-bot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    return 0
