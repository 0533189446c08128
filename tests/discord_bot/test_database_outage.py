"""The bot on PostgreSQL while the database restarts or is down: a command right after a restart
is answered as usual, one during an outage gets a reply that says so within Discord's 3 s (not
"The application did not respond"), and once the server is back commands work again."""

from __future__ import annotations

import asyncio
import time

import aiohttp

from bot.benchmark.postgres import PostgresServer
from bot.discord_bot.metrics import bound_port
from bot.discord_bot.ui import UNREACHABLE_TEXT
from tests.fake_discord import FakeDiscord

from .helpers import make_bot, make_settings, run, running


def test_commands_through_a_database_restart_and_an_outage(real_index_path, real_embedder, tmp_path) -> None:
    server = PostgresServer().start()  # the test's own: the session's server must stay up
    settings = make_settings(real_index_path, tmp_path / "unused.db", database_url=server.create_database("bot"),
                             hash_key="k" * 64)

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["general"])

            async def stats():
                started = time.monotonic()
                reply = await fake.wait_for_response(await fake.send_slash_command("stats", {}, guild=guild))
                return reply, time.monotonic() - started

            async with running(fake, make_bot(settings, real_embedder)):
                await fake.wait_for_command_sync()
                assert (await stats())[0].ok
                await asyncio.to_thread(server.restart)
                for _ in range(5):  # more than the pool's connections, each closed by the restart
                    reply, _took = await stats()
                    assert reply.ok and "went wrong" not in (reply.content or ""), reply.content

                await asyncio.to_thread(server.halt)
                for _ in range(3):
                    reply, took = await stats()
                    assert reply.ok and reply.content == UNREACHABLE_TEXT and took < 3, (reply.content, took)
                await asyncio.to_thread(server.resume)
                reply, took = await stats()
                assert reply.ok and reply.content != UNREACHABLE_TEXT and took < 3, (reply.content, took)

    try:
        run(scenario, timeout=120)
    finally:
        server.stop()


def test_the_glossary_answers_through_a_database_outage(real_index_path, real_embedder, tmp_path) -> None:
    # The glossary is a local file: /define, /ask and a direct @mention need the database only for a
    # server's own aliases and notes and for the question log, so an outage costs those, not the answer.
    # /healthz says so, and stays 200: a restart would not bring the database back.
    server = PostgresServer().start()
    settings = make_settings(real_index_path, tmp_path / "unused.db", database_url=server.create_database("bot"),
                             hash_key="k" * 64, message_content=True, metrics_port=0)

    async def scenario() -> None:
        async with FakeDiscord() as fake, aiohttp.ClientSession() as http:
            guild = fake.add_guild("Study Group", channels=["general"])
            general = guild.channels[0]
            bot = make_bot(settings, real_embedder)
            del bot.before_identify_hook  # the bot's own: turns to IDENTIFY taken in the database
            async with running(fake, bot):
                await fake.wait_for_command_sync()

                async def health() -> tuple[int, str]:
                    url = f"http://127.0.0.1:{bound_port(bot._metrics_server)}/healthz"
                    async with http.get(url) as response:
                        return response.status, (await response.text()).strip()

                assert await health() == (200, "ok")
                await asyncio.to_thread(server.halt)
                for _ in range(40):  # an answer is taken for STATE_PROBE_FRESH s: monitors may ask often
                    status, said = await health()
                    if said != "ok":
                        break
                    await asyncio.sleep(0.5)
                assert status == 200 and said.startswith("ok, degraded: the state database") \
                    and "answers go out" in said, said
                for command, options in (("define", {"term": "attention"}), ("ask", {"question": "what is lora?"})):
                    started = time.monotonic()
                    reply = await fake.wait_for_response(await fake.send_slash_command(command, options, guild=guild))
                    took = time.monotonic() - started
                    assert reply.ok and reply.content != UNREACHABLE_TEXT and took < 3, (command, reply.content, took)
                    assert reply.embeds and reply.embeds[0]["title"] in ("Attention", "LoRA"), reply.embeds
                asked = await fake.send_message(general, f"{fake.bot_user.mention} what is qlora?")
                answer = await fake.wait_for_channel_message(general, after=asked, timeout=30)
                assert answer.embeds and answer.embeds[0]["title"] == "QLoRA", (answer.content, answer.embeds)
                # Discord ends the session meanwhile (as after a long gateway drop): the bot identifies
                # again without its turn from the database, and answers (QA75: the process died)
                identified = len(fake.identifies())
                await fake.send_invalid_session(resumable=False)
                await fake.wait_for(lambda: len(fake.identifies()) > identified, timeout=30, what="a new IDENTIFY")
                await fake.wait_ready(timeout=30)
                reply = await fake.wait_for_response(await fake.send_slash_command(
                    "define", {"term": "attention"}, guild=guild))
                assert reply.ok and reply.embeds and reply.embeds[0]["title"] == "Attention", reply.content
                await asyncio.to_thread(server.resume)
                for _ in range(80):  # the pool reconnects in its own time, and the last answer is kept a while
                    if await health() == (200, "ok"):
                        break
                    await asyncio.sleep(0.25)
                assert await health() == (200, "ok")

    try:
        run(scenario, timeout=120)
    finally:
        server.stop()


def test_an_sqlite_state_that_cannot_be_written_costs_no_answer_and_logs_one_line_each(
        real_index_path, real_embedder, tmp_path, caplog) -> None:
    # A full disk (or a file made read-only) logged an sqlite3 traceback for every question (QA65),
    # and a command that writes said "Something went wrong". (The full disk itself: tests/state/test_outage.py.)
    import logging

    settings = make_settings(real_index_path, tmp_path / "state.db")

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["general"])
            async with running(fake, make_bot(settings, real_embedder)) as bot:
                await fake.wait_for_command_sync()
                with bot.state.db._lock:  # not beside a state call of the bot's own (a reminder tick's)
                    bot.state.db.conn.execute("PRAGMA query_only = ON")  # every write fails as SQLITE_READONLY
                with caplog.at_level(logging.WARNING):
                    for question in ("what is lora", "how does adam work", "what is a kv cache"):
                        reply = await fake.wait_for_response(
                            await fake.send_slash_command("ask", {"question": question}, guild=guild))
                        assert reply.ok and reply.data.get("embeds"), reply.data
                    review = await fake.wait_for_response(
                        await fake.send_slash_command("review add", {"term": "LoRA"}, guild=guild))
                    assert review.ok and review.content == UNREACHABLE_TEXT, review.content

    run(scenario, timeout=120)
    lines = [r for r in caplog.records if "can no longer be written" in r.getMessage()]
    assert len(lines) >= 2 and not any(r.exc_info for r in caplog.records if r.levelno >= logging.WARNING)


def test_commands_behind_a_call_stuck_on_a_hung_database_get_a_reply_within_discords_3_s(
        real_index_path, real_embedder, tmp_path) -> None:
    """QA75: a frozen PostgreSQL host answers nothing and refuses nothing: every command queued
    behind the stuck call and got no response at all ("The application did not respond"). The
    stuck call itself is waited out (left, a write of it would land after "can't be reached")."""
    server = PostgresServer().start()
    settings = make_settings(real_index_path, tmp_path / "unused.db", database_url=server.create_database("bot"),
                             hash_key="k" * 64)

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["general"])

            async def stats():
                started = time.monotonic()
                reply = await fake.wait_for_response(await fake.send_slash_command("stats", {}, guild=guild))
                return reply, time.monotonic() - started

            async with running(fake, make_bot(settings, real_embedder)):
                await fake.wait_for_command_sync()
                assert (await stats())[0].ok
                await asyncio.to_thread(server.freeze)
                try:
                    stuck = await fake.send_slash_command("stats", {}, guild=guild)  # on the hung connection
                    await asyncio.sleep(0.5)
                    for _ in range(3):  # queued behind it
                        reply, took = await stats()
                        assert reply.ok and reply.content == UNREACHABLE_TEXT and took < 3, (reply.content, took)
                finally:
                    await asyncio.to_thread(server.thaw)
                del stuck  # its reply comes once the server goes on, past Discord's 3 s
                for _ in range(50):  # the stuck call ends once the server goes on; the next command is served
                    reply, took = await stats()
                    if reply.content != UNREACHABLE_TEXT:
                        break
                    await asyncio.sleep(0.2)
                assert reply.ok and reply.content != UNREACHABLE_TEXT and took < 3, (reply.content, took)

    try:
        run(scenario, timeout=120)
    finally:
        server.stop()
