"""Faults, end to end: restarts and downtime around the daily post, gateway drops, HTTP
429/5xx/403, non-admins and other bots. The real discord.py client talks to the loopback
fake Discord; the daily loop runs for real (every 50 ms) on an injected clock, and tests
wait for counts of loop runs or for recorded traffic, never for fixed durations.
"""

from __future__ import annotations

import logging
import re
import time

import pytest

from bot.state import StateStore
from tests.fake_discord import CallbackType, FakeDiscord, Permissions

from .fault_helpers import (
    Clock,
    command,
    configure,
    daily_bot,
    daily_checks,
    daily_settings,
    posts_in,
    server_with_daily_post,
    statuses,
)
from .helpers import assert_no_pings, button_ids, make_bot, make_settings, run, running

MANAGE_GUILD = 1 << 5
ADMINISTRATOR = 1 << 3
EPHEMERAL = 64


# --------------------------------------------------------------------------- 1. restarts and downtime


def test_restart_after_the_post_never_posts_twice(real_index_path, real_embedder, tmp_path) -> None:
    state_path = tmp_path / "state.db"
    settings = make_settings(real_index_path, state_path)
    clock = Clock("2026-03-02T10:00:00+00:00")

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild, daily = server_with_daily_post(fake, state_path, "09:00")

            async with running(fake, daily_bot(settings, real_embedder, clock)) as bot:
                first = await fake.wait_for_channel_message(daily, timeout=30)
                assert first.content == "📘 Term of the day (2026-03-02)" and button_ids(first.message)
                await daily_checks(fake, bot)
                assert len(posts_in(fake, daily)) == 1

            clock.set("2026-03-02T13:00:00+00:00")  # restarted mid-day, same state database
            async with running(fake, daily_bot(settings, real_embedder, clock)) as bot:
                await daily_checks(fake, bot)
                assert len(posts_in(fake, daily)) == 1

                clock.set("2026-03-03T08:59:00+00:00")  # next day, before the time: nothing yet
                await daily_checks(fake, bot)
                assert len(posts_in(fake, daily)) == 1
                clock.set("2026-03-03T09:00:00+00:00")
                second = await fake.wait_for_channel_message(daily, after=first.at, predicate=lambda m: m is not first)
                assert second.content == "📘 Term of the day (2026-03-03)"
                await daily_checks(fake, bot)
                assert len(posts_in(fake, daily)) == 2
                assert [(d, s) for d, _t, s in bot.state.posts(guild.id)] == [
                    ("2026-03-02", "posted"), ("2026-03-03", "posted")]
                assert first.embeds[0]["title"] != second.embeds[0]["title"]  # the next term in the cycle
                assert_no_pings(fake)

    run(scenario, timeout=90)


@pytest.mark.parametrize(("back_at", "posted_day"), [
    ("2026-03-02T11:30:00+00:00", "2026-03-02"),  # down over 09:00, back the same day: one late post
    ("2026-03-03T10:00:00+00:00", "2026-03-03"),  # down all day, back the next: that day's post only
])
def test_down_over_the_posting_time_posts_exactly_once(real_index_path, real_embedder, tmp_path,
                                                       back_at, posted_day) -> None:
    state_path = tmp_path / "state.db"
    settings = make_settings(real_index_path, state_path)
    clock = Clock("2026-03-02T08:00:00+00:00")

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild, daily = server_with_daily_post(fake, state_path, "09:00")
            async with running(fake, daily_bot(settings, real_embedder, clock)) as bot:
                await daily_checks(fake, bot)  # before the time: nothing
                assert posts_in(fake, daily) == []

            clock.set(back_at)  # the bot was down at 09:00
            async with running(fake, daily_bot(settings, real_embedder, clock)) as bot:
                post = await fake.wait_for_channel_message(daily, timeout=30)
                assert post.content == f"📘 Term of the day ({posted_day})"
                await daily_checks(fake, bot, 5)
                assert len(posts_in(fake, daily)) == 1
                assert [(d, s) for d, _t, s in bot.state.posts(guild.id)] == [(posted_day, "posted")]

    run(scenario, timeout=90)


def test_a_post_a_crash_left_half_done_goes_out_once_when_the_channel_lacks_it(real_index_path, real_embedder,
                                                                               tmp_path) -> None:
    # The channel's latest messages show it never appeared (test_daily_in_doubt.py has the other cases).
    state_path = tmp_path / "state.db"
    settings = make_settings(real_index_path, state_path)
    clock = Clock("2026-03-02T10:00:00+00:00")

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild, daily = server_with_daily_post(fake, state_path, "09:00")
            crashed = StateStore(state_path)  # what a bot killed during channel.send() leaves behind
            crashed.claim_daily_post(guild.id, clock.now.date(), ["Attention", "LoRA"], channel_id=daily.id)
            crashed.close()

            async with running(fake, daily_bot(settings, real_embedder, clock)) as bot:
                await fake.wait_for(lambda: len(posts_in(fake, daily)) == 1, timeout=30, what="the missing post")
                await daily_checks(fake, bot)
                assert [m.content for m in posts_in(fake, daily)] == ["📘 Term of the day (2026-03-02)"]
                shown = await command(fake, "glossary config show", user=fake.owner)
                assert "Last error" not in shown.content

                clock.set("2026-03-03T09:30:00+00:00")
                await fake.wait_for(lambda: len(posts_in(fake, daily)) == 2, timeout=30, what="the next day's post")
                await daily_checks(fake, bot)
                assert len(posts_in(fake, daily)) == 2

    run(scenario, timeout=90)


# --------------------------------------------------------------------------- 2. gateway drops


def test_resume_and_fresh_identify_keep_commands_buttons_and_the_daily_loop(real_index_path, real_embedder,
                                                                            tmp_path) -> None:
    state_path = tmp_path / "state.db"
    settings = make_settings(real_index_path, state_path)
    clock = Clock("2026-03-02T08:00:00+00:00")

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild, daily = server_with_daily_post(fake, state_path, "09:00")
            async with running(fake, daily_bot(settings, real_embedder, clock)) as bot:
                await fake.wait_for_command_sync()
                before = await command(fake, "define", {"term": "attention"})
                assert before.ok and before.embeds[0]["title"] == "Attention"

                # 1) the socket drops: discord.py RESUMEs; a command sent meanwhile is still answered
                t0 = time.monotonic()
                await fake.force_close(4000)
                during = await fake.send_slash_command("define", {"term": "lora"})
                await fake.wait_resumed(after=t0, timeout=30)
                assert (await fake.wait_for_response(during)).embeds[0]["title"] == "LoRA"

                # 2) op 7 RECONNECT: another RESUME
                t1 = time.monotonic()
                await fake.send_reconnect()
                await fake.wait_resumed(after=t1, timeout=30)
                assert (fake.identify_count, fake.resume_count) == (1, 2)

                # 3) the session is invalidated (not resumable): a fresh IDENTIFY and READY
                t2 = time.monotonic()
                await fake.send_invalid_session(resumable=False)
                await fake.wait_ready(after=t2, timeout=30)
                assert fake.identify_count == 2
                after = await fake.wait_for(lambda: bot.is_ready() and bot.get_guild(guild.id), what="guild again")
                assert after is not None
                cb = await command(fake, "related", {"term": "attention"})
                assert cb.ok and cb.embeds
                click = await fake.wait_for_response(await fake.click_button(before, button_ids(before.message)[0]))
                assert click.ok and click.type == CallbackType.CHANNEL_MESSAGE  # buttons from before still work

                # the daily loop survived all of it: a post due after the reconnects goes out once
                await daily_checks(fake, bot)
                assert posts_in(fake, daily) == []
                clock.set("2026-03-02T09:00:00+00:00")
                post = await fake.wait_for_channel_message(daily, timeout=30)
                assert post.content == "📘 Term of the day (2026-03-02)"
                await daily_checks(fake, bot)
                assert len(posts_in(fake, daily)) == 1
                assert all(c.ok for c in fake.interaction_responses), fake.transcript()
                assert not fake.errors

    run(scenario, timeout=90)


# --------------------------------------------------------------------------- 3. HTTP 429, 5xx, 403


def test_rate_limits_and_server_errors_are_retried_and_nothing_is_lost(real_index_path, real_embedder,
                                                                       tmp_path) -> None:
    state_path = tmp_path / "state.db"
    settings = make_settings(real_index_path, state_path, message_content=True)
    clock = Clock("2026-03-02T08:00:00+00:00")

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild(channels=["general", "daily", "study"])
            daily, study = guild.channel("daily"), guild.channel("study")
            configure(state_path, guild.id, study_channels=(study.id,), **daily_settings(daily, "09:00"))
            daily_path, study_path = f"/channels/{daily.id}/messages", f"/channels/{study.id}/messages"
            async with running(fake, daily_bot(settings, real_embedder, clock)) as bot:
                await fake.wait_for_command_sync()

                # the daily post meets a 502, then a rate limit: discord.py waits and retries
                # (5xx first: discord.py waits 1 s after a first try, 3 s after a second)
                fake.fail_next("POST", daily_path, 502)
                fake.fail_next("POST", daily_path, 429, retry_after=0.3)
                clock.set("2026-03-02T09:00:00+00:00")
                post = await fake.wait_for_channel_message(daily, timeout=15)
                assert statuses(fake, "POST", daily_path) == [502, 429, 200]
                await daily_checks(fake, bot)
                assert len(posts_in(fake, daily)) == 1 and post.embeds
                assert bot.state.posts(guild.id)[0][2] == "posted"
                assert bot.state.config(guild.id).last_error is None

                # a study-channel answer meets a 500 and a global rate limit
                fake.fail_next("POST", study_path, 500)
                fake.fail_next("POST", study_path, 429, retry_after=0.2, global_=True)
                asked = await fake.send_message(study, "what is attention?")
                reply = await fake.wait_for_channel_message(study, after=asked, timeout=15)
                assert reply.embeds[0]["title"] == "Attention"
                assert statuses(fake, "POST", study_path) == [500, 429, 200]
                assert len(posts_in(fake, study)) == 1

                # a slash command's response is rate limited: still answered inside the 3 s window
                fake.fail_next("POST", r"/interactions/\d+/[^/]+/callback", 429, retry_after=0.2)
                cb = await command(fake, "define", {"term": "qlora"})
                assert cb.ok and cb.embeds[0]["title"] == "QLoRA"
                assert [r.status for r in fake.requests if r.path.endswith("/callback")][-2:] == [429, 200]
                assert not fake.errors

    run(scenario, timeout=90)


def test_a_rate_limited_command_sync_does_not_keep_the_bot_offline(real_index_path, real_embedder,
                                                                   tmp_path) -> None:
    """Restarts in a row can get the commands' bulk overwrite a 429: discord.py waits out its
    retry_after, and the restarted bot meanwhile connects and answers with the commands of its
    last sync."""
    settings = make_settings(real_index_path, tmp_path / "state.db")

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            fake.add_guild()
            async with running(fake, make_bot(settings, real_embedder)):
                await fake.wait_for_command_sync()
            restarted = time.monotonic()
            fake.fail_next("PUT", r"/applications/\d+/commands", 429, retry_after=3)
            async with running(fake, make_bot(settings, real_embedder)):
                answer = await command(fake, "define", {"term": "attention"})
                assert answer.ok and answer.embeds[0]["title"] == "Attention"
                sync = await fake.wait_for_command_sync(after=restarted, timeout=15)
                assert answer.at < sync.at  # answered while the sync still waited
                assert [r.status for r in fake.requests if r.method == "PUT"] == [200, 429, 200]
                assert not fake.errors

    run(scenario, timeout=60)


def test_forbidden_daily_channel_is_logged_shown_to_admins_and_keeps_the_settings(
        real_index_path, real_embedder, tmp_path, caplog) -> None:
    state_path = tmp_path / "state.db"
    settings = make_settings(real_index_path, state_path)
    clock = Clock("2026-03-02T10:00:00+00:00")
    caplog.set_level(logging.WARNING, logger="bot")

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild(channels=["general", "daily"])
            daily = guild.channel("daily")
            path = f"/channels/{daily.id}/messages"
            owner = fake.owner
            async with running(fake, daily_bot(settings, real_embedder, clock)) as bot:
                await fake.wait_for_command_sync()
                # the bot lost Send Messages in the channel the admin picks
                fake.fail_next("POST", path, 403, code=50013)
                assert (await command(fake, "glossary config daily-channel", {"channel": daily}, user=owner)).ok
                assert (await command(fake, "glossary config daily", {"enabled": True}, user=owner)).ok
                await fake.wait_for(lambda: bot.state.posts(guild.id) and bot.state.posts(guild.id)[0][2] == "failed",
                                    timeout=30, what="the failed daily post")

                shown = await command(fake, "glossary config show", user=owner)
                assert shown.data["flags"] == EPHEMERAL
                text = shown.content
                assert "Last error" in text and "2026-03-02 not posted" in text
                assert "Missing Permissions" in text and "Send Messages" in text and f"<#{daily.id}>" in text
                assert "**Term of the day:** on" in text and f"channel <#{daily.id}>" in text  # settings kept
                config = bot.state.config(guild.id)
                assert config.daily_channel_id == daily.id and config.daily_enabled
                assert any(r.levelno == logging.WARNING and "Missing Permissions" in r.getMessage()
                           for r in caplog.records)
                await daily_checks(fake, bot)
                assert statuses(fake, "POST", path) == [403]  # claimed: no retry storm that day

                # next day the bot cannot even see the channel (50001)
                fake.fail_next("POST", path, 403, code=50001)
                clock.set("2026-03-03T10:00:00+00:00")
                await fake.wait_for(lambda: len(statuses(fake, "POST", path)) == 2, what="second attempt")
                await fake.wait_for(lambda: "Missing Access" in (bot.state.config(guild.id).last_error or ""),
                                    what="Missing Access recorded")
                text = (await command(fake, "glossary config show", user=owner)).content
                assert "2026-03-03 not posted" in text and "View Channel" in text
                # picking the channel again (access fixed) is the admin's fix: Discord refused the
                # post, so it surely did not appear, and today's term goes out after all, once
                picked = await command(fake, "glossary config daily-channel", {"channel": daily}, user=owner)
                assert "Today's term of the day (2026-03-03) did not go out earlier" in picked.content
                post = await fake.wait_for_channel_message(daily, timeout=30)
                assert "(2026-03-03)" in post.content
                await daily_checks(fake, bot)  # the check that posted it has recorded it too
                text = (await command(fake, "glossary config show", user=owner)).content
                assert "Last error" not in text and "**Term of the day:** on" in text
                assert len(posts_in(fake, daily)) == 1

                # the next day's post goes out as usual
                clock.set("2026-03-04T10:00:00+00:00")
                await fake.wait_for(lambda: len(posts_in(fake, daily)) == 2, what="the next day's post")
                await daily_checks(fake, bot)
                assert len(posts_in(fake, daily)) == 2

    run(scenario, timeout=90)


def test_fixing_a_failed_daily_post_brings_todays_term_back_once(real_index_path, real_embedder, tmp_path) -> None:
    """QA6 M2: the daily channel was deleted, or the bot may not post there. Once the admin fixes
    it (a new channel, `daily on` after fixing permissions), today's term goes out, once. A fix
    that would fail again says so and sends nothing. A post interrupted mid-send may have
    appeared, so it is never sent again, and the reply says when the next one comes."""
    state_path = tmp_path / "state.db"
    settings = make_settings(real_index_path, state_path)
    clock = Clock("2026-03-02T08:59:00+00:00")

    async def scenario() -> None:
        async with FakeDiscord() as fake:

            def days(channel) -> list[str]:
                return [m.content for m in posts_in(fake, channel)]

            guild = fake.add_guild(channels=["general", "daily", "daily2"])
            daily, daily2 = guild.channel("daily"), guild.channel("daily2")
            configure(state_path, guild.id, **daily_settings(daily, "09:00"))
            owner, me = fake.owner, fake.bot_role(guild)
            async with running(fake, daily_bot(settings, real_embedder, clock)) as bot:
                await fake.wait_for_command_sync()

                # 1. #daily is deleted before the post: 404, surely not posted
                fake.delete_channel(daily)
                await fake.wait_for(lambda: bot.get_channel(daily.id) is None, what="CHANNEL_DELETE")
                clock.set("2026-03-02T09:01:00+00:00")
                await fake.wait_for(lambda: bot.state.daily_failure(guild.id, clock.now.date()),
                                    timeout=30, what="the failed post")
                shown = (await command(fake, "glossary config show", user=owner)).content
                # (QA76: its raw id was shown, not as a mention)
                assert "no longer exists" in shown and not re.search(rf"(?<!<#){daily.id}", shown), shown

                clock.set("2026-03-02T09:11:00+00:00")
                moved = await command(fake, "glossary config daily-channel", {"channel": daily2}, user=owner)
                assert f"Term of the day goes to <#{daily2.id}>." in moved.content
                assert "Today's term of the day (2026-03-02) did not go out earlier: it is posted within a minute." \
                    in moved.content
                first = await fake.wait_for_channel_message(daily2, timeout=30)
                assert "(2026-03-02)" in first.content
                # picking it again, or turning it on again, sends nothing more that day
                again = await command(fake, "glossary config daily-channel", {"channel": daily2}, user=owner)
                assert "Today's term" not in again.content
                assert "Today's term" not in (await command(fake, "glossary config daily", {"enabled": True},
                                                            user=owner)).content
                await daily_checks(fake, bot)
                assert len(days(daily2)) == 1

                # 2. the next day the bot may not post there: a fix that still fails sends nothing
                fake.set_permissions(daily2, me, deny=Permissions.SEND_MESSAGES)
                await fake.wait_for(lambda: not bot.get_channel(daily2.id).permissions_for(
                    bot.get_guild(guild.id).me).send_messages, what="CHANNEL_UPDATE")
                clock.set("2026-03-03T09:00:00+00:00")
                await fake.wait_for(lambda: bot.state.daily_failure(guild.id, clock.now.date()),
                                    timeout=30, what="the refused post")
                path = f"/channels/{daily2.id}/messages"
                # refused before sending, from the permissions the bot can see: no request Discord would refuse
                assert statuses(fake, "POST", path) == [200]
                assert "lacks Send Messages" in bot.state.config(guild.id).last_error
                still = await command(fake, "glossary config daily", {"enabled": True}, user=owner)
                assert "I can't post in" in still.content and "Send Messages" in still.content
                assert "Today's term of the day (2026-03-03) did not go out: once I can post" in still.content
                await daily_checks(fake, bot)
                assert statuses(fake, "POST", path) == [200]  # not tried again

                fake.set_permissions(daily2, me)  # the admin clears the overwrite, then turns it on again
                await fake.wait_for(lambda: bot.get_channel(daily2.id).permissions_for(
                    bot.get_guild(guild.id).me).send_messages, what="CHANNEL_UPDATE")
                fixed = await command(fake, "glossary config daily", {"enabled": True}, user=owner)
                assert "Today's term of the day (2026-03-03) did not go out earlier: it is posted within a minute." \
                    in fixed.content and "I can't" not in fixed.content
                await fake.wait_for(lambda: len(days(daily2)) == 2, what="the 3 March post")
                assert "(2026-03-03)" in days(daily2)[-1]
                await daily_checks(fake, bot)
                assert statuses(fake, "POST", path) == [200, 200]

                # 3. a post the bot stopped in the middle of sending may have appeared: never again
                clock.set("2026-03-04T08:00:00+00:00")
                bot.state.claim_daily_post(guild.id, clock.now.date(), bot.daily_terms())
                assert bot.state.recover_interrupted_posts({guild.id}) == [(guild.id, clock.now.date())]
                clock.set("2026-03-04T09:30:00+00:00")
                unsure = await command(fake, "glossary config daily-channel", {"channel": daily2}, user=owner)
                assert "may have appeared before the bot stopped" in unsure.content
                assert "tomorrow at 09:00 (UTC)" in unsure.content
                await daily_checks(fake, bot)
                assert len(days(daily2)) == 2
                assert_no_pings(fake)
            assert not fake.errors

    run(scenario, timeout=120)


# --------------------------------------------------------------------------- 5. who may do what


def test_admin_commands_are_refused_for_members_without_manage_server(real_index_path, real_embedder,
                                                                      tmp_path) -> None:
    settings = make_settings(real_index_path, tmp_path / "state.db")

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild(channels=["general", "study", "daily"])
            study, daily = guild.channel("study"), guild.channel("daily")
            alice, mod, boss = fake.add_user("alice"), fake.add_user("mod"), fake.add_user("boss")
            fake.add_member(guild, alice)
            fake.add_member(guild, mod, roles=[fake.add_role(guild, "Mods", permissions=MANAGE_GUILD)])
            fake.add_member(guild, boss, roles=[fake.add_role(guild, "Admins", permissions=ADMINISTRATOR)])
            async with running(fake, make_bot(settings, real_embedder)) as bot:
                sync = await fake.wait_for_command_sync()
                glossary = next(c for c in sync.commands if c["name"] == "glossary")
                assert glossary["default_member_permissions"] == str(MANAGE_GUILD)  # hidden from members
                before = bot.state.config(guild.id)

                # Discord shows it to members anyway if a server overrides that: the bot checks itself
                for name, options in [
                    ("glossary config study-channel", {"action": "add", "channel": study}),
                    ("glossary config daily-channel", {"channel": daily}),
                    ("glossary config daily-time", {"time": "07:30"}),
                    ("glossary config timezone", {"zone": "Europe/Berlin"}),
                    ("glossary config daily", {"enabled": True}),
                    ("glossary config show", {}),
                ]:
                    refused = await command(fake, name, options, user=alice)
                    assert refused.ok and refused.data["flags"] == EPHEMERAL, name
                    assert "Manage Server" in refused.content and "Study channels" not in refused.content, name
                assert bot.state.config(guild.id) == before  # nothing changed

                added = await command(fake, "glossary config daily-channel", {"channel": daily}, user=mod)
                assert added.data["flags"] == EPHEMERAL and f"<#{daily.id}>" in added.content
                assert bot.state.config(guild.id).daily_channel_id == daily.id
                shown = await command(fake, "glossary config show", user=boss)
                assert "Study channels" in shown.content
                assert_no_pings(fake)

    run(scenario, timeout=90)


def test_messages_from_other_bots_and_webhooks_are_ignored(real_index_path, real_embedder, tmp_path) -> None:
    state_path = tmp_path / "state.db"
    settings = make_settings(real_index_path, state_path, message_content=True)

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild(channels=["general", "study"])
            study = guild.channel("study")
            configure(state_path, guild.id, study_channels=(study.id,))
            quizbot, alice = fake.add_user("quizbot", bot=True), fake.add_user("alice")
            fake.add_member(guild, quizbot)
            fake.add_member(guild, alice)
            me = fake.bot_user.mention
            async with running(fake, make_bot(settings, real_embedder)):
                await fake.wait_for_command_sync()
                ignored = [
                    await fake.send_message(study, "what is attention?", author=quizbot),
                    await fake.send_message(study, f"{me} what is attention?", author=quizbot),
                    await fake.send_webhook_message(study, "what is attention?"),
                    await fake.send_webhook_message(study, f"{me} what is lora?"),
                ]
                # a person asking afterwards is answered: the listener is alive and saw the others first
                asked = await fake.send_message(study, "what is attention?", author=alice)
                reply = await fake.wait_for_channel_message(study, after=asked, timeout=30)
                assert reply.message["message_reference"]["message_id"] == str(asked.id)
                answered = {m.message["message_reference"]["message_id"] for m in posts_in(fake, study)}
                assert answered == {str(asked.id)}
                assert not answered & {str(m.id) for m in ignored}

    run(scenario, timeout=90)
