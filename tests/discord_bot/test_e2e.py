"""The Discord layer end to end against the loopback fake Discord, with the real index.

The bot runs in-process (GlossaryBot pointed at the fake) for speed; one test
starts `python -m bot run` as a subprocess through DISCORD_API_BASE and
DISCORD_GATEWAY_URL, as deployed.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
from datetime import UTC, date, datetime, timedelta

from bot.discord_bot.bot import COMMAND_NAMES
from bot.discord_bot.cogs.daily import Daily
from tests.fake_discord import CallbackType, FakeDiscord, Permissions

from .helpers import (
    assert_no_pings,
    button_ids,
    kill_if_running,
    make_bot,
    make_settings,
    run,
    running,
    start_bot_process,
)

EXPECTED_COMMANDS = set(COMMAND_NAMES)


def test_commands_buttons_autocomplete_and_study_channel(real_index_path, real_embedder, tmp_path) -> None:
    settings = make_settings(real_index_path, tmp_path / "state.db")

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["general", "study"])
            alice = fake.add_user("alice")
            fake.add_member(guild, alice)
            async with running(fake, make_bot(settings, real_embedder)) as bot:
                sync = await fake.wait_for_command_sync()
                assert {c["name"] for c in sync.commands} == EXPECTED_COMMANDS

                # /define attention → embed + related buttons
                cb = await fake.wait_for_response(await fake.send_slash_command("define", {"term": "attention"},
                                                                                user=alice))
                assert cb.ok and cb.type == CallbackType.CHANNEL_MESSAGE
                assert cb.embeds[0]["title"] == "Attention"
                ids = button_ids(cb.message)
                assert ids[-1] == "gloss:rev:add:Attention"  # 📚 Add to my review, last
                assert ids[:-1] and all(i.startswith("gloss:show:") for i in ids[:-1])

                # a related button shows that term in a new message
                target = ids[0]
                click = await fake.wait_for_response(await fake.click_button(cb, target, user=alice))
                assert click.ok and click.type == CallbackType.CHANNEL_MESSAGE
                assert click.embeds[0]["title"] == target.removeprefix("gloss:show:")
                assert button_ids(click.message)

                # autocomplete
                choices = await fake.autocomplete("define", {"term": "atten"}, focused="term")
                assert choices and choices[0]["value"] == "Attention" and len(choices) <= 25
                assert all(len(c["name"]) <= 100 for c in choices)

                # off-glossary question → ephemeral refusal
                off = await fake.wait_for_response(await fake.send_slash_command(
                    "ask", {"question": "how do I bake sourdough bread?"}, user=alice))
                assert off.ok and off.data is not None and off.data["flags"] == 64
                assert "doesn't cover" in (off.content or "")

                # /related, /random, /today answer publicly
                for name, options in (("related", {"term": "attention"}), ("random", {}), ("today", {})):
                    got = await fake.wait_for_response(await fake.send_slash_command(name, options, user=alice))
                    assert got.ok and got.embeds, (name, got)

                # non-managers are refused, the owner configures a study channel
                refused = await fake.wait_for_response(await fake.send_slash_command(
                    "glossary config show", user=alice))
                assert refused.data["flags"] == 64 and "Manage Server" in refused.content
                study = guild.channel("study")
                added = await fake.wait_for_response(await fake.send_slash_command(
                    "glossary config study-channel", {"action": "add", "channel": study}, user=fake.owner))
                assert added.ok and added.data["flags"] == 64 and f"<#{study.id}>" in added.content
                # without the Message Content intent (this bot's default) only @mentions are read there
                assert "only messages that @mention it" in added.content
                general = guild.channel("general")
                for action in ("add", "remove"):  # add and take back a second one: only "study" stays
                    changed = await fake.wait_for_response(await fake.send_slash_command(
                        "glossary config study-channel", {"action": action, "channel": general}, user=fake.owner))
                    assert changed.ok
                assert bot.state.config(guild.id).study_channels == (study.id,)
                bad = await fake.wait_for_response(await fake.send_slash_command(
                    "glossary config daily-time", {"time": "25:99"}, user=fake.owner))
                assert "Not changed" in bad.content and bad.data["flags"] == 64
                daily = await fake.wait_for_response(await fake.send_slash_command(
                    "glossary config daily-channel", {"channel": general}, user=fake.owner))
                assert "It is off" in daily.content and "daily enabled:True" in daily.content

                # a mention with a question in the study channel gets a reply
                sent = await fake.send_message(study, f"<@{fake.bot_user.id}> what is attention?", author=alice)
                reply = await fake.wait_for_channel_message(study, after=sent, timeout=30)
                assert reply.message["message_reference"]["message_id"] == str(sent.id)
                assert reply.embeds and reply.embeds[0]["title"] == "Attention"

                # chatter that is not a question gets nothing
                quiet = await fake.send_message(study, "thanks everyone", author=alice)
                with contextlib.suppress(TimeoutError, asyncio.TimeoutError):
                    await fake.wait_for_channel_message(study, after=quiet, timeout=0.5)
                    raise AssertionError("the bot answered chatter")

                assert not fake.errors
                assert all(c.ok for c in fake.interaction_responses), fake.transcript()
                assert_no_pings(fake)

    run(scenario, timeout=120)


def test_the_daily_post_shows_the_servers_note_as_today_does(real_index_path, real_embedder, tmp_path) -> None:
    settings = make_settings(real_index_path, tmp_path / "state.db")
    clock = {"now": datetime(2026, 3, 2, 10, 0, tzinfo=UTC)}

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["general", "daily"])
            channel = guild.channel("daily")
            async with running(fake, make_bot(settings, real_embedder, now=lambda: clock["now"])) as bot:
                await fake.wait_for_command_sync()
                today = await fake.wait_for_response(await fake.send_slash_command("today", {}, guild=guild))
                term = today.embeds[0]["title"]
                bot.state.additions.set_note(guild.id, term, "Lab 4 uses this.", "h", "mod", clock["now"])
                bot.state.update_config(guild.id, daily_channel_id=channel.id, daily_time="09:00",
                                        timezone="UTC", daily_enabled=True)
                await bot.get_cog("Daily").post_due()
                await fake.wait_for(lambda: fake.messages_in(channel), what="the term of the day")
                post = fake.messages_in(channel)[-1]["embeds"][0]
                assert post["title"] == term
                assert any("Lab 4 uses this." in f["value"] for f in post.get("fields", [])), post
            assert not fake.errors

    run(scenario, timeout=120)


def test_daily_post_once_per_day_across_restart(real_index_path, real_embedder, tmp_path) -> None:
    settings = make_settings(real_index_path, tmp_path / "state.db")
    clock = {"now": datetime(2026, 3, 2, 10, 0, tzinfo=UTC)}

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["general", "daily"])
            channel = guild.channel("daily")
            first = make_bot(settings, real_embedder, now=lambda: clock["now"])
            async with running(fake, first) as bot:
                await fake.wait_for_command_sync()
                bot.state.update_config(guild.id, daily_channel_id=channel.id, daily_time="09:00",
                                        timezone="UTC", daily_enabled=True)
                cog: Daily = bot.get_cog("Daily")
                # the loop's own first check runs at READY and may see the new config first: either posts it
                assert await cog.post_due() in (0, 1)
                post = await fake.wait_for_channel_message(channel)
                assert post.embeds and "Term of the day" in post.content and button_ids(post.message)
                assert await cog.post_due() == 0  # same day: nothing more
                clock["now"] += timedelta(hours=5)
                assert await cog.post_due() == 0

            second = make_bot(settings, real_embedder, now=lambda: clock["now"])  # restart, same state DB
            async with running(fake, second) as bot:
                cog = bot.get_cog("Daily")
                cog.loop.cancel()  # the test runs the checks itself, on its clock
                await fake.wait_for(lambda: not cog.loop.is_running(), what="the daily loop stopped")
                assert await cog.post_due() == 0
                assert len(fake.messages_in(channel)) == 1 and len(fake.channel_messages) == 1

                clock["now"] += timedelta(days=1)  # next day: exactly one more
                assert await cog.post_due() == 1
                assert await cog.post_due() == 0
                assert len(fake.channel_messages) == 2
                days = [day for day, _term, status in bot.state.posts(guild.id) if status == "posted"]
                assert days == ["2026-03-02", "2026-03-03"]

                # Moved to UTC+14: the 10:00 UTC post went out at 00:00 on 4 March there, so
                # 09:30 on 4 March local has had its post, though its day key is the 3rd.
                bot.state.update_config(guild.id, timezone="Pacific/Kiritimati")
                clock["now"] += timedelta(hours=9, minutes=30)
                assert await cog.post_due() == 0
                clock["now"] += timedelta(days=1)
                assert await cog.post_due() == 1
                assert len(fake.channel_messages) == 3
                assert_no_pings(fake)

    run(scenario, timeout=120)


def test_a_term_of_the_day_the_bot_cannot_embed_fails_unsent_and_goes_out_once_fixed(
        real_index_path, real_embedder, tmp_path) -> None:
    # Without Embed Links Discord keeps the text and drops the embed: "📘 Term of the day" went out bare,
    # counted as sent, and the day's term never reached the members once the admin had fixed it.
    settings = make_settings(real_index_path, tmp_path / "state.db")
    clock = {"now": datetime(2026, 3, 2, 10, 0, tzinfo=UTC)}

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["general", "daily"])
            channel = guild.channel("daily")
            async with running(fake, make_bot(settings, real_embedder, now=lambda: clock["now"])) as bot:
                await fake.wait_for_command_sync()
                me = bot.get_guild(guild.id).me
                fake.set_permissions(channel, fake.bot_role(guild), deny=Permissions.EMBED_LINKS)
                await fake.wait_for(lambda: not bot.get_channel(channel.id).permissions_for(me).embed_links,
                                    what="CHANNEL_UPDATE")
                bot.state.update_config(guild.id, daily_channel_id=channel.id, daily_time="09:00",
                                        timezone="UTC", daily_enabled=True)
                cog: Daily = bot.get_cog("Daily")
                assert await cog.post_due() == 0
                assert fake.messages_in(channel) == []
                assert "Embed Links" in bot.state.config(guild.id).last_error

                fake.set_permissions(channel, fake.bot_role(guild))
                await fake.wait_for(lambda: bot.get_channel(channel.id).permissions_for(me).embed_links,
                                    what="CHANNEL_UPDATE")
                assert bot.state.retry_daily_post(guild.id, date(2026, 3, 2))  # what `daily enabled:True` does
                assert await cog.post_due() == 1
                post = fake.messages_in(channel)[-1]
                assert post["embeds"] and post["embeds"][0]["title"]
                assert not bot.state.config(guild.id).last_error

    run(scenario, timeout=120)


def test_guild_sync_and_daily_post_to_missing_channel(real_index_path, real_embedder, tmp_path) -> None:
    now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group")
            settings = make_settings(real_index_path, tmp_path / "state.db", guild_id=guild.id)
            async with running(fake, make_bot(settings, real_embedder, now=lambda: now)) as bot:
                sync = await fake.wait_for_command_sync(guild=guild)  # DISCORD_GUILD_ID: instant guild sync
                assert {c["name"] for c in sync.commands} == EXPECTED_COMMANDS
                bot.state.update_config(guild.id, daily_channel_id=123456789, daily_enabled=True)
                assert await bot.get_cog("Daily").post_due() == 0
                config = bot.state.config(guild.id)
                assert config.last_error and "the daily channel no longer exists" in config.last_error
                assert await bot.get_cog("Daily").post_due() == 0  # claimed: no retry storm

    run(scenario, timeout=120)


def test_glossary_bot_run_subprocess(real_index_path, tmp_path) -> None:
    """`python -m bot run` logs into the fake through the two URL overrides and exits cleanly on SIGTERM."""

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            fake.add_guild("Study Group")
            proc = await start_bot_process(fake, tmp_path, real_index_path, tmp_path / "state.db",
                                           "--log-level", "INFO", token="secret.token-do-not.log")
            try:
                sync = await fake.wait_for_command_sync(timeout=90)
                assert {c["name"] for c in sync.commands} == EXPECTED_COMMANDS
                await fake.wait_ready(timeout=30)
                cb = await fake.wait_for_response(await fake.send_slash_command("define", {"term": "attention"}))
                assert cb.ok and cb.embeds[0]["title"] == "Attention"
                proc.send_signal(signal.SIGTERM)
                _out, err = await asyncio.wait_for(proc.communicate(), 30)
                assert proc.returncode == 0, err.decode()
                assert b"secret.token-do-not.log" not in err + _out
            finally:
                await kill_if_running(proc)

    run(scenario, timeout=150)


def test_start_up_turns_the_collector_back_on_and_close_unfreezes(real_index_path, real_embedder, tmp_path) -> None:
    """`glossary-bot run` starts with the cyclic GC off (cli.cmd_run); setup_hook must leave it on,
    with the start-up objects frozen, and close() must hand them back to the collector."""
    settings = make_settings(real_index_path, tmp_path / "state.db")

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            fake.add_guild("Study Group")
            gc.disable()
            try:
                async with running(fake, make_bot(settings, real_embedder)):
                    await fake.wait_for_command_sync()
                    assert gc.isenabled()
                    assert gc.get_freeze_count() > 10_000
            finally:
                gc.enable()
            assert gc.get_freeze_count() == 0

    run(scenario, timeout=120)
