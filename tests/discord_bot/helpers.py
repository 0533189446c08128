"""Shared helpers for the Discord end-to-end tests (built on tests/fake_discord.py)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import sqlite3
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple, Self, TypeVar

from bot.config import PROJECT_ROOT, Settings
from bot.discord_bot.bot import GlossaryBot
from bot.glossary.service import Glossary
from bot.state import StateStore
from tests.fake_discord import (
    CallbackType,
    FakeDiscord,
    FakeInteraction,
    discord_py_pointed_at,
    run_checked,
)

T = TypeVar("T")


def make_settings(index_path: Path, state_path: Path, **overrides: Any) -> Settings:
    base = Settings.load(environ={}, dotenv=Path("/nonexistent"))
    return Settings(**{**base.__dict__, "index_path": index_path, "state_path": state_path, **overrides})


def make_bot(settings: Settings, embedder, *, now: Callable[[], datetime] | None = None,
             **options: Any) -> GlossaryBot:
    kwargs: dict[str, Any] = {"guild_ready_timeout": 0.05, **options}
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


run = run_checked  # asyncio.run, failing on anything that reached the loop's exception handler


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


# --------------------------------------------------------------------------- load and bad-input helpers


class LoopThread:
    """An event loop in a daemon thread: lets synchronous code (a hypothesis example)
    drive a bot and a fake Discord that keep running between calls."""

    def __init__(self, name: str = "discord-world") -> None:
        self.problems: list[dict[str, Any]] = []
        self.loop = asyncio.new_event_loop()
        self.loop.set_exception_handler(lambda _loop, ctx: self.problems.append(ctx))
        self.thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self.thread.start()

    def run(self, coro: Awaitable[T], timeout: float = 60) -> T:
        """Run `coro` on this loop and wait for its result (from any other thread)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)  # type: ignore[arg-type]

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()
        assert not self.problems, self.problems


def _thread_schedstat() -> tuple[float, float]:
    """(seconds on a CPU, seconds runnable but waiting for a CPU) of the calling thread (Linux)."""
    try:
        with open(f"/proc/self/task/{threading.get_native_id()}/schedstat") as f:
            on_cpu, waiting, _slices = f.read().split()
        return int(on_cpu) / 1e9, int(waiting) / 1e9
    except (OSError, ValueError):
        return time.thread_time(), 0.0


class LoopMonitor:
    """How long the running loop was blocked: a task sleeps `interval` in a loop and
    records the worst overshoot (anything hogging the loop delays its wake-up).

    `max_block` is the raw overshoot. `max_own_block` leaves out the time the loop's
    thread was runnable but the OS ran something else (Linux schedstat): on a
    machine shared with other jobs that is the machine's load, not the bot's work.
    What remains is the loop's own work plus waiting for the GIL.
    """

    def __init__(self, interval: float = 0.01) -> None:
        self.interval = interval
        self.max_block = 0.0
        self.max_own_block = 0.0
        self.worst: dict[str, float] = {}
        self.samples = 0
        self._task: asyncio.Task[None] | None = None

    async def _watch(self) -> None:
        while True:
            start, (cpu, queued) = time.perf_counter(), _thread_schedstat()
            await asyncio.sleep(self.interval)
            late = time.perf_counter() - start - self.interval
            cpu_after, queued_after = _thread_schedstat()
            own = max(0.0, late - (queued_after - queued))
            self.max_block = max(self.max_block, late)
            if own > self.max_own_block:
                self.max_own_block = own
                self.worst = {"late": late, "cpu": cpu_after - cpu, "os_wait": queued_after - queued}
            self.samples += 1

    def summary(self) -> str:
        worst = ", ".join(f"{k} {v * 1000:.1f} ms" for k, v in self.worst.items())
        return (f"event loop max block {self.max_own_block * 1000:.1f} ms without OS scheduling delays "
                f"({worst}); raw max {self.max_block * 1000:.1f} ms; {self.samples} samples")

    async def __aenter__(self) -> Self:
        self._task = asyncio.create_task(self._watch())
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


class CapturedLogs(logging.Handler):
    """Log records at `level` and worse from `loggers`, while in the `with` block; loggers
    that would drop records below their own level are lowered meanwhile.

    error_logs(): errors from the bot, discord.py and aiohttp (the HTTP client, and the fake's
    server when it runs in this process). all_logs(): everything, for the secrecy checks."""

    def __init__(self, level: int, loggers: tuple[str, ...]) -> None:
        super().__init__(level)
        self.loggers = loggers
        self.records: list[logging.LogRecord] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self._old_levels: dict[str, int] = {}

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def __enter__(self) -> Self:
        for name in self.loggers:
            logger = logging.getLogger(name)
            logger.addHandler(self)
            if logger.getEffectiveLevel() > self.level:
                self._old_levels[name] = logger.level
                logger.setLevel(self.level)
        return self

    def __exit__(self, *exc: object) -> None:
        for name in self.loggers:
            logging.getLogger(name).removeHandler(self)
        for name, level in self._old_levels.items():
            logging.getLogger(name).setLevel(level)

    def messages(self) -> list[str]:
        """Every record formatted, tracebacks included."""
        return [self.format(r) for r in self.records]

    def text(self) -> str:
        return "\n".join(self.messages())


def error_logs() -> CapturedLogs:
    return CapturedLogs(logging.ERROR, ("bot", "discord", "aiohttp"))


def all_logs() -> CapturedLogs:
    return CapturedLogs(logging.DEBUG, ("",))


def file_digest(path: Path) -> dict[str, str]:
    """SHA-256 of an SQLite database file and of its write-ahead log if it has one (not of
    the -shm index, which readers write to)."""
    files = (path, path.with_name(path.name + "-wal"))
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in files if f.exists()}


def sqlite_digest(path: Path, ignore: tuple[str, ...] = ()) -> str:
    """SHA-256 of an SQLite database's content (schema and rows), read without writing to it;
    the rows of the tables in `ignore` left out.

    For a database the bot opens read-write: opening it rewrites the header (the
    state store's schema check is a write transaction) although no data changes.
    """
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    skipped = tuple(f'INSERT INTO "{table}"' for table in ignore)
    try:
        lines = (line for line in conn.iterdump() if not line.startswith(skipped))
        return hashlib.sha256("\n".join(lines).encode()).hexdigest()
    finally:
        conn.close()


def configure(state_path: Path, guild_id: int, **changes: Any) -> None:
    """Write a server's settings before the bot starts, as an earlier run would have."""
    with contextlib.closing(StateStore(state_path)) as store:
        store.update_config(guild_id, **changes)


def add_study_channel(state_path: Path, guild_id: int, channel_id: int) -> None:
    configure(state_path, guild_id, study_channels=(channel_id,))


def study_server(fake, state_path: Path, user: str = "alice"):
    """(server, member, its study channel): a server with one member and a channel the bot answers in."""
    guild = fake.add_guild("Study Group", channels=["study"])
    member = fake.add_user(user)
    fake.add_member(guild, member)
    study = guild.channel("study")
    add_study_channel(state_path, guild.id, study.id)
    return guild, member, study


class StudyWorld(NamedTuple):
    fake: FakeDiscord
    bot: GlossaryBot
    guild: Any
    member: Any
    study: Any


@contextlib.asynccontextmanager
async def study_bot(settings: Settings, embedder, state_path: Path, *,
                    now: Callable[[], datetime] | None = None) -> AsyncIterator[StudyWorld]:
    """A fake Discord with study_server()'s server, and the bot running against it with its commands
    synced: (fake, bot, server, member, study channel). On a normal exit, once the bot has stopped:
    no errors in the fake, no pings in anything the bot sent, and no errors logged."""
    async with FakeDiscord() as fake:
        guild, member, study = study_server(fake, state_path)
        with error_logs() as errors:
            async with running(fake, make_bot(settings, embedder, now=now)) as bot:
                await fake.wait_for_command_sync()
                yield StudyWorld(fake, bot, guild, member, study)
            assert not fake.errors
            assert_no_pings(fake)
        assert not errors.records, errors.messages()


def button_ids(message: dict) -> list[str]:
    return [c["custom_id"] for row in message.get("components") or [] for c in row["components"]]


async def start_bot_process(fake: FakeDiscord, workdir: Path, index_path: Path, state_path: Path, *args: str,
                            token: str) -> asyncio.subprocess.Process:
    """`python -m bot [args] run` against the fake, with its output piped."""
    env = {**os.environ, **fake.env(), "DISCORD_TOKEN": token, "GLOSSARY_INDEX": str(index_path),
           "GLOSSARY_STATE_DB": str(state_path), "PYTHONPATH": str(PROJECT_ROOT)}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, "run", cwd=workdir, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def kill_if_running(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.kill()
        await proc.wait()


def all_settled(fake: FakeDiscord, interactions: Iterable[FakeInteraction]) -> bool:
    """Every interaction got its final answer (a message callback, or a defer plus a followup
    or edit), or Discord refused its first response (so a test fails at once, not on a timeout)."""
    first: dict[int, Any] = {}
    for callback in fake.interaction_responses:
        first.setdefault(callback.interaction_id, callback)
    followed_up = {f.token for f in fake.followups if f.status < 300 and (
        f.method == "POST" or (f.method == "PATCH" and f.message_id == "@original"))}
    final = (CallbackType.CHANNEL_MESSAGE, CallbackType.UPDATE_MESSAGE, CallbackType.AUTOCOMPLETE_RESULT)

    def settled(interaction: FakeInteraction) -> bool:
        callback = first.get(interaction.id)
        return callback is not None and (not callback.ok or callback.type in final or interaction.token in followed_up)

    return all(settled(i) for i in interactions)


def record_handled(study_cog) -> dict[int, bool]:
    """Spy on the Study cog: message id -> whether it replied, set once the message is fully handled."""
    handled: dict[int, bool] = {}
    handle = study_cog.handle

    async def spy(message):
        handled[message.id] = await handle(message)
        return handled[message.id]

    study_cog.handle = spy
    return handled


def record_edits(study_cog) -> dict[int, list[bool]]:
    """Spy on the Study cog's edits: message id -> what handling each of its MESSAGE_UPDATEs
    returned (True: the bot's reply was sent, changed or deleted), once fully handled."""
    handled: dict[int, list[bool]] = {}
    handle_edit = study_cog.handle_edit

    async def spy(message):
        result = await handle_edit(message)
        handled.setdefault(message.id, []).append(result)
        return result

    study_cog.handle_edit = spy
    return handled


async def edit_and_wait(fake, edits: dict[int, list[bool]], message, text: str, n: int | None = None) -> bool:
    """Edit `message` to `text` as its author, wait until the Study cog has handled its `n`th edit
    (record_edits; default: the one after those handled so far) and return what handling it
    returned. Give `n` when an edit sent without waiting is still on its way."""
    n = n if n is not None else len(edits.get(message.id, [])) + 1
    await fake.edit_message(message.payload, text)
    await fake.wait_for(lambda: len(edits.get(message.id, [])) == n, what=f"edit {n} handled")
    return edits[message.id][-1]
