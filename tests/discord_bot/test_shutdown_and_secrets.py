"""Shutdown and secrets: SIGTERM leaves the state database whole (no daily post half-done),
and the bot token shows up in no log line, error or output, even at DEBUG and on failures.

Two tests run `python -m bot run` as a subprocess (as deployed); the others run the bot
in-process against the loopback fake Discord.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from pathlib import Path

import discord

from bot.state import StateStore
from tests.fake_discord import FakeDiscord, discord_py_pointed_at

from .fault_helpers import (
    Clock,
    command,
    daily_bot,
    daily_checks,
    posts_in,
    running_with_token,
    server_with_daily_post,
    statuses,
)
from .helpers import (
    all_logs,
    kill_if_running,
    make_bot,
    make_settings,
    run,
    running,
    start_bot_process,
)

TOKEN = "MTIzNDU2Nzg5.secret-token-do-not-log.Zm9vYmFy"
WRONG_TOKEN = "wrong-token-never-log-me"


def read_only(state_path: Path) -> sqlite3.Connection:
    """Open the state database the way an inspector would: read-only, no recovery writes."""
    return sqlite3.connect(f"file:{state_path}?mode=ro", uri=True)


# --------------------------------------------------------------------------- 4. shutdown


def test_sigterm_while_the_daily_post_waits_out_a_rate_limit(real_index_path, tmp_path) -> None:
    """SIGTERM mid-post: the post finishes, the process exits 0, the database is whole and says "posted"."""
    state_path = tmp_path / "state.db"

    async def scenario() -> None:
        async with FakeDiscord(token=TOKEN) as fake:
            guild, daily = server_with_daily_post(fake, state_path, "00:00")  # due whenever the test runs
            path = f"/channels/{daily.id}/messages"
            fake.fail_next("POST", path, 429, retry_after=1.5)
            proc = await start_bot_process(fake, tmp_path, real_index_path, state_path, "--log-level", "INFO",
                                           token=TOKEN)
            try:
                await fake.wait_for(lambda: statuses(fake, "POST", path) == [429], timeout=90,
                                    what="the daily post to be rate limited")
                proc.send_signal(signal.SIGTERM)  # while discord.py sleeps before retrying
                out, err = await asyncio.wait_for(proc.communicate(), 30)
            finally:
                await kill_if_running(proc)
            assert proc.returncode == 0, err.decode()
            assert statuses(fake, "POST", path) == [429, 200] and len(posts_in(fake, daily)) == 1
            assert TOKEN.encode() not in out + err

        with read_only(state_path) as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            rows = db.execute("SELECT status FROM daily_posts WHERE guild_id = ?", [guild.id]).fetchall()
            assert rows == [("posted",)]
            assert db.execute("SELECT daily_channel_id, daily_enabled, last_error FROM guild_config").fetchall() == [
                (daily.id, 1, None)]

    run(scenario, timeout=150)


def test_shutdown_that_cannot_wait_records_the_post_as_interrupted(real_index_path, real_embedder,
                                                                   tmp_path) -> None:
    """When the send outlasts the shutdown grace, the row says so (never "sending"). At the next
    start the channel shows the post never appeared, so the day's term goes out then, once."""
    state_path = tmp_path / "state.db"
    settings = make_settings(real_index_path, state_path)
    clock = Clock("2026-03-02T10:00:00+00:00")

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild, daily = server_with_daily_post(fake, state_path, "09:00")
            path = f"/channels/{daily.id}/messages"
            fake.fail_next("POST", path, 429, retry_after=60)
            async with running(fake, daily_bot(settings, real_embedder, clock)) as bot:
                bot.get_cog("Daily").shutdown_grace = 0.2  # instead of 5 s
                await fake.wait_for(lambda: statuses(fake, "POST", path) == [429], timeout=30, what="rate limit")
            # closed while discord.py was still waiting to retry

            store = StateStore(state_path)
            try:
                assert [s for _d, _t, s in store.posts(guild.id)] == ["failed"]
                assert "may not have appeared" in store.config(guild.id).last_error
            finally:
                store.close()
            async with running(fake, daily_bot(settings, real_embedder, clock)) as bot:
                await fake.wait_for(lambda: len(posts_in(fake, daily)) == 1, timeout=30, what="the day's post")
                await daily_checks(fake, bot)
                assert [m.content for m in posts_in(fake, daily)] == ["📘 Term of the day (2026-03-02)"]
                assert [s for _d, _t, s in bot.state.posts(guild.id)] == ["posted"]
                shown = await command(fake, "glossary config show", user=fake.owner)
                assert "may not have appeared" not in shown.content
            assert statuses(fake, "POST", path) == [429, 200]

    run(scenario, timeout=90)


# --------------------------------------------------------------------------- 5. the token stays secret


def test_token_is_in_no_log_record_or_error_at_debug(real_index_path, real_embedder, tmp_path, capfd) -> None:
    """A full run at DEBUG: commands, HTTP errors (403, 429), Discord closing with 4004, then a login
    with a wrong token. Neither token appears in any record, traceback, exception or output."""
    state_path = tmp_path / "state.db"
    settings = make_settings(real_index_path, state_path)
    clock = Clock("2026-03-02T10:00:00+00:00")
    errors: list[BaseException] = []

    async def scenario() -> None:
        async with FakeDiscord(token=TOKEN) as fake:
            guild = fake.add_guild(channels=["general", "daily"])
            daily = guild.channel("daily")
            path = f"/channels/{daily.id}/messages"
            fake.fail_next("POST", path, 403, code=50013)
            fake.fail_next("POST", r"/interactions/\d+/[^/]+/callback", 429, retry_after=0.1)
            async with running_with_token(fake, daily_bot(settings, real_embedder, clock), TOKEN) as task:
                await fake.wait_for_command_sync()
                assert (await command(fake, "define", {"term": "attention"})).ok
                assert (await command(fake, "glossary config daily-channel", {"channel": daily},
                                      user=fake.owner)).ok
                assert (await command(fake, "glossary config daily", {"enabled": True}, user=fake.owner)).ok
                await fake.wait_for(lambda: statuses(fake, "POST", path) == [403], what="the refused post")
                await fake.force_close(4004)  # "Authentication failed": the token was reset meanwhile
                done, _ = await asyncio.wait([task], timeout=30)
                assert done, "the bot kept running after close code 4004"
                errors.append(task.exception())

            # a login with a wrong token: Discord answers 401
            with_wrong = make_bot(settings, real_embedder)
            with discord_py_pointed_at(fake):
                try:
                    await asyncio.wait_for(with_wrong.start(WRONG_TOKEN), 30)
                except discord.LoginFailure as exc:
                    errors.append(exc)
                else:
                    raise AssertionError("a wrong token logged in")
                finally:
                    await with_wrong.close()

    with all_logs() as logs:
        run(scenario, timeout=90)
    assert isinstance(errors[0], discord.ConnectionClosed) and errors[0].code == 4004
    text = logs.text()
    # all of it was logged, DEBUG lines included
    assert "Missing Permissions" in text and "rate limited" in text and "4004" in text and "has returned 403" in text
    out, err = capfd.readouterr()
    for secret in (TOKEN, WRONG_TOKEN):
        assert secret not in text
        assert all(secret not in f"{e!s} {e!r}" for e in errors)
        assert secret not in out + err


def test_token_reset_while_running_ends_with_one_line_and_no_token(real_index_path, tmp_path) -> None:
    """`python -m bot --log-level DEBUG run`: after an HTTP error, Discord closes with 4004. One line
    on stderr says what to do, no traceback, and the token is nowhere in the output."""
    state_path = tmp_path / "state.db"

    async def scenario() -> None:
        async with FakeDiscord(token=TOKEN) as fake:
            _guild, daily = server_with_daily_post(fake, state_path, "00:00")
            path = f"/channels/{daily.id}/messages"
            fake.fail_next("POST", path, 403, code=50001)
            proc = await start_bot_process(fake, tmp_path, real_index_path, state_path, "--log-level", "DEBUG",
                                           token=TOKEN)
            try:
                await fake.wait_for(lambda: statuses(fake, "POST", path) == [403], timeout=90,
                                    what="the refused daily post")
                assert (await command(fake, "define", {"term": "attention"})).ok
                await fake.force_close(4004)
                out, err = await asyncio.wait_for(proc.communicate(), 30)
            finally:
                await kill_if_running(proc)
            text = (out + err).decode()
            assert proc.returncode != 0
            assert "Missing Access" in text  # DEBUG logging was on and saw the HTTP error
            assert "Traceback" not in text, text[-3000:]
            assert "Discord rejected DISCORD_TOKEN" in text.strip().splitlines()[-1]
            assert TOKEN not in text

    run(scenario, timeout=150)
