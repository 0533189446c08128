"""The fake Discord's channel types, permission overwrites and threads, driven by the real
discord.py client.

A small ``commands.Bot`` (no GlossaryBot) logs into the fake. The fake must show it what
Discord's API v10 shows a bot:

* overwrites in the channel payloads (so ``channel.permissions_for(guild.me)`` is right);
* ``app_permissions`` and resolved channels computed for the channel;
* channel options offering only their ``channel_types``;
* no message events from channels the bot cannot see;
* posting refused as Discord refuses it;
* forum posts as threads whose parent is the forum.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator

import discord
import pytest
from discord.ext import commands

from tests.fake_discord import ChannelType, FakeDiscord, Permissions, discord_py_pointed_at, run_checked

run = functools.partial(run_checked, timeout=30)
EMBED = {"title": "Attention", "description": "weights over a sequence"}
#: what a text channel's permissions are about (discord.py also drops voice bits in text channels)
TEXT_BITS = int(Permissions.VIEW_CHANNEL | Permissions.SEND_MESSAGES | Permissions.SEND_TTS_MESSAGES
                | Permissions.MANAGE_MESSAGES | Permissions.EMBED_LINKS | Permissions.ATTACH_FILES
                | Permissions.READ_MESSAGE_HISTORY | Permissions.MENTION_EVERYONE | Permissions.ADD_REACTIONS
                | Permissions.SEND_MESSAGES_IN_THREADS | Permissions.CREATE_PUBLIC_THREADS)


def make_bot() -> commands.Bot:
    intents = discord.Intents.default()
    intents.message_content = True
    bot = commands.Bot(command_prefix="!", intents=intents, guild_ready_timeout=0.05)
    bot.seen: list[discord.Message] = []  # type: ignore[attr-defined]
    bot.permissions_seen: list[tuple[int, int, int]] = []  # type: ignore[attr-defined]

    @bot.tree.command(name="where", description="A text or forum channel")
    async def where(interaction: discord.Interaction, channel: discord.TextChannel | discord.ForumChannel) -> None:
        bot.permissions_seen.append((channel.id, interaction.app_permissions.value,  # type: ignore[attr-defined]
                                     channel.permissions_for(channel.guild.me).value))
        await interaction.response.send_message(f"{type(channel).__name__} {channel.id}")

    @bot.listen("on_message")
    async def seen(message: discord.Message) -> None:
        bot.seen.append(message)  # type: ignore[attr-defined]

    async def setup_hook() -> None:
        await bot.tree.sync()

    bot.setup_hook = setup_hook  # type: ignore[method-assign]
    return bot


@contextlib.asynccontextmanager
async def running(fake: FakeDiscord, bot: commands.Bot) -> AsyncIterator[commands.Bot]:
    with discord_py_pointed_at(fake):
        task = asyncio.create_task(bot.start("fake-token"))
        try:
            await fake.wait_ready()
            await asyncio.wait_for(bot.wait_until_ready(), 10)
            yield bot
        finally:
            await bot.close()
            await asyncio.wait_for(task, 10)


def test_overwrites_reach_the_client_and_decide_what_the_bot_may_post() -> None:
    async def scenario() -> None:
        async with FakeDiscord() as fake:
            alice = fake.add_user("alice")
            guild = fake.add_guild(channels=["general", "locked", "hidden", "quiet"], members=[alice])
            general, locked, hidden, quiet = (guild.channel(n) for n in ("general", "locked", "hidden", "quiet"))
            bot_role = fake.bot_role(guild)
            fake.set_permissions(locked, bot_role, deny=Permissions.SEND_MESSAGES)
            fake.set_permissions(hidden, guild.default_role, deny=Permissions.VIEW_CHANNEL)
            fake.set_permissions(hidden, alice, allow=Permissions.VIEW_CHANNEL)  # a member's own overwrite
            fake.set_permissions(quiet, bot_role, deny=Permissions.EMBED_LINKS | Permissions.READ_MESSAGE_HISTORY)
            async with running(fake, make_bot()) as bot:
                d_guild = bot.get_guild(guild.id)
                me = d_guild.me
                for channel in (general, locked, hidden, quiet):  # the client computes what the fake does
                    assert d_guild.get_channel(channel.id).permissions_for(me).value & TEXT_BITS == \
                        guild.permissions_for(fake.bot_user, channel) & TEXT_BITS, channel.name
                assert not d_guild.get_channel(locked.id).permissions_for(me).send_messages
                assert not d_guild.get_channel(locked.id).permissions_for(me).embed_links  # implied by no sending
                assert not d_guild.get_channel(hidden.id).permissions_for(me).view_channel
                assert guild.permissions_for(alice, hidden) & Permissions.VIEW_CHANNEL

                with pytest.raises(discord.Forbidden) as refused:
                    await d_guild.get_channel(locked.id).send("hi")
                assert refused.value.code == 50013
                with pytest.raises(discord.Forbidden) as refused:
                    await d_guild.get_channel(hidden.id).send("hi")
                assert refused.value.code == 50001
                d_quiet = d_guild.get_channel(quiet.id)
                with pytest.raises(discord.Forbidden) as refused:
                    await d_quiet.send(embed=discord.Embed.from_dict(EMBED))
                assert refused.value.code == 50013
                sent = await d_quiet.send("text", embed=discord.Embed.from_dict(EMBED))
                assert sent.content == "text" and sent.embeds == []  # with text, the embed is dropped
                question = await fake.send_message(quiet, "what is attention?", author=alice)
                await fake.wait_for(lambda: any(m.id == question.id for m in bot.seen), what="the question")
                with pytest.raises(discord.Forbidden) as refused:
                    await d_quiet.get_partial_message(question.id).reply("an answer")
                assert refused.value.code == 160002

                # a channel the bot cannot see sends it nothing; opened to the bot, it does
                await fake.send_message(hidden, "psst", author=alice)
                fake.set_permissions(hidden, bot_role, allow=Permissions.VIEW_CHANNEL)
                await fake.wait_for(lambda: d_guild.get_channel(hidden.id).permissions_for(me).view_channel,
                                    what="CHANNEL_UPDATE in the client")
                after = await fake.send_message(hidden, "now you see me", author=alice)
                await fake.wait_for(lambda: any(m.id == after.id for m in bot.seen), what="the visible message")
                assert [m.content for m in bot.seen if m.channel.id == hidden.id] == ["now you see me"]
                await d_guild.get_channel(hidden.id).send("hello")

                # interactions carry the permissions of the channel they come from
                await fake.wait_for_command_sync()
                asked = await fake.send_slash_command("where", {"channel": locked}, user=alice, channel=quiet)
                assert (await fake.wait_for_response(asked)).content == f"TextChannel {locked.id}"
                [(seen_id, app_permissions, in_locked)] = bot.permissions_seen
                assert seen_id == locked.id and app_permissions == guild.permissions_for(fake.bot_user, quiet)
                assert in_locked & TEXT_BITS == guild.permissions_for(fake.bot_user, locked) & TEXT_BITS
                assert not fake.errors

    run(scenario)


def test_forum_posts_are_threads_the_bot_can_answer_in() -> None:
    async def scenario() -> None:
        async with FakeDiscord() as fake:
            alice = fake.add_user("alice")
            guild = fake.add_guild(channels=["general"], members=[alice])
            forum = fake.add_channel(guild, "questions", type=ChannelType.GUILD_FORUM)
            voice = fake.add_channel(guild, "lounge", type=ChannelType.GUILD_VOICE)
            async with running(fake, make_bot()) as bot:
                d_guild = bot.get_guild(guild.id)
                assert isinstance(d_guild.get_channel(forum.id), discord.ForumChannel)

                thread, post = await fake.create_forum_post(forum, "LoRA rank?", "what is lora?", author=alice)
                await fake.wait_for(lambda: any(m.id == post.id for m in bot.seen), what="the forum post")
                message = next(m for m in bot.seen if m.id == post.id)
                assert message.id == thread.id and isinstance(message.channel, discord.Thread)
                assert message.channel.parent_id == forum.id and message.channel.parent == d_guild.get_channel(forum.id)
                assert message.content == "what is lora?" and message.author.id == alice.id
                reply = await message.reply("LoRA: low-rank adapters", mention_author=False)
                assert fake.messages_in(thread)[-1]["id"] == str(reply.id)

                # a forum takes posts, not messages; a thread needs Send Messages in Threads
                with pytest.raises(discord.HTTPException) as refused:
                    await bot.http.send_message(forum.id, params=discord.http.handle_message_parameters(content="x"))
                assert refused.value.status == 400 and refused.value.code == 50008
                fake.set_permissions(forum, fake.bot_role(guild), deny=Permissions.SEND_MESSAGES_IN_THREADS)
                await fake.wait_for(lambda: not message.channel.permissions_for(d_guild.me).send_messages_in_threads,
                                    what="CHANNEL_UPDATE of the forum")
                with pytest.raises(discord.Forbidden) as refused:
                    await message.channel.send("again")
                assert refused.value.code == 50013

                # the slash command's channel option offers text and forum channels, not voice ones
                await fake.wait_for_command_sync()
                asked = await fake.send_slash_command("where", {"channel": forum}, user=alice)
                assert (await fake.wait_for_response(asked)).content == f"ForumChannel {forum.id}"
                with pytest.raises(ValueError, match="would not offer"):
                    await fake.send_slash_command("where", {"channel": voice}, user=alice)

                # a deleted channel is gone for the client too, and posting there is 404
                general = guild.channel("general")
                fake.delete_channel(general)
                await fake.wait_for(lambda: d_guild.get_channel(general.id) is None, what="CHANNEL_DELETE")
                with pytest.raises(discord.NotFound) as missing:
                    await bot.http.send_message(general.id, params=discord.http.handle_message_parameters(content="x"))
                assert missing.value.code == 10003
                assert not fake.errors

    run(scenario)
