"""`glossary-bot run` with DISCORD_TOKEN set: start the Discord bot.

DISCORD_API_BASE and DISCORD_GATEWAY_URL, when set, point discord.py at
another server (tests use a loopback fake Discord). The token is never logged.

What an admin sees when something is wrong:
- a problem only they can fix (bad token, intent not enabled, model files
  missing, state database unusable, index that cannot be rebuilt) stops the
  bot once, before it connects where possible, with one line on stderr and
  exit code 78 (EX_CONFIG); compose.yaml's `restart: unless-stopped` starts
  it again with Docker's growing pause (at most about once a minute), so the
  same one line repeats until the admin fixes it;
- a damaged index is moved aside and rebuilt from the glossary (a warning in
  the log), since it is only a cache;
- Discord unreachable at start-up (network down, Discord outage) is retried
  here with a growing pause, one warning line each time, instead of exiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import sys

import aiohttp
import discord

from ..cli import EXIT_CONFIG  # 78, sysexits.h EX_CONFIG: restarting will not help until an admin acts
from ..config import ConfigError, Settings
from ..glossary.embeddings import ModelLoadError
from ..glossary.index import IndexError_
from ..glossary.parse import GlossaryFormatError
from ..glossary.service import Glossary
from ..state import StateError

log = logging.getLogger(__name__)

# Local problems that need an admin; OSError covers files we cannot read or create.
PERMANENT_ERRORS = (ConfigError, GlossaryFormatError, IndexError_, ModelLoadError, StateError, OSError)
# Failures to reach Discord before the gateway connection exists (discord.py
# retries those after it by itself, with reconnect=True).
UNREACHABLE = (aiohttp.ClientConnectionError, asyncio.TimeoutError, discord.DiscordServerError,
               discord.GatewayNotFound)
RETRY_FIRST, RETRY_MAX = 5.0, 300.0  # seconds between attempts to reach Discord


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
    # discord.py colours its log lines at a terminal and in any container (docker logs, files
    # included); NO_COLOR (no-color.org) asks for plain ones
    plain = {"formatter": logging.Formatter("[{asctime}] [{levelname:<8}] {name}: {message}", "%Y-%m-%d %H:%M:%S",
                                            style="{")} if os.environ.get("NO_COLOR") else {}
    discord.utils.setup_logging(level=numeric, root=True, **plain)
    # The bot has no voice features; without this every start logs two warnings about voice libraries.
    discord.VoiceClient.warn_nacl = False
    discord.VoiceClient.warn_dave = False
    # In a PostgreSQL outage the pool warns at every reconnect attempt, a dozen lines a minute on top of
    # the bot's own line per failed command (ui.log_failure), which says the same with what it cost.
    if numeric > logging.DEBUG:
        logging.getLogger("psycopg.pool").setLevel(logging.ERROR)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def prepare(glossary: Glossary) -> None:
    """Open the index before connecting, so a local problem stops the bot before it
    logs in (and before Discord shows it online).

    cli.cmd_run has already checked the state database and started the model
    loading; GlossaryBot.setup_hook waits for the model before it syncs commands
    and connects, and so does a failed attempt to reach Discord before it waits
    to try again."""
    glossary.open(recover=True)


async def _serve(glossary: Glossary) -> None:
    from .bot import GlossaryBot

    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    current: dict[str, object] = {}

    def stop(name: str) -> None:
        if not stopping.is_set():
            log.info("%s received: closing", name)
            stopping.set()
            current["closing"] = loop.create_task(current["bot"].close())

    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop, sig.name)
    delay = RETRY_FIRST
    while not stopping.is_set():
        # A fresh client per attempt: a closed discord.py client cannot be started again.
        bot = current["bot"] = GlossaryBot(glossary)
        try:
            async with bot:
                await bot.start(glossary.settings.discord_token or "", reconnect=True)
            break
        except UNREACHABLE as exc:
            if stopping.is_set():
                break
            # Start-up is on hold: let the collector run meanwhile (cli.cmd_run turned it off).
            gc.enable()
            # A local problem (model files missing, say) needs the admin, not another attempt.
            await asyncio.to_thread(glossary.model.ready)
            if stopping.is_set():
                break
            log.warning("cannot reach Discord (%s): trying again in %.0f s", _one_line(exc), delay)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stopping.wait(), delay)
            delay = min(delay * 2, RETRY_MAX)
    if "closing" in current:
        await current["closing"]


def _fail(message: str) -> int:
    print(f"glossary-bot: {' '.join(message.split())}", file=sys.stderr)
    return EXIT_CONFIG


def run_bot(glossary: Glossary, log_level: str = "WARNING") -> int:
    _setup_logging(log_level)
    try:
        prepare(glossary)
        apply_endpoints(glossary.settings)
        asyncio.run(_serve(glossary))
    except (discord.LoginFailure, discord.ConnectionClosed) as exc:
        # 4004 "Authentication failed": the token was reset while the bot ran (other codes: as before)
        if isinstance(exc, discord.ConnectionClosed) and exc.code != 4004:
            raise
        return _fail("Discord rejected DISCORD_TOKEN: copy the bot token again from the developer "
                     "portal (Bot → Reset Token) into .env")
    except discord.PrivilegedIntentsRequired:
        return _fail("GLOSSARY_MESSAGE_CONTENT=true needs the Message Content intent: enable it in the "
                     "developer portal (Bot → Privileged Gateway Intents) or set it to false")
    except PERMANENT_ERRORS as exc:
        return _fail(_one_line(exc))
    except KeyboardInterrupt:
        return 0
    return 0
