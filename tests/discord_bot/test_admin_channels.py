"""Choosing channels with /glossary config (QA6 M3, L3).

When an admin sets a study channel or the daily channel, the bot checks its own
permissions there and says what is missing. The setting is saved anyway: the admin may
fix the permissions next, as with a daily post that failed. A forum may be a study
channel, and the bot answers in its posts; the daily channel may not be a forum, and the
admin is told why.

The fake Discord computes the bot's permissions from channel overwrites the way Discord
does, and refuses posts the way Discord does.
"""

from __future__ import annotations

from tests.fake_discord import ChannelType, FakeDiscord, Permissions

from .helpers import assert_no_pings, make_bot, make_settings, run, running

EPHEMERAL = 64


async def _config(fake, name, options, user):
    return await fake.wait_for_response(await fake.send_slash_command(f"glossary config {name}", options, user=user))


def test_channels_are_checked_for_the_bots_permissions_and_a_forum_can_be_a_study_channel(
        real_index_path, real_embedder, tmp_path) -> None:
    settings = make_settings(real_index_path, tmp_path / "state.db")

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            alice = fake.add_user("alice")
            guild = fake.add_guild(channels=["general", "study", "locked", "nothreads", "plain", "hidden"],
                                   members=[alice])
            study, locked, nothreads, plain, hidden = (
                guild.channel(n) for n in ("study", "locked", "nothreads", "plain", "hidden"))
            forum = fake.add_channel(guild, "questions", type=ChannelType.GUILD_FORUM)
            me = fake.bot_role(guild)
            fake.set_permissions(locked, me, deny=Permissions.SEND_MESSAGES | Permissions.READ_MESSAGE_HISTORY)
            fake.set_permissions(nothreads, me, deny=Permissions.SEND_MESSAGES_IN_THREADS)
            fake.set_permissions(plain, me, deny=Permissions.EMBED_LINKS)
            fake.set_permissions(hidden, me, deny=Permissions.VIEW_CHANNEL)
            owner = fake.owner
            async with running(fake, make_bot(settings, real_embedder)) as bot:
                await fake.wait_for_command_sync()

                fine = await _config(fake, "study-channel", {"action": "add", "channel": study}, owner)
                assert fine.data["flags"] == EPHEMERAL and f"Added <#{study.id}>." in fine.content
                assert "⚠️ I can't" not in fine.content

                # saved, and the admin is told exactly what to give the bot there
                warned = await _config(fake, "study-channel", {"action": "add", "channel": locked}, owner)
                assert f"Added <#{locked.id}>." in warned.content
                assert f"I can't answer in <#{locked.id}> yet" in warned.content
                for needed in ("Send Messages", "Embed Links", "Read Message History"):
                    assert needed in warned.content, needed
                assert "View Channel" not in warned.content  # it has that one
                unseen = await _config(fake, "study-channel", {"action": "add", "channel": hidden}, owner)
                assert f"I can't answer in <#{hidden.id}> yet: I need View Channel there" in unseen.content
                removed = await _config(fake, "study-channel", {"action": "remove", "channel": hidden}, owner)
                assert f"Removed <#{hidden.id}>." in removed.content
                # said as it is, not "Added" or "Removed" for a change that was not made
                again = await _config(fake, "study-channel", {"action": "remove", "channel": hidden}, owner)
                assert f"<#{hidden.id}> was not a study channel." in again.content
                twice = await _config(fake, "study-channel", {"action": "add", "channel": study}, owner)
                assert f"<#{study.id}> is already a study channel." in twice.content
                threads = await _config(fake, "study-channel", {"action": "add", "channel": nothreads}, owner)
                assert f"threads of <#{nothreads.id}>" in threads.content and "Send Messages in Threads" in threads.content

                # a forum is offered and accepted: members' posts there are answered in the post
                added = await _config(fake, "study-channel", {"action": "add", "channel": forum}, owner)
                assert f"Added <#{forum.id}>." in added.content and "⚠️ I can't" not in added.content
                assert bot.state.config(guild.id).study_channels == (study.id, locked.id, nothreads.id, forum.id)
                post, question = await fake.create_forum_post(
                    forum, "attention?", f"<@{fake.bot_user.id}> what is attention?", author=alice)
                answer = await fake.wait_for_channel_message(post, timeout=20)
                assert answer.message["message_reference"]["message_id"] == str(question.id)
                assert answer.embeds and answer.embeds[0]["title"] == "Attention"

                # /glossary config show lists what is still missing, until it is fixed
                shown = (await _config(fake, "show", {}, owner)).content
                assert f"I can't answer in <#{locked.id}> yet" in shown and f"threads of <#{nothreads.id}>" in shown
                fake.set_permissions(locked, me)  # the admin clears the overwrite
                fake.set_permissions(nothreads, me)
                await fake.wait_for(lambda: bot.get_channel(locked.id).permissions_for(
                    bot.get_guild(guild.id).me).send_messages, what="CHANNEL_UPDATE")
                await fake.wait_for(lambda: bot.get_channel(nothreads.id).permissions_for(
                    bot.get_guild(guild.id).me).send_messages_in_threads, what="CHANNEL_UPDATE")
                assert "⚠️ I can't" not in (await _config(fake, "show", {}, owner)).content

                # the daily channel: never a forum, and a channel without Embed Links is flagged
                before = bot.state.config(guild.id)
                refused = await _config(fake, "daily-channel", {"channel": forum}, owner)
                assert refused.data["flags"] == EPHEMERAL and refused.content.startswith("Not changed:")
                assert "forum" in refused.content and "text or announcement channel" in refused.content
                assert bot.state.config(guild.id) == before
                flagged = await _config(fake, "daily-channel", {"channel": plain}, owner)
                assert f"Term of the day goes to <#{plain.id}>." in flagged.content
                assert f"I can't post in <#{plain.id}> yet" in flagged.content and "Embed Links" in flagged.content
                assert "Send Messages" not in flagged.content
                assert bot.state.config(guild.id).daily_channel_id == plain.id
                news = fake.add_channel(guild, "announcements", type=ChannelType.GUILD_ANNOUNCEMENT)
                await fake.wait_for(lambda: bot.get_channel(news.id) is not None, what="CHANNEL_CREATE")
                moved = await _config(fake, "daily-channel", {"channel": news}, owner)
                assert f"Term of the day goes to <#{news.id}>." in moved.content and "⚠️ I can't" not in moved.content

            assert not fake.errors
            assert_no_pings(fake)

    run(scenario, timeout=180)


def test_a_deleted_study_channel_leaves_the_settings(real_index_path, real_embedder, tmp_path) -> None:
    """A deleted channel cannot be picked in `study-channel remove` any more: deleted while the bot
    runs, it leaves the settings then; deleted while the bot was away, `config show` drops it and
    says so (found by a QA pass: it had stayed, warned about, for good)."""
    settings = make_settings(real_index_path, tmp_path / "state.db")

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild(channels=["general", "study", "old", "older"])
            study, old, older = (guild.channel(n) for n in ("study", "old", "older"))
            owner = fake.owner
            async with running(fake, make_bot(settings, real_embedder)) as bot:
                await fake.wait_for_command_sync()
                for channel in (study, old, older):
                    await _config(fake, "study-channel", {"action": "add", "channel": channel}, owner)
                fake.delete_channel(old)
                await fake.wait_for(lambda: bot.state.config(guild.id).study_channels == (study.id, older.id),
                                    what="the deleted channel dropped")
            fake.delete_channel(older)  # while the bot is away
            async with running(fake, make_bot(settings, real_embedder)) as bot:
                await fake.wait_for_command_sync()
                shown = (await _config(fake, "show", {}, owner)).content
                assert f"Removed study channel <#{older.id}>: it no longer exists." in shown
                assert bot.state.config(guild.id).study_channels == (study.id,)
                assert "no longer exists." not in (await _config(fake, "show", {}, owner)).content
            assert not fake.errors

    run(scenario, timeout=180)


def test_the_quiz_of_the_day_turned_on_says_when_nothing_will_post_it(
        real_index_path, real_embedder, tmp_path) -> None:
    # it goes out under the term of the day: "Quiz of the day is on." alone had the admin wait for nothing
    settings = make_settings(real_index_path, tmp_path / "state.db")

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["general", "daily"])
            async with running(fake, make_bot(settings, real_embedder)):
                await fake.wait_for_command_sync()
                alone = await _config(fake, "daily-quiz", {"enabled": True}, fake.owner)
                assert "Quiz of the day is on." in alone.content and "term of the day, which is off" in alone.content
                await _config(fake, "daily-channel", {"channel": guild.channel("daily")}, fake.owner)
                await _config(fake, "daily", {"enabled": True}, fake.owner)
                on = await _config(fake, "daily-quiz", {"enabled": True}, fake.owner)
                assert "Quiz of the day is on." in on.content and "which is off" not in on.content
                off = await _config(fake, "daily-quiz", {"enabled": False}, fake.owner)
                assert "Quiz of the day is off." in off.content and "which is off" not in off.content

    run(scenario, timeout=120)


def test_everyone_as_the_quiz_role_reads_as_any_member_and_cannot_be_the_champion_role(
        real_index_path, real_embedder, tmp_path) -> None:
    """QA76: @everyone as the quiz role showed as "@@everyone" (its id, the server's, as a role
    mention), and refused as the champion role it was said to be managed by an integration."""
    settings = make_settings(real_index_path, tmp_path / "state.db")

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            alice = fake.add_user("alice")
            guild = fake.add_guild(channels=["general"], members=[alice])
            everyone = guild.default_role
            async with running(fake, make_bot(settings, real_embedder)):
                await fake.wait_for_command_sync()
                done = await _config(fake, "quiz-role", {"role": everyone}, fake.owner)
                assert done.content.startswith("Every member may start quiz rounds.\n"), done.content
                shown = (await _config(fake, "show", {}, fake.owner)).content
                assert "rounds started by any member" in shown and f"<@&{guild.id}>" not in shown, shown
                refused = await _config(fake, "champion-role", {"role": everyone}, fake.owner)
                assert "Not changed" in refused.content and "every member's role" in refused.content
                started = await fake.wait_for_response(await fake.send_slash_command(
                    "quiz", {"round": 2}, user=alice, guild=guild))
                assert "Manage Messages" not in (started.content or ""), started.content  # she may start one
            assert_no_pings(fake)

    run(scenario, timeout=120)
