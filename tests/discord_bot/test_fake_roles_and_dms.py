"""The fake Discord's refused DMs and member roles, driven by the real discord.py client.

A plain ``discord.Client`` (no GlossaryBot) logs into the fake and calls ``User.send``,
``Member.add_roles`` and ``Member.remove_roles``; the fake must answer as Discord's API
v10 does: 403 50007 for a user who does not accept DMs, 204 for a role change the bot
may make, 403 50013 when it lacks MANAGE_ROLES or the role is not below its top role.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator

import discord
import pytest

from tests.fake_discord import FakeDiscord, Permissions, discord_py_pointed_at, run_checked
from tests.fake_discord.models import DEFAULT_BOT_PERMISSIONS

MANAGER = DEFAULT_BOT_PERMISSIONS | Permissions.MANAGE_ROLES


run = functools.partial(run_checked, timeout=30)


@contextlib.asynccontextmanager
async def connected(fake: FakeDiscord, *, members_intent: bool = False) -> AsyncIterator[discord.Client]:
    intents = discord.Intents.default()
    intents.members = members_intent
    client = discord.Client(intents=intents, guild_ready_timeout=0.05)
    client.event_types: list[str] = []  # type: ignore[attr-defined]

    async def on_socket_event_type(event: str) -> None:
        client.event_types.append(event)  # type: ignore[attr-defined]

    client.on_socket_event_type = on_socket_event_type  # type: ignore[attr-defined]
    with discord_py_pointed_at(fake):
        task = asyncio.create_task(client.start("fake-token"))
        try:
            await fake.wait_ready()
            await asyncio.wait_for(client.wait_until_ready(), 10)
            yield client
        finally:
            await client.close()
            await asyncio.wait_for(task, 10)


def test_dm_to_a_user_who_refuses_dms_is_forbidden_and_to_others_delivered() -> None:
    async def scenario() -> None:
        async with FakeDiscord() as fake:
            alice = fake.add_user("alice")
            bob = fake.add_user("bob", accepts_dms=False)
            fake.add_guild("Study Group", members=[alice, bob])
            async with connected(fake) as client:
                with pytest.raises(discord.Forbidden) as refused:
                    await (await client.fetch_user(bob.id)).send("your quiz score")
                assert refused.value.status == 403 and refused.value.code == 50007
                assert refused.value.text == "Cannot send messages to this user"
                # opening the DM channel still worked; nothing was sent in it
                channel = fake.dm_channels[bob.id]
                assert fake.messages_in(channel) == []
                assert not [m for m in fake.bot_messages if m.channel_id == channel.id]
                assert [r.status for r in fake.requests if r.path == f"/channels/{channel.id}/messages"] == [403]

                sent = await (await client.fetch_user(alice.id)).send("your quiz score")
                rec = await fake.wait_for_channel_message(fake.dm_channel(alice))
                assert rec.id == sent.id and rec.content == "your quiz score"

                bob.accepts_dms = True  # the user changes their privacy settings
                await (await client.fetch_user(bob.id)).send("now it arrives")
                assert (await fake.wait_for_channel_message(channel)).content == "now it arrives"

    run(scenario)


def test_add_and_remove_roles_with_manage_roles_update_fake_and_client() -> None:
    async def scenario() -> None:
        async with FakeDiscord() as fake:
            alice = fake.add_user("alice")
            guild = fake.add_guild("Study Group", members=[alice], bot_permissions=MANAGER)
            quizzer = fake.add_role(guild, "Quizzer")
            assert quizzer.position < fake.bot_role(guild).position  # new roles go to the bottom
            async with connected(fake, members_intent=True) as client:
                d_guild = client.get_guild(guild.id)
                assert d_guild is not None
                member = d_guild.get_member(alice.id)
                assert member is not None and member.roles == [d_guild.default_role]
                d_role = d_guild.get_role(quizzer.id)
                assert d_role is not None and d_role < d_guild.me.top_role

                await member.add_roles(d_role, reason="answered 10 quizzes")
                assert fake.member_roles(guild, alice) == [quizzer]
                put = [r for r in fake.requests if r.method == "PUT" and "/roles/" in r.path]
                assert [(r.path, r.status) for r in put] == [
                    (f"/guilds/{guild.id}/members/{alice.id}/roles/{quizzer.id}", 204)
                ]
                # GUILD_MEMBER_UPDATE reaches the client's cache (it has the GUILD_MEMBERS intent)
                await fake.wait_for(lambda: d_role in d_guild.get_member(alice.id).roles, what="role in cache")
                fetched = await d_guild.fetch_member(alice.id)
                assert d_role in fetched.roles

                await member.add_roles(d_role)  # already held: 204, nothing changes
                assert fake.member_roles(guild, alice) == [quizzer]

                await d_guild.get_member(alice.id).remove_roles(d_role)
                assert fake.member_roles(guild, alice) == []
                await fake.wait_for(lambda: d_role not in d_guild.get_member(alice.id).roles, what="role removed")
                assert client.event_types.count("GUILD_MEMBER_UPDATE") == 2  # type: ignore[attr-defined]

    run(scenario)


def test_role_changes_the_bot_may_not_make_are_refused() -> None:
    async def scenario() -> None:
        async with FakeDiscord() as fake:
            alice = fake.add_user("alice")
            plain = fake.add_guild("No manage roles", members=[alice])
            low = fake.add_role(plain, "Quizzer")
            guild = fake.add_guild("Manage roles", members=[alice], bot_permissions=MANAGER)
            above = fake.add_role(guild, "Mods", position=fake.bot_role(guild).position + 1)
            assert above.position > fake.bot_role(guild).position
            below = fake.add_role(guild, "Quizzer")
            assert below.position < fake.bot_role(guild).position < above.position
            async with connected(fake) as client:  # no GUILD_MEMBERS intent
                # without MANAGE_ROLES
                d_plain = client.get_guild(plain.id)
                member = await d_plain.fetch_member(alice.id)
                with pytest.raises(discord.Forbidden) as refused:
                    await member.add_roles(d_plain.get_role(low.id))
                assert refused.value.code == 50013 and refused.value.text == "Missing Permissions"
                assert fake.member_roles(plain, alice) == []

                # with MANAGE_ROLES: a role above the bot's top role, and a managed role
                d_guild = client.get_guild(guild.id)
                member = await d_guild.fetch_member(alice.id)
                for role in (above, fake.bot_role(guild)):
                    with pytest.raises(discord.Forbidden) as refused:
                        await member.add_roles(d_guild.get_role(role.id))
                    assert refused.value.code == 50013
                assert fake.member_roles(guild, alice) == []

                # a role below it works; the client lacks GUILD_MEMBERS so hears no update about alice
                await member.add_roles(d_guild.get_role(below.id))
                assert fake.member_roles(guild, alice) == [below]
                # ...but it does hear about itself, as on Discord
                await d_guild.me.add_roles(d_guild.get_role(below.id))
                await fake.wait_for(lambda: d_guild.get_role(below.id) in d_guild.me.roles, what="bot's own role")
                assert client.event_types.count("GUILD_MEMBER_UPDATE") == 1  # type: ignore[attr-defined]

                # unknown guild / member / role
                for ids, code in (
                    ((1, alice.id, below.id), 10004),
                    ((guild.id, 1, below.id), 10007),
                    ((guild.id, alice.id, 1), 10011),
                ):
                    with pytest.raises(discord.NotFound) as missing:
                        await client.http.add_role(*ids)
                    assert missing.value.code == code

    run(scenario)


def test_a_role_added_while_connected_lands_below_the_bots_role() -> None:
    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", bot_permissions=MANAGER)
            async with connected(fake) as client:
                d_guild = client.get_guild(guild.id)
                first = fake.add_role(guild, "First")
                second = fake.add_role(guild, "Second")
                top = fake.add_role(guild, "Top", position=99)
                assert [r.name for r in sorted(guild.roles, key=lambda r: r.rank)] == [
                    "@everyone", "Second", "First", "StudyBot", "Top"
                ]

                def cache_agrees() -> bool:
                    roles = [d_guild.get_role(r.id) for r in (second, first, top)]
                    return None not in roles and sorted(d_guild.roles) == [d_guild.default_role, *roles[:2],
                                                                           d_guild.me.top_role, roles[2]]

                await fake.wait_for(cache_agrees, what="client sees the same role order")
                assert d_guild.me.top_role.id == fake.bot_role(guild).id

    run(scenario)
