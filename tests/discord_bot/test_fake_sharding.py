"""The fake Discord shards like Discord: the real discord.py ``AutoShardedClient`` against it.

Guilds belong to shard ``(guild_id >> 22) % shard_count``; every session hears only about
its shard's guilds (DMs: shard 0), so one client with four shards, or two clients that split
the shards between them, see every guild exactly once. IDENTIFYs are recorded with their
shard, and ``identify_violations()`` says whether discord.py's pacing respected Discord's
"one IDENTIFY per 5 s per bucket" (here with a short window).

Each test runs its own event loop and fails if anything reaches the loop's exception handler.
No bot code is involved: these tests are about the fake.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import discord
import pytest
from discord import app_commands

from tests.fake_discord import FakeDiscord, FakeGuild, IdentifyViolation, discord_py_pointed_at
from tests.fake_discord import run_checked as run

WINDOW = 0.5  # a short identify window so that pacing tests stay fast


class ShardedBot(discord.AutoShardedClient):
    """Counts what it receives and answers ``/where`` with its name and the guild's shard."""

    def __init__(self, name: str, *, identify_delay: float = 0.0, retry_delay: float = 0.0, **options: Any) -> None:
        intents = discord.Intents.default()
        intents.message_content = True
        super().__init__(intents=intents, guild_ready_timeout=0.05, **options)
        self.name = name
        self.identify_delay = identify_delay  # before every non-initial IDENTIFY (discord.py: 5 s)
        self.retry_delay = retry_delay  # before a shard's second and later IDENTIFYs
        self.identified: list[int | None] = []
        self.messages: list[discord.Message] = []
        self.interactions: list[discord.Interaction] = []
        self.tree = app_commands.CommandTree(self)

        @self.tree.command(name="where", description="Which bot and shard answered")
        async def where(interaction: discord.Interaction) -> None:
            shard = interaction.guild.shard_id if interaction.guild else "dm"
            await interaction.response.send_message(f"{self.name} shard {shard}")

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        again = shard_id in self.identified
        self.identified.append(shard_id)
        if again and self.retry_delay:
            await asyncio.sleep(self.retry_delay)
        elif not initial and self.identify_delay:
            await asyncio.sleep(self.identify_delay)

    async def on_message(self, message: discord.Message) -> None:
        if message.author != self.user:
            self.messages.append(message)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        self.interactions.append(interaction)


@contextlib.asynccontextmanager
async def running(fake: FakeDiscord, *clients: discord.Client) -> AsyncIterator[None]:
    """Start the clients one after the other (each until ready), close them all at the end."""
    tasks: list[asyncio.Task[None]] = []
    with discord_py_pointed_at(fake):
        try:
            for client in clients:
                tasks.append(asyncio.create_task(client.start("fake-token")))
                await asyncio.wait_for(client.wait_until_ready(), 15)
            yield
        finally:
            for client in clients:
                await client.close()
            for task in tasks:
                await asyncio.wait_for(task, 10)


def dozen_guilds(fake: FakeDiscord, shard_count: int = 4) -> list[FakeGuild]:
    return [fake.add_guild(f"Guild {i}", shard=i % shard_count, shard_count=shard_count) for i in range(12)]


def test_guild_ids_spread_over_shards_and_can_be_placed() -> None:
    fake = FakeDiscord()
    spread = [fake.add_guild(f"G{i}") for i in range(12)]
    assert len({g.id >> 22 for g in spread}) == 12  # a timestamp part of its own each
    assert {fake.guild_shard(g, 4) for g in spread} == {0, 1, 2, 3}
    placed = [fake.add_guild(f"P{i}", shard=k, shard_count=5) for i, k in enumerate([3, 3, 0, 4, 1])]
    assert [fake.guild_shard(g, 5) for g in placed] == [3, 3, 0, 4, 1]
    ids = [g.id for g in spread + placed] + [fake.add_user("later").id]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)  # still strictly increasing
    assert fake.guild_shard(placed[0].id, 5) == 3 and fake.guild_shard(placed[0]) == 0  # default count 1
    assert fake.guilds_of_shard(3, 5) == [g for g in spread + placed if (g.id >> 22) % 5 == 3]
    with pytest.raises(ValueError):
        fake.add_guild("bad", shard=4, shard_count=4)
    with pytest.raises(ValueError):
        fake.add_guild("half", shard=1)


def test_one_auto_sharded_client_sees_every_guild_once_across_four_shards() -> None:
    async def scenario() -> None:
        async with FakeDiscord(identify_window=WINDOW) as fake:
            guilds = dozen_guilds(fake)
            bot = ShardedBot("solo", shard_count=4, identify_delay=WINDOW + 0.05)
            async with running(fake, bot):
                assert sorted(g.id for g in bot.guilds) == sorted(g.id for g in guilds)
                for guild in bot.guilds:
                    assert guild.shard_id == fake.guild_shard(guild.id, 4)
                ready = await fake.wait_shards_ready(range(4), 4)
                assert [e.detail["guilds"] for e in ready] == [3, 3, 3, 3]
                assert fake.live_shards() == [(0, 4), (1, 4), (2, 4), (3, 4)]

                for guild in guilds:
                    sent = await fake.send_message(guild.text_channels[0], f"hello {guild.name}")
                    await fake.wait_for(lambda s=sent: any(m.id == s.id for m in bot.messages), what="message")
                await asyncio.sleep(0.2)  # room for a duplicate to arrive
                assert sorted(m.content for m in bot.messages) == sorted(f"hello {g.name}" for g in guilds)
                assert {m.guild.shard_id for m in bot.messages} == {0, 1, 2, 3}

            # paced by WINDOW, discord.py respected the (shortened) identify rate limit
            assert [e.detail["shard"] for e in fake.identifies()] == [[s, 4] for s in range(4)]
            assert fake.identify_violations() == []
            assert not fake.errors

    run(scenario)


def test_recommended_shard_count_and_session_start_limit_come_from_gateway_bot() -> None:
    async def scenario() -> None:
        async with FakeDiscord(shard_count=3, max_concurrency=3) as fake:
            guilds = dozen_guilds(fake, 3)
            bot = ShardedBot("auto")  # no shard_count: asks GET /gateway/bot
            async with running(fake, bot):
                assert bot.shard_count == 3
                assert sorted(bot.shards) == [0, 1, 2]
                assert len(bot.guilds) == len(guilds)
                limits = await bot.fetch_session_start_limits()
                assert limits.max_concurrency == 3 and limits.remaining == limits.total - 3
            # three shards started at once, one per bucket: allowed with max_concurrency 3
            assert sorted(e.detail["bucket"] for e in fake.identifies()) == [0, 1, 2]
            assert fake.identify_violations(5.0) == []
            assert len(fake.identify_violations(5.0, max_concurrency=1)) == 2

    run(scenario)


def test_two_clients_split_the_shards_and_each_event_reaches_exactly_one() -> None:
    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guilds = dozen_guilds(fake)
            alice = fake.add_user("alice")
            for guild in guilds:
                fake.add_member(guild, alice)
            low = ShardedBot("low", shard_count=4, shard_ids=[0, 1])
            high = ShardedBot("high", shard_count=4, shard_ids=[2, 3])
            async with running(fake, low, high):
                owner = {g.id: (low if fake.guild_shard(g, 4) < 2 else high) for g in guilds}
                assert sorted(g.id for g in low.guilds) == sorted(g.id for g in guilds if owner[g.id] is low)
                assert sorted(g.id for g in high.guilds) == sorted(g.id for g in guilds if owner[g.id] is high)
                assert len(low.guilds) == len(high.guilds) == 6
                assert fake.live_shards() == [(0, 4), (1, 4), (2, 4), (3, 4)]

                await low.tree.sync()  # global commands: one sync serves both processes
                await fake.wait_for_command_sync()
                for guild in guilds:
                    inter = await fake.send_slash_command("where", guild=guild, user=alice)
                    callback = await fake.wait_for_response(inter)
                    expected = owner[guild.id]
                    assert callback.data["content"] == f"{expected.name} shard {fake.guild_shard(guild, 4)}"
                    await fake.send_message(guild.text_channels[0], f"hi {guild.name}", author=alice)
                    await fake.wait_for(
                        lambda g=guild, b=expected: any(m.guild and m.guild.id == g.id for m in b.messages),
                        what=f"message in {guild.name}",
                    )

                # DMs (messages and interactions) belong to shard 0, so to `low` only
                dm = fake.dm_channel(alice)
                await fake.send_message(dm, "a dm", author=alice)
                inter = await fake.send_slash_command("where", channel=dm, user=alice)
                assert (await fake.wait_for_response(inter)).data["content"] == "low shard dm"
                await fake.wait_for(lambda: any(m.guild is None for m in low.messages), what="the DM")
                await asyncio.sleep(0.2)  # room for a duplicate to arrive

                assert len(low.interactions) + len(high.interactions) == len(guilds) + 1
                assert len(low.messages) + len(high.messages) == len(guilds) + 1
                for bot in (low, high):
                    guild_ids = [m.guild.id for m in bot.messages if m.guild]
                    assert sorted(guild_ids) == sorted(g.id for g in guilds if owner[g.id] is bot)
                    assert {i.guild_id for i in bot.interactions if i.guild_id} == {
                        g.id for g in guilds if owner[g.id] is bot
                    }
                assert not any(m.guild is None for m in high.messages)
                assert len({c.interaction_id for c in fake.interaction_responses}) == len(fake.interaction_responses)

                # one shard's socket drops: only that shard RESUMEs, and nothing is lost or doubled
                guild = fake.guilds_of_shard(2, 4)[0]
                before = len(high.messages)
                dropped_at = time.monotonic()
                await fake.force_close(4000, shard_id=2)
                await fake.send_message(guild.text_channels[0], "while shard 2 was away", author=alice)
                resumed = await fake.wait_resumed(after=dropped_at)
                assert resumed.detail["replayed"] >= 1
                await fake.wait_for(lambda: len(high.messages) > before, what="replayed message")
                await asyncio.sleep(0.2)
                assert [m.content for m in high.messages[before:]] == ["while shard 2 was away"]
                assert len(low.messages) == len(guilds) // 2 + 1
            assert not fake.errors

    run(scenario)


def test_identify_records_carry_shards_and_unpaced_identifies_are_violations() -> None:
    async def scenario() -> None:
        async with FakeDiscord(identify_window=WINDOW) as fake:
            dozen_guilds(fake)
            bot = ShardedBot("eager", shard_count=4)  # no pacing at all
            async with running(fake, bot):
                assert len(bot.guilds) == 12  # not enforced by default: everyone got in
            records = fake.identifies()
            assert [e.detail["shard"] for e in records] == [[0, 4], [1, 4], [2, 4], [3, 4]]
            assert all(e.detail["bucket"] == 0 and "rejected" not in e.detail for e in records)
            violations = fake.identify_violations()
            assert [v.shards for v in violations] == [(0, 1), (1, 2), (2, 3)]
            assert all(isinstance(v, IdentifyViolation) and v.gap < WINDOW and v.bucket == 0 for v in violations)
            assert fake.identify_violations(window=0.0) == []  # a window of 0 allows anything
            # with max_concurrency 2, shards 0 and 1 may start together but 2 is too early
            assert [v.shards for v in fake.identify_violations(max_concurrency=2)] == [(0, 2), (1, 3)]

    run(scenario)


def test_enforced_identify_rate_limit_closes_4008_and_discord_py_recovers() -> None:
    async def scenario() -> None:
        async with FakeDiscord(identify_window=WINDOW, enforce_identify_rate=True) as fake:
            guilds = dozen_guilds(fake, 2)
            bot = ShardedBot("hasty", shard_count=2, retry_delay=WINDOW + 0.1)
            async with running(fake, bot):
                assert len(bot.guilds) == len(guilds)
            rejected = [e for e in fake.identifies() if e.detail.get("rejected")]
            assert [(e.detail["shard"], e.detail["rejected"]) for e in rejected] == [([1, 2], 4008)]
            # discord.py treated 4008 as resumable: RESUME without a session, INVALID_SESSION,
            # then a fresh IDENTIFY after its before_identify_hook (here: after the window)
            kinds = [e.kind for e in fake.gateway_events if e.kind in ("identify", "resume", "invalid_session")]
            assert kinds == ["identify", "identify", "resume", "invalid_session", "identify"]
            assert [e.detail["shard"] for e in fake.identifies(accepted_only=True)] == [[0, 2], [1, 2]]
            assert fake.identify_violations() == []

    run(scenario)


@pytest.mark.parametrize("shard", [[4, 4], [0, 0], [-1, 2], "nonsense"])
def test_invalid_shard_is_closed_with_4010(shard: Any) -> None:
    async def scenario() -> None:
        async with FakeDiscord() as fake:
            fake.add_guild("Only")
            if isinstance(shard, list) and shard[1] >= 1 and shard[0] >= 0:
                client = discord.Client(intents=discord.Intents.default(), shard_id=shard[0], shard_count=shard[1])
                with discord_py_pointed_at(fake), pytest.raises(discord.ConnectionClosed) as caught:
                    await asyncio.wait_for(client.start("fake-token"), 10)
                assert caught.value.code == 4010
                assert client.is_closed()
            else:  # discord.py refuses to send these; speak the protocol by hand
                import aiohttp

                async with aiohttp.ClientSession() as session, session.ws_connect(fake.gateway_url) as ws:
                    await ws.receive_json()  # HELLO
                    await ws.send_json({"op": 2, "d": {"token": "t", "intents": 0, "shard": shard, "properties": {}}})
                    msg = await ws.receive()
                    assert msg.type == aiohttp.WSMsgType.CLOSE and msg.data == 4010
            [identify] = fake.identifies()
            assert identify.detail["rejected"] == 4010 and identify.detail["shard"] == shard
            assert fake.identify_violations() == [] and not fake._sessions

    run(scenario)
