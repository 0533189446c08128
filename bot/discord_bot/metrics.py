"""Operations: Prometheus metrics and a health endpoint, on an opt-in port
(GLOSSARY_METRICS_PORT), served by aiohttp inside the bot's own event loop.

- `/metrics`: interactions by command and outcome, answers by band (the refusal rate is
  not_found ÷ all), search and reply latency histograms, gateway latency per shard, daily
  posts sent/failed, state-database errors.
- `/healthz`: 200 only when the model is loaded and every shard this process owns is
  connected; 503 with the reason otherwise (the Dockerfile's health check asks it). A state
  database that does not answer within 3 s is said ("ok, degraded: …", at most 10 s old) but
  stays 200: answers go out without it, and a restart would not bring it back.

Each bot has its own registry, so several bots in one process (the tests) do not collide.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

if TYPE_CHECKING:
    from aiohttp import web

log = logging.getLogger(__name__)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry()
        self.interactions = Counter("glossary_interactions", "Slash commands and buttons handled",
                                    ["command", "outcome"], registry=registry)
        self.answers = Counter("glossary_answers", "Searches by outcome band (answer, suggest, not_found)",
                               ["band"], registry=registry)
        self.search_seconds = Histogram("glossary_search_seconds", "One search, model call included",
                                        buckets=LATENCY_BUCKETS, registry=registry)
        self.reply_seconds = Histogram("glossary_reply_seconds", "Interaction created → command finished",
                                       ["command"], buckets=LATENCY_BUCKETS, registry=registry)
        self.gateway_latency = Gauge("glossary_gateway_latency_seconds", "Heartbeat latency per shard", ["shard"],
                                     registry=registry)
        self.daily_posts = Counter("glossary_daily_posts", "Term-of-the-day posts", ["result"], registry=registry)
        self.state_errors = Counter("glossary_state_errors", "State database operations that failed",
                                    registry=registry)
        self.shards = Gauge("glossary_shards_connected", "Shards of this process that are connected",
                            registry=registry)

    def render(self, bot) -> bytes:
        for shard_id, latency in _latencies(bot):
            if latency == latency and latency != float("inf"):  # not NaN/inf: a heartbeat was answered
                self.gateway_latency.labels(str(shard_id)).set(latency)
        self.shards.set(sum(1 for _, ok in _shard_states(bot) if ok))
        return generate_latest(self.registry)


def _latencies(bot) -> list[tuple[int, float]]:
    latencies = getattr(bot, "latencies", None)
    if latencies is not None:  # AutoShardedBot
        return list(latencies)
    return [(bot.shard_id or 0, bot.latency)]


def _shard_states(bot) -> list[tuple[int, bool]]:
    shards = getattr(bot, "shards", None)
    if shards:  # AutoShardedBot: {id: ShardInfo}
        return [(shard_id, not info.is_closed()) for shard_id, info in shards.items()]
    return [(bot.shard_id or 0, bot.is_ready() and not bot.is_closed())]


def health(bot) -> tuple[bool, str]:
    """(healthy, why): the model loaded and every owned shard connected."""
    if bot.glossary.model.loaded is None:
        return False, "model not loaded yet"
    if not bot.is_ready():
        return False, "not connected to Discord yet"
    down = [shard_id for shard_id, ok in _shard_states(bot) if not ok]
    if down:
        return False, f"shards not connected: {down}"
    return True, "ok"


#: how long the health check waits for the state database (Docker's check waits 30 s for the reply),
#: and how long an answer of it is taken as the state's (monitors may ask every few seconds)
STATE_PROBE_SECONDS, STATE_PROBE_FRESH = 3.0, 10.0


class StateProbe:
    """Whether the state database answers a trivial query, asked at most once per STATE_PROBE_FRESH
    seconds and never twice at once, on a thread of its own: not in the quick pool, where the
    commands' state work queues (a probe there held it up to 3 s per health check in an outage,
    and a merely busy pool read as a database gone)."""

    def __init__(self, bot) -> None:
        self.bot = bot
        self._running: asyncio.Task | None = None
        self._started = 0.0
        self._answer: tuple[float, str | None] | None = None  # (when, the problem or None)

    async def problem(self) -> str | None:
        if self.bot.state is None:
            return None
        now = time.monotonic()
        if self._answer is not None and now - self._answer[0] < STATE_PROBE_FRESH:
            return self._answer[1]
        if self._running is None:
            self._started, self._running = now, asyncio.ensure_future(asyncio.to_thread(self._ask))
            self._running.add_done_callback(self._done)
        try:
            return await asyncio.wait_for(asyncio.shield(self._running), STATE_PROBE_SECONDS)
        except TimeoutError:
            return (f"the state database gave no answer in {time.monotonic() - self._started:.0f} s: answers go "
                    "out, study features and server settings wait")

    def _ask(self) -> str | None:
        from ..state import StateError

        try:
            self.bot.state.db.query("SELECT 1")
        except Exception as exc:  # StateUnavailable, a driver's error: said, never a traceback here
            what = "out of reach" if isinstance(exc, StateError) else "failing"
            return (f"the state database is {what} ({type(exc).__name__}): answers go out, study features and "
                    "server settings wait")
        return None

    def _done(self, task: asyncio.Task) -> None:
        self._running = None
        if not task.cancelled() and task.exception() is None:
            self._answer = (time.monotonic(), task.result())


async def start_server(bot, port: int, host: str = "127.0.0.1") -> web.AppRunner:
    """Serve /metrics and /healthz; returns the runner (its site's port is the real one)."""
    from aiohttp import web  # here, not at the top: most bots never serve metrics, and it is 25 ms of start-up

    async def metrics(_request: web.Request) -> web.Response:
        return web.Response(body=bot.metrics.render(bot), headers={"Content-Type": CONTENT_TYPE_LATEST})

    probe = StateProbe(bot)

    async def healthz(_request: web.Request) -> web.Response:
        ok, why = health(bot)
        if ok and (problem := await probe.problem()):
            why = f"ok, degraded: {problem}"
        return web.Response(status=200 if ok else 503, text=why + "\n")

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    log.info("metrics and health on port %s", bound_port(runner))
    return runner


def bound_port(runner: web.AppRunner) -> int | None:
    for site in runner.sites:
        server = getattr(site, "_server", None)
        if server is not None and server.sockets:
            return server.sockets[0].getsockname()[1]
    return None
