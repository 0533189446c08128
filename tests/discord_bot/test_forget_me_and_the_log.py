"""What the question log and the edit memory keep about people: no member's raw id in a question's
text, nothing past its time, and nothing written back after its author's /forget-me."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
import threading
from datetime import UTC, datetime, timedelta

from bot.discord_bot import render_study
from tests.discord_bot.helpers import add_study_channel, make_bot, make_settings, run, running
from tests.fake_discord import FakeDiscord


def rows_naming(path, *needles: str) -> list[tuple[str, tuple]]:
    """Every row of every table with one of `needles` anywhere in it (a column, or inside a text)."""
    conn = sqlite3.connect(path)
    try:
        return [(table, row) for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                for row in conn.execute(f"SELECT * FROM {table}")
                if any(needle in str(cell) for cell in row for needle in needles)]
    finally:
        conn.close()


async def forget(fake, user) -> None:
    command = await fake.send_slash_command("forget-me", {}, user=user)
    asked = await fake.wait_for_response(command)
    await fake.wait_for_response(await fake.click_button(asked, render_study.FORGET_YES, user=user))
    await fake.wait_for(lambda: "Done" in (fake.original_response(command) or {}).get("content", ""),
                        what="the confirmation edited")


def test_a_member_mentioned_in_someone_elses_question_leaves_no_id_in_the_log(
        real_index_path, real_embedder, tmp_path) -> None:
    """Bob asks "@alice what is a kv cache?": the log keeps Bob's question (his, under a hash), but not
    Alice's raw id, which would outlive her /forget-me and leave in `feedback export`."""
    state_path = tmp_path / "state.db"
    settings = make_settings(real_index_path, state_path, message_content=True)
    seen: dict = {}

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["study"])
            alice, bob = fake.add_user("alice"), fake.add_user("bob")
            seen["alice"] = str(alice.id)
            fake.add_member(guild, alice)
            fake.add_member(guild, bob)
            study = guild.channel("study")
            add_study_channel(state_path, guild.id, study.id)
            async with running(fake, make_bot(settings, real_embedder)) as bot:
                await fake.wait_for_command_sync()
                bot.get_cog("Study").clock = itertools.count(10**10, 3600).__next__  # no cooldown between the two
                await fake.send_message(study, f"<@{alice.id}> what is a kv cache?", author=bob)
                await fake.send_message(study, f"hey <@!{alice.id}> and <@&{guild.id}> what is dropout?", author=bob)
                await fake.wait_for(lambda: bot.state.db.query("SELECT count(*) FROM questions")[0][0] >= 2,
                                    what="both questions logged")
                answered = await fake.wait_for_response(
                    await fake.send_slash_command("ask", {"question": f"<@{alice.id}> what is lora"}, user=bob))
                assert answered.ok
                await forget(fake, alice)
            assert not fake.errors

    run(scenario, timeout=120)
    conn = sqlite3.connect(state_path)
    logged = [q for (q,) in conn.execute("SELECT query FROM questions ORDER BY question_id")]
    conn.close()
    assert logged == ["what is a kv cache?", "hey and what is dropout?", "what is lora"]
    assert rows_naming(state_path, seen["alice"]) == []


def test_the_edit_memory_goes_with_the_retention_purge_on_a_quiet_server(
        real_index_path, real_embedder, tmp_path) -> None:
    """The edit memory (message id, raw author id, the text) is meant for minutes; a quiet server's last
    question has no later one to clear it, so the retention purge does."""
    state_path = tmp_path / "state.db"
    settings = make_settings(real_index_path, state_path, message_content=True)
    clock = {"now": datetime.now(UTC)}  # the fake's message ids carry the real time
    seen: dict = {}

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["study"])
            alice = fake.add_user("alice")
            seen["alice"] = str(alice.id)
            fake.add_member(guild, alice)
            study = guild.channel("study")
            add_study_channel(state_path, guild.id, study.id)
            async with running(fake, make_bot(settings, real_embedder, now=lambda: clock["now"])) as bot:
                await fake.wait_for_command_sync()
                await fake.send_message(study, "what is a kv cache?", author=alice)
                await fake.wait_for(lambda: bot.state.asked.count() == 1, what="the edit memory kept")
                clock["now"] += timedelta(minutes=10)  # past the edit window, not yet the log's retention
                await bot.get_cog("Feedback").purge()
                assert bot.state.asked.count() == 0
                assert bot.state.db.query("SELECT count(*) FROM questions")[0][0] == 1
            assert not fake.errors

    run(scenario, timeout=120)
    assert rows_naming(state_path, seen["alice"]) == []


def test_a_question_being_answered_when_its_asker_runs_forget_me_is_not_written_back(
        real_index_path, real_embedder, tmp_path) -> None:
    """Alice asks; while the search is queued she confirms /forget-me and is told her questions are
    gone. The answer still goes out, but neither the logged question nor the edit memory (with her
    raw id) may appear after that. Her next question, asked after, is logged as any."""
    state_path = tmp_path / "state.db"
    settings = make_settings(real_index_path, state_path, message_content=True)
    seen: dict = {}

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["study"])
            alice = fake.add_user("alice")
            seen["alice"] = str(alice.id)
            fake.add_member(guild, alice)
            study = guild.channel("study")
            add_study_channel(state_path, guild.id, study.id)
            async with running(fake, make_bot(settings, real_embedder)) as bot:
                await fake.wait_for_command_sync()
                cog = bot.get_cog("Study")
                started, gate, search = threading.Event(), threading.Event(), cog._answer

                def queued(*args, **kwargs):  # a search waiting behind others
                    started.set()
                    gate.wait(30)
                    return search(*args, **kwargs)

                cog._answer = queued
                asked = await fake.send_message(study, "what is a kv cache?", author=alice)
                await fake.wait_for(started.is_set, what="the search under way")
                await forget(fake, alice)
                gate.set()
                await fake.wait_for_channel_message(study, after=asked, timeout=30)
                await asyncio.sleep(0.3)  # what the reply's handling writes after sending it
                assert rows_naming(state_path, seen["alice"], "kv cache") == []
                cog._answer = search
                cog.clock = itertools.count(10**10, 3600).__next__
                await fake.send_message(study, "what is dropout?", author=alice)
                await fake.wait_for(lambda: bot.state.db.query("SELECT count(*) FROM questions")[0][0] == 1,
                                    what="the question after /forget-me logged")
            assert not fake.errors

    run(scenario, timeout=120)


def test_one_person_flooding_ask_is_held_off_and_others_are_not(real_index_path, real_embedder, tmp_path) -> None:
    """A script sending /ask as fast as it can: past the allowance it is told when to ask again,
    privately, without a search or a logged question; another member asks as usual meanwhile."""
    from bot.discord_bot.cogs.lookup import ASKS

    state_path = tmp_path / "state.db"
    settings = make_settings(real_index_path, state_path)

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["general"])
            mallory, alice = fake.add_user("mallory"), fake.add_user("alice")
            fake.add_member(guild, mallory)
            fake.add_member(guild, alice)
            async with running(fake, make_bot(settings, real_embedder)) as bot:
                await fake.wait_for_command_sync()
                sent = [await fake.send_slash_command("ask", {"question": "what is lora"}, user=mallory)
                        for _ in range(ASKS + 3)]
                replies = [await fake.wait_for_response(i, timeout=30) for i in sent]
                held = [r for r in replies if "ask again in" in ((r.data or {}).get("content") or "")]
                assert len(held) == 3 and all((r.data or {}).get("flags", 0) & 64 for r in held)
                theirs = await fake.wait_for_response(
                    await fake.send_slash_command("ask", {"question": "what is lora"}, user=alice), timeout=30)
                assert "ask again" not in ((theirs.data or {}).get("content") or "")
                await asyncio.sleep(0.3)
                assert bot.state.db.query("SELECT count(*) FROM questions")[0][0] == ASKS + 1
            assert not fake.errors

    run(scenario, timeout=180)


def test_define_and_related_share_the_ask_allowance(real_index_path, real_embedder, tmp_path) -> None:
    """QA67: /define takes any text and runs the same search as /ask, so a flood through it held up
    everyone's answers and filled the gaps report. /define, /related and /ask draw on one allowance."""
    from bot.discord_bot.cogs.lookup import ASKS

    state_path = tmp_path / "state.db"
    settings = make_settings(real_index_path, state_path)

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["general"])
            mallory, alice = fake.add_user("mallory"), fake.add_user("alice")
            fake.add_member(guild, mallory)
            fake.add_member(guild, alice)
            async with running(fake, make_bot(settings, real_embedder)) as bot:
                await fake.wait_for_command_sync()
                sent = [await fake.send_slash_command("define", {"term": f"why does my loss spike at step {n}"},
                                                      user=mallory) for n in range(ASKS)]
                sent += [await fake.send_slash_command(name, {option: "attention"}, user=mallory)
                         for name, option in (("define", "term"), ("related", "term"), ("ask", "question"))]
                replies = [await fake.wait_for_response(i, timeout=30) for i in sent]

                def text(reply) -> str:
                    return (reply.data or {}).get("content") or ""

                assert not any("ask again" in text(r) for r in replies[:ASKS])
                held = replies[ASKS:]
                assert all(f"That's {ASKS} " in text(r) and "ask again in" in text(r) for r in held)
                assert all((r.data or {}).get("flags", 0) & 64 for r in held)
                theirs = await fake.wait_for_response(
                    await fake.send_slash_command("define", {"term": "attention"}, user=alice), timeout=30)
                assert "ask again" not in text(theirs) and theirs.data.get("embeds")
                await asyncio.sleep(0.3)
                assert bot.state.db.query("SELECT count(*) FROM questions")[0][0] == ASKS + 1
            assert not fake.errors

    run(scenario, timeout=180)
