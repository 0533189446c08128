"""/quiz round on Discord (issue 12): three users answer in a channel, faster right answers
score more, each answers once, questions close on the bot's clock, the round survives a
restart in the middle, and a summary ends it; members without permission cannot start one."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from discord.utils import escape_markdown

from bot.discord_bot import render_study
from bot.state import StateStore
from bot.state.study import RoundQuestion
from tests.fake_discord import CallbackType, FakeDiscord
from tests.fake_discord.models import Permissions

from .helpers import assert_no_pings, button_ids, configure, make_bot, make_settings, run, running


async def _question(fake, channel, position: int, after=None):
    """The round's question `position` as posted in the channel."""
    return await fake.wait_for_channel_message(
        channel, after=after, timeout=30,
        predicate=lambda m: any(cid.startswith(render_study.ROUND_PREFIX) and cid.split(":")[3] == str(position)
                                for cid in button_ids(m.message)))


def test_a_round_with_three_players_across_a_restart(real_index_path, real_embedder, tmp_path) -> None:
    settings = make_settings(real_index_path, tmp_path / "state.db")
    clock = {"now": datetime(2026, 3, 2, 10, 0, tzinfo=UTC)}

    def bot_now():
        return clock["now"]

    async def answer(fake, message, user, pick):
        ids = [cid for cid in button_ids(message.message) if cid.startswith(render_study.ROUND_PREFIX)]
        return await fake.wait_for_response(await fake.click_button(message, ids[pick], user=user))

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["quiz"])
            channel = guild.channel("quiz")
            mods = fake.add_role(guild, "Mods", permissions=int(Permissions.MANAGE_MESSAGES))
            alice, bob, carol = fake.add_user("alice"), fake.add_user("bob"), fake.add_user("carol")
            fake.add_member(guild, alice, roles=[mods])
            fake.add_member(guild, bob)
            fake.add_member(guild, carol)
            async with running(fake, make_bot(settings, real_embedder, now=bot_now, round_tick=0.02)) as bot:
                await fake.wait_for_command_sync()
                refused = await fake.wait_for_response(
                    await fake.send_slash_command("quiz", {"round": 2}, user=bob, channel=channel))
                assert refused.data["flags"] == 64 and "Manage Messages" in refused.content

                started = await fake.wait_for_response(
                    await fake.send_slash_command("quiz", {"round": 2, "seconds": 30}, user=alice, channel=channel))
                assert started.ok and "2 questions, 30 s each" in started.content and not started.data.get("flags")
                busy = await fake.wait_for_response(
                    await fake.send_slash_command("quiz", {"round": 3}, user=alice, channel=channel))
                assert "already running" in busy.content

                first = await _question(fake, channel, 0)
                # the question is posted, then recorded as open: wait for the record, not just the message
                quiz_round = await fake.wait_for(
                    lambda: next((r for r in bot.state.study.running_rounds() if r.opened_at), None), timeout=30,
                    what="question 1 open")
                right = quiz_round.question.correct
                wrong = (right + 1) % 4
                opened = quiz_round.opened_at
                clock["now"] = opened + timedelta(seconds=2)
                got = await answer(fake, first, alice, right)
                assert got.data["flags"] == 64 and got.content.startswith("✅ Right! +10 points")
                clock["now"] = opened + timedelta(seconds=8)
                got = await answer(fake, first, bob, right)
                assert got.content.startswith("✅ Right! +9 points")
                got = await answer(fake, first, carol, wrong)
                assert got.content.startswith("❌") and quiz_round.question.answer not in got.content
                again = await answer(fake, first, bob, wrong)
                assert "already answered" in again.content

                clock["now"] = opened + timedelta(seconds=31)  # time's up: closed, then question 2
                second = await _question(fake, channel, 1)
                closed = fake.messages[first.id]
                assert "time's up" in closed["embeds"][0]["title"] and not closed.get("components")
                text = closed["embeds"][0]["description"]
                # shown as markdown: an answer such as "non_blocking" reads "non\\_blocking"
                assert escape_markdown(quiz_round.question.answer) in text and f"<@{alice.id}> +10, <@{bob.id}> +9" in text
                assert second.id  # posted; the restart below may come before or after it is recorded

            # restart while question 2 is open: answers still count, and the round goes on
            async with running(fake, make_bot(settings, real_embedder, now=bot_now, round_tick=0.02)) as bot:
                # (if the restart came between posting question 2 and recording it, it is asked again)
                quiz_round = await fake.wait_for(
                    lambda: next((r for r in bot.state.study.running_rounds() if r.opened_at), None), timeout=30,
                    what="question 2 open")
                assert quiz_round.position == 1
                opened = quiz_round.opened_at
                clock["now"] = opened + timedelta(seconds=1)
                got = await answer(fake, second, carol, quiz_round.question.correct)
                assert got.content.startswith("✅ Right! +10 points")
                got = await answer(fake, second, bob, (quiz_round.question.correct + 1) % 4)
                assert got.content.startswith("❌")
                clock["now"] = opened + timedelta(seconds=40)
                summary = await fake.wait_for_channel_message(
                    channel, timeout=30, predicate=lambda m: bool(m.embeds) and m.embeds[0]["title"] == "Round over")
                # each counts right answers of the answers given: alice answered only question 1
                lines = summary.embeds[0]["description"].splitlines()
                assert lines == [f"1. <@{alice.id}> — **10** points, tied (1 of 1 answer right)",
                                 f"1. <@{carol.id}> — **10** points, tied (1 of 2 answers right)",
                                 f"3. <@{bob.id}> — **9** points (1 of 2 answers right)"]
                await asyncio.sleep(0.1)
                assert not bot.state.study.running_rounds()
                board = await fake.wait_for_response(await fake.send_slash_command("leaderboard", {}, user=bob))
                assert board.embeds[0]["title"] == "Leaderboard · March 2026"
                # the board shows the same ratio as the summary: nothing else was answered this month
                assert board.embeds[0]["description"].splitlines() == [
                    f"🥇 <@{alice.id}> — **10** points, tied (1 of 1 answer right)",
                    f"🥇 <@{carol.id}> — **10** points, tied (1 of 2 answers right)",
                    f"🥉 <@{bob.id}> — **9** points (1 of 2 answers right)"]

            assert not fake.errors
            assert_no_pings(fake)

    run(scenario, timeout=180)


# -- stopping a round ---------------------------------------------------------------------------------

async def _open(fake, bot, position: int):
    """The running round once its question `position` is recorded as open."""
    return await fake.wait_for(
        lambda: next((r for r in bot.state.study.running_rounds() if r.opened_at and r.position == position), None),
        timeout=30, what=f"question {position + 1} open")


async def _three_questions_started(fake, bot, channel):
    """The server's owner starts a round of 3 questions, 30 s each, in `channel`; its first question, open."""
    await fake.wait_for_command_sync()
    started = await fake.wait_for_response(await fake.send_slash_command(
        "quiz", {"round": 3, "seconds": 30}, user=fake.owner, channel=channel))
    assert started.ok, started.content
    return await _open(fake, bot, 0)


async def _answer(fake, message, user, pick):
    ids = [cid for cid in button_ids(message.message) if render_study.parse_round_id(cid)]
    return await fake.wait_for_response(await fake.click_button(message, ids[pick], user=user))


async def _stop_command(fake, user, channel):
    return await fake.wait_for_response(await fake.send_slash_command("quiz-stop", {}, user=user, channel=channel))


def _asked(fake, channel, title: str) -> bool:
    """Whether a question whose title starts with `title` was posted (open or closed since)."""
    return any(m.get("embeds") and m["embeds"][0].get("title", "").startswith(title) for m in fake.messages_in(channel))


async def _summary(fake, channel, after=None):
    return await fake.wait_for_channel_message(
        channel, after=after, timeout=30,
        predicate=lambda m: bool(m.embeds) and m.embeds[0]["title"] in ("Round over", "Round stopped"))


def test_a_round_is_stopped_by_its_starter_or_a_moderator_and_its_answers_still_count(
        real_index_path, real_embedder, tmp_path) -> None:
    settings = make_settings(real_index_path, tmp_path / "state.db")
    clock = {"now": datetime(2026, 3, 2, 10, 0, tzinfo=UTC)}

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["quiz"])
            channel = guild.channel("quiz")
            mods = fake.add_role(guild, "Mods", permissions=int(Permissions.MANAGE_MESSAGES))
            quizzers = fake.add_role(guild, "Quizzers")
            alice, bob, carol = fake.add_user("alice"), fake.add_user("bob"), fake.add_user("carol")
            fake.add_member(guild, alice, roles=[mods])
            fake.add_member(guild, bob, roles=[quizzers])  # starts rounds through the quiz role, moderates nothing
            fake.add_member(guild, carol)
            configure(settings.state_path, guild.id, quiz_role_id=quizzers.id)
            async with running(fake, make_bot(settings, real_embedder, now=lambda: clock["now"], round_tick=0.02)) as bot:
                await fake.wait_for_command_sync()
                nothing = await _stop_command(fake, carol, channel)
                assert nothing.data["flags"] == 64 and "No quiz round is running in this channel" in nothing.content

                started = await fake.wait_for_response(
                    await fake.send_slash_command("quiz", {"round": 3}, user=bob, channel=channel))
                assert started.ok and "/quiz-stop" in started.content
                first = await _question(fake, channel, 0)
                quiz_round = await _open(fake, bot, 0)
                stop_id = render_study.round_stop_id(quiz_round.round_id)
                assert stop_id in button_ids(first.message)
                right = quiz_round.question.correct
                clock["now"] = quiz_round.opened_at + timedelta(seconds=2)
                assert (await _answer(fake, first, alice, right)).content.startswith("✅ Right! +10")
                # a second later on the bot's clock: a click counts from when it was made (its real lag
                # subtracted), and the board breaks a tie by who answered first
                clock["now"] += timedelta(seconds=1)
                assert (await _answer(fake, first, carol, (right + 1) % 4)).content.startswith("❌")

                # carol neither started it nor moderates: the button and the command say who may
                by_button = await fake.wait_for_response(await fake.click_button(first, stop_id, user=carol))
                for refused in (by_button, await _stop_command(fake, carol, channel)):
                    assert refused.data["flags"] == 64
                    assert f"<@{bob.id}>" in refused.content and "Manage Messages" in refused.content
                assert bot.state.study.running_rounds()[0].stopped_by is None

                clock["now"] = quiz_round.opened_at + timedelta(seconds=31)  # question 1 closes as usual
                second = await _question(fake, channel, 1)
                quiz_round = await _open(fake, bot, 1)
                clock["now"] = quiz_round.opened_at + timedelta(seconds=1)
                assert (await _answer(fake, second, carol, quiz_round.question.correct)).content.startswith("✅")

                # bob started it: he may stop it, long before question 2's time is up
                stopped = await _stop_command(fake, bob, channel)
                assert stopped.data["flags"] == 64 and "Round stopped" in stopped.content
                summary = await _summary(fake, channel)
                assert summary.embeds[0]["title"] == "Round stopped"
                lines = summary.embeds[0]["description"].splitlines()
                assert lines[0].startswith(f"Stopped by <@{bob.id}> after question 2 of 3.")
                scores = [f"<@{alice.id}> — **10** points, tied (1 of 1 answer right)",
                          f"<@{carol.id}> — **10** points, tied (1 of 2 answers right)"]
                assert lines[-2:] == [f"1. {scores[0]}", f"1. {scores[1]}"]
                closed = fake.messages[second.id]  # the open question shows its answer, without buttons
                assert closed["embeds"][0]["title"] == "Question 2/3 · round stopped" and not closed.get("components")
                assert quiz_round.question.answer in closed["embeds"][0]["description"]
                assert f"<@{carol.id}> +10" in closed["embeds"][0]["description"]
                await fake.wait_for(lambda: not bot.state.study.running_rounds(), timeout=30, what="the round ended")
                assert bot.state.study.round(quiz_round.round_id).status == "stopped"
                assert not _asked(fake, channel, "Question 3/")

                # the answers count on the board as a finished round's would
                board = await fake.wait_for_response(await fake.send_slash_command("leaderboard", {}, user=carol))
                assert board.embeds[0]["description"].splitlines() == [f"🥇 {scores[0]}", f"🥇 {scores[1]}"]
                again = await _stop_command(fake, bob, channel)
                assert "No quiz round is running" in again.content

                # the channel is free again; a moderator stops someone else's round with its button,
                # which asks first: a round ends for everyone, and one wrong thumb should not do it
                command = await fake.send_slash_command("quiz", {"round": 2}, user=bob, channel=channel)
                assert (await fake.wait_for_response(command)).ok
                first = await _question(fake, channel, 0, after=command)
                quiz_round = await _open(fake, bot, 0)
                stop_id = render_study.round_stop_id(quiz_round.round_id)
                asked = await fake.wait_for_response(await fake.click_button(first, stop_id, user=alice))
                assert asked.data["flags"] == 64 and "for everyone?" in asked.content
                kept = await fake.wait_for_response(await fake.click_button(
                    asked, render_study.round_stop_confirm_id(quiz_round.round_id, render_study.STOP_NO), user=alice))
                # the confirmation itself is replaced (an update, not a new message), its buttons gone
                assert kept.ok and kept.type == CallbackType.UPDATE_MESSAGE and kept.data["components"] == []
                assert "Nothing was stopped" in kept.content
                assert bot.state.study.running_rounds()[0].stopped_by is None
                asked = await fake.wait_for_response(await fake.click_button(first, stop_id, user=alice))
                by_mod = await fake.wait_for_response(await fake.click_button(
                    asked, render_study.round_stop_confirm_id(quiz_round.round_id, render_study.STOP_YES), user=alice))
                assert by_mod.ok and by_mod.type == CallbackType.UPDATE_MESSAGE and by_mod.data["components"] == []
                assert "Round stopped" in by_mod.content
                summary = await _summary(fake, channel, after=command)
                assert summary.embeds[0]["description"].splitlines() == [
                    f"Stopped by <@{alice.id}> after question 1 of 2. The answers given still count.", "",
                    "Nobody answered."]

                # Every view sent (round questions, the stop's and /forget-me's confirmations) is made of
                # the persistent buttons, so discord.py keeps nothing per message: QA67 found one kept for
                # every round question, for the life of the process.
                assert (await fake.wait_for_response(await fake.send_slash_command("forget-me", {}, user=carol))).ok
                views = bot._connection._view_store
                assert not views._views and not views._synced_message_views

            assert not fake.errors
            assert_no_pings(fake)

    run(scenario, timeout=180)


def test_a_stop_the_driver_has_not_acted_on_is_finished_after_a_restart(
        real_index_path, real_embedder, tmp_path) -> None:
    """The stop is in the database before anything else happens: an answer after it does not
    count, and a restart before the round was closed closes it and posts the summary."""
    settings = make_settings(real_index_path, tmp_path / "state.db")
    clock = {"now": datetime(2026, 3, 2, 10, 0, tzinfo=UTC)}

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["quiz"])
            channel = guild.channel("quiz")
            mods = fake.add_role(guild, "Mods", permissions=int(Permissions.MANAGE_MESSAGES))
            alice, bob, carol = fake.add_user("alice"), fake.add_user("bob"), fake.add_user("carol")
            fake.add_member(guild, alice, roles=[mods])
            fake.add_member(guild, bob)
            fake.add_member(guild, carol)
            async with running(fake, make_bot(settings, real_embedder, now=lambda: clock["now"], round_tick=0.02)) as bot:
                bot.get_cog("Rounds").poll_ticks = 10**9  # the process goes down before its driver reads the row
                await fake.wait_for_command_sync()
                await fake.wait_for_response(
                    await fake.send_slash_command("quiz", {"round": 2}, user=alice, channel=channel))
                first = await _question(fake, channel, 0)
                quiz_round = await _open(fake, bot, 0)
                clock["now"] = quiz_round.opened_at + timedelta(seconds=1)
                assert (await _answer(fake, first, bob, quiz_round.question.correct)).content.startswith("✅")
                # recorded, and the process goes down before its driver acts on it (nothing wakes it here)
                assert bot.state.study.stop_round(quiz_round.round_id, alice.id)
                late = await _answer(fake, first, carol, quiz_round.question.correct)
                assert late.data["flags"] == 64 and "the round was stopped" in late.content
                refused = await _stop_command(fake, alice, channel)
                assert "already stopped" in refused.content

            async with running(fake, make_bot(settings, real_embedder, now=lambda: clock["now"], round_tick=0.02)) as bot:
                summary = await _summary(fake, channel)
                assert summary.embeds[0]["description"].splitlines() == [
                    f"Stopped by <@{alice.id}> after question 1 of 2. The answers given still count.", "",
                    f"1. <@{bob.id}> — **10** points (1 of 1 answer right)"]
                closed = fake.messages[first.id]
                assert closed["embeds"][0]["title"] == "Question 1/2 · round stopped" and not closed.get("components")
                await fake.wait_for(lambda: not bot.state.study.running_rounds(), timeout=30, what="the round ended")
                assert not _asked(fake, channel, "Question 2/")

            assert not fake.errors
            assert_no_pings(fake)

    run(scenario, timeout=180)


def test_who_may_stop_any_round_may_start_one_and_a_one_question_round_says_so(
        real_index_path, real_embedder, tmp_path) -> None:
    """Manage Server moderates rounds both ways (QA6 L6); "1 question, 60 s each" reads wrong; a
    channel where the bot may not embed gets a refusal, not a round nobody sees."""
    settings = make_settings(real_index_path, tmp_path / "state.db")
    clock = {"now": datetime(2026, 3, 2, 10, 0, tzinfo=UTC)}

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["quiz", "plain"])
            channel, plain = guild.channel("quiz"), guild.channel("plain")
            fake.set_permissions(plain, fake.bot_role(guild), deny=Permissions.EMBED_LINKS)
            admins = fake.add_role(guild, "Admins", permissions=int(Permissions.MANAGE_GUILD))
            dana, erin = fake.add_user("dana"), fake.add_user("erin")
            fake.add_member(guild, dana, roles=[admins])  # Manage Server, not Manage Messages
            fake.add_member(guild, erin)
            async with running(fake, make_bot(settings, real_embedder, now=lambda: clock["now"], round_tick=0.02)) as bot:
                await fake.wait_for_command_sync()
                refused = await fake.wait_for_response(
                    await fake.send_slash_command("quiz", {"round": 1}, user=erin, channel=channel))
                assert refused.data["flags"] == 64
                assert "Manage Messages" in refused.content and "Manage Server" in refused.content

                no_embeds = await fake.wait_for_response(
                    await fake.send_slash_command("quiz", {"round": 1}, user=dana, channel=plain))
                assert no_embeds.data["flags"] == 64 and "Embed Links" in no_embeds.content
                assert not bot.state.study.running_rounds()

                started = await fake.wait_for_response(
                    await fake.send_slash_command("quiz", {"round": 1, "seconds": 60}, user=dana, channel=channel))
                assert started.ok and not started.data.get("flags")
                assert "1 question, open for 60 s" in started.content and "each" not in started.content
                await _question(fake, channel, 0)
                await _open(fake, bot, 0)
                stopped = await _stop_command(fake, dana, channel)
                assert "Round stopped" in stopped.content
                await _summary(fake, channel)

            assert not fake.errors
            assert_no_pings(fake)

    run(scenario, timeout=180)


def test_a_round_runs_in_a_forum_post_of_a_staff_only_forum(real_index_path, real_embedder, tmp_path) -> None:
    # A forum whose posts only staff create denies Send Messages ("Create Posts" there) and keeps Send
    # Messages in Threads, which is what posting in a post takes; the round was refused for the first.
    from tests.fake_discord import ChannelType

    settings = make_settings(real_index_path, tmp_path / "state.db")

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["general"])
            mods = fake.add_role(guild, "Mods", permissions=int(Permissions.MANAGE_MESSAGES))
            alice = fake.add_user("alice")
            fake.add_member(guild, alice, roles=[mods])
            async with running(fake, make_bot(settings, real_embedder, round_tick=0.02)) as bot:
                await fake.wait_for_command_sync()
                forum = fake.add_channel(guild, "lectures", type=ChannelType.GUILD_FORUM)
                fake.set_permissions(forum, guild.default_role, deny=Permissions.SEND_MESSAGES)
                me = bot.get_guild(guild.id).me
                await fake.wait_for(lambda: (f := bot.get_channel(forum.id)) is not None
                                    and not f.permissions_for(me).send_messages, what="CHANNEL_UPDATE")
                post, _ = await fake.create_forum_post(forum, "Week 3", "Questions about week 3 here.", author=alice)
                started = await fake.wait_for_response(
                    await fake.send_slash_command("quiz", {"round": 1, "seconds": 10}, user=alice, channel=post))
                assert started.ok and "1 question" in started.content, started.content
                await _question(fake, post, 0)

    run(scenario, timeout=120)


# -- a state database that fails for a while --------------------------------------------------------

ROUNDS_LOG = "bot.discord_bot.cogs.rounds"


def _round_logs(caplog, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == ROUNDS_LOG and r.levelno == level]


def test_a_stop_made_in_another_process_ends_the_round_before_the_questions_time_is_up(
        real_index_path, real_embedder, tmp_path) -> None:
    """Two processes that disagree about who owns a server: the stop is recorded by the one that
    does not drive the round, and nothing wakes the driver. It found the stop only at the
    question's deadline (up to 300 s later); it reads the row while it waits."""
    settings = make_settings(real_index_path, tmp_path / "state.db")
    clock = {"now": datetime(2026, 3, 2, 10, 0, tzinfo=UTC)}

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["quiz"])
            channel = guild.channel("quiz")
            mods = fake.add_role(guild, "Mods", permissions=int(Permissions.MANAGE_MESSAGES))
            alice = fake.add_user("alice")
            fake.add_member(guild, alice, roles=[mods])
            async with running(fake, make_bot(settings, real_embedder, now=lambda: clock["now"], round_tick=0.02)) as bot:
                await fake.wait_for_command_sync()
                await fake.wait_for_response(
                    await fake.send_slash_command("quiz", {"round": 2, "seconds": 60}, user=alice, channel=channel))
                first = await _question(fake, channel, 0)
                quiz_round = await _open(fake, bot, 0)
                clock["now"] = quiz_round.opened_at + timedelta(seconds=1)  # and there it stays
                other_process = StateStore(settings.state_path)
                try:
                    assert other_process.study.stop_round(quiz_round.round_id, alice.id)
                finally:
                    other_process.close()
                summary = await _summary(fake, channel)
                assert summary.embeds[0]["title"] == "Round stopped"
                assert fake.messages[first.id]["embeds"][0]["title"] == "Question 1/2 · round stopped"
                assert not _asked(fake, channel, "Question 2/")
            assert not fake.errors

    run(scenario, timeout=180)


class _FailingState:
    """Makes some of the bot's state calls fail as a database that is down does."""

    def __init__(self, monkeypatch, study, **errors: Exception) -> None:
        self.down: set[str] = set()
        self.calls = {name: 0 for name in errors}
        for name, error in errors.items():
            monkeypatch.setattr(study, name, self._failing(name, getattr(study, name), error))

    def _failing(self, name, call, error):
        def failing(*args):
            if name in self.down:
                self.calls[name] += 1
                raise error
            return call(*args)
        return failing


def test_a_round_waits_out_a_state_database_outage_and_lets_go_of_one_that_lasts(
        real_index_path, real_embedder, tmp_path, monkeypatch, caplog) -> None:
    """A state error (a PostgreSQL restart, a pool timeout) ended the round as cancelled, its
    question never closed. It is now waited out, logged once, and the round goes on, asking no
    question twice; a database down for longer than the cog's give_up_after is let go of, the round left
    running for /quiz-stop to finish."""
    import psycopg
    from psycopg_pool import PoolTimeout

    settings = make_settings(real_index_path, tmp_path / "state.db")
    clock = {"now": datetime(2026, 3, 2, 10, 0, tzinfo=UTC)}
    caplog.set_level(logging.WARNING, logger=ROUNDS_LOG)

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["quiz"])
            channel = guild.channel("quiz")
            mods = fake.add_role(guild, "Mods", permissions=int(Permissions.MANAGE_MESSAGES))
            alice, bob = fake.add_user("alice"), fake.add_user("bob")
            fake.add_member(guild, alice, roles=[mods])
            fake.add_member(guild, bob)
            async with running(fake, make_bot(settings, real_embedder, now=lambda: clock["now"], round_tick=0.02)) as bot:
                study = bot.state.study
                outage = _FailingState(monkeypatch, study,
                                 round=psycopg.OperationalError("server closed the connection unexpectedly"),
                                 open_question=PoolTimeout("couldn't get a connection after 15.00 sec"))
                await fake.wait_for_command_sync()
                await fake.wait_for_response(
                    await fake.send_slash_command("quiz", {"round": 2, "seconds": 30}, user=alice, channel=channel))
                first = await _question(fake, channel, 0)
                quiz_round = await _open(fake, bot, 0)
                clock["now"] = quiz_round.opened_at + timedelta(seconds=1)
                assert (await _answer(fake, first, bob, quiz_round.question.correct)).content.startswith("✅")

                # down as the question's time is up (and while the next is posted): the round waits
                outage.down |= {"round", "open_question"}
                clock["now"] = quiz_round.opened_at + timedelta(seconds=31)
                await fake.wait_for(lambda: outage.calls["round"] >= 5, timeout=30, what="the driver trying again")
                assert fake.messages[first.id].get("components")  # not closed yet, and not cancelled
                assert [r.status for r in study.running_rounds()] == ["running"]
                outage.down.discard("round")
                second = await _question(fake, channel, 1)
                await fake.wait_for(lambda: outage.calls["open_question"] >= 3, timeout=30, what="a retried write")
                assert "+10" in fake.messages[first.id]["embeds"][0]["description"]  # closed with bob's answer
                outage.down.clear()
                quiz_round = await _open(fake, bot, 1)
                assert quiz_round.message_id == second.id  # recorded as posted, not asked again
                clock["now"] = quiz_round.opened_at + timedelta(seconds=31)
                summary = await _summary(fake, channel)
                assert summary.embeds[0]["title"] == "Round over" and f"<@{bob.id}>" in summary.embeds[0]["description"]
                assert sum(_title(m).startswith("Question 2/") for m in fake.messages_in(channel)) == 1
                # once per outage (the round reads, then the retried write), not a line per try
                warned = _round_logs(caplog, logging.WARNING)
                assert len(warned) == 2 and all("state database failed" in line for line in warned)
                assert not _round_logs(caplog, logging.ERROR)

                # down for good: let go of after give_up_after, the round left running
                cog = bot.get_cog("Rounds")
                cog.give_up_after = 0.3
                await fake.wait_for_response(
                    await fake.send_slash_command("quiz", {"round": 1, "seconds": 30}, user=alice, channel=channel))
                lone = await _question(fake, channel, 0, after=summary.at)
                quiz_round = await _open(fake, bot, 0)
                outage.down.add("round")
                clock["now"] = quiz_round.opened_at + timedelta(seconds=31)
                await fake.wait_for(lambda: not cog._drivers, timeout=30, what="the driver letting go")
                assert [line for line in _round_logs(caplog, logging.ERROR) if "stopped driving" in line]
                assert [r.round_id for r in study.running_rounds()] == [quiz_round.round_id]
                busy = await fake.wait_for_response(
                    await fake.send_slash_command("quiz", {"round": 1}, user=alice, channel=channel))
                assert "already running" in busy.content and "/quiz-stop" in busy.content

                # back: /quiz-stop finishes it
                outage.down.clear()
                stopped = await _stop_command(fake, alice, channel)
                assert "Round stopped" in stopped.content
                ended = await _summary(fake, channel, after=lone.at)
                assert ended.embeds[0]["title"] == "Round stopped"
                assert not fake.messages[lone.id].get("components")
                await fake.wait_for(lambda: not study.running_rounds(), timeout=30, what="the round ended")
            assert not fake.errors

    run(scenario, timeout=180)


def _title(message) -> str:
    return (message.get("embeds") or [{}])[0].get("title", "")


def test_a_round_goes_on_when_postgresql_restarts_mid_question(real_index_path, real_embedder, tmp_path,
                                                               caplog) -> None:
    """QA54 B3: the database restarts while a question is open; the driver's next read draws a
    dead pooled connection (AdminShutdown). The round went "cancelled", the question never closed
    and no summary came; it now closes the question, asks the next and ends with its summary."""
    from bot.benchmark.postgres import PostgresServer

    server = PostgresServer().start()  # its own: restarted here
    settings = make_settings(real_index_path, tmp_path / "state.db",
                             database_url=server.create_database("rounds"), hash_key="k" * 64)
    clock = {"now": datetime(2026, 3, 2, 10, 0, tzinfo=UTC)}
    caplog.set_level(logging.WARNING, logger=ROUNDS_LOG)

    def restart_postgresql() -> None:
        subprocess.run([*server.as_user, str(server.bin / "pg_ctl"), "-D", str(server.data), "-l",
                        str(server.root / "log"), "-m", "fast", "-w", "restart"],
                       check=True, capture_output=True, timeout=120)

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["quiz"])
            channel = guild.channel("quiz")
            mods = fake.add_role(guild, "Mods", permissions=int(Permissions.MANAGE_MESSAGES))
            alice, bob = fake.add_user("alice"), fake.add_user("bob")
            fake.add_member(guild, alice, roles=[mods])
            fake.add_member(guild, bob)
            async with running(fake, make_bot(settings, real_embedder, now=lambda: clock["now"], round_tick=0.02)) as bot:
                await fake.wait_for_command_sync()
                await fake.wait_for_response(
                    await fake.send_slash_command("quiz", {"round": 2, "seconds": 10}, user=alice, channel=channel))
                first = await _question(fake, channel, 0)
                quiz_round = await _open(fake, bot, 0)
                clock["now"] = quiz_round.opened_at + timedelta(seconds=1)
                assert (await _answer(fake, first, bob, quiz_round.question.correct)).content.startswith("✅")

                await asyncio.to_thread(restart_postgresql)
                clock["now"] = quiz_round.opened_at + timedelta(seconds=11)  # time's up
                await _question(fake, channel, 1)
                assert "time's up" in fake.messages[first.id]["embeds"][0]["title"]
                quiz_round = await _open(fake, bot, 1)
                clock["now"] = quiz_round.opened_at + timedelta(seconds=11)
                summary = await _summary(fake, channel)
                assert summary.embeds[0]["title"] == "Round over" and f"<@{bob.id}>" in summary.embeds[0]["description"]
                assert len(_round_logs(caplog, logging.WARNING)) <= 1  # the outage once, if it was met at all
                assert not _round_logs(caplog, logging.ERROR)
            assert not fake.errors

    try:
        run(scenario, timeout=180)
    finally:
        server.stop()


def test_a_click_on_a_question_posted_but_not_yet_recorded_open_counts(tmp_path) -> None:
    # the driver posts a question and then records it open: a click in between was told it was closed
    from types import SimpleNamespace

    from bot.discord_bot.cogs.rounds import Rounds
    from bot.state import StateStore
    from bot.state.study import RoundQuestion

    now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    store = StateStore(tmp_path / "state.db")
    try:
        question = RoundQuestion("term", "LoRA", ("LoRA", "QLoRA", "DoRA", "Adapter"))
        quiz_round = store.study.start_round(1, 2, 3, [question], 30, now)
        cog = Rounds(SimpleNamespace(state=store, now=lambda: now))
        right = cog._answer(4, quiz_round.round_id, 0, quiz_round.question.correct)
        assert right.startswith("✅ Right!"), right
        assert cog._answer(5, quiz_round.round_id, 1, 0) == "That question is closed."  # not posted yet
    finally:
        store.close()


def test_a_click_made_in_time_counts_from_when_it_was_made_not_when_it_was_handled(tmp_path) -> None:
    """QA67: on a busy server a click waited for the state worker and was told the question had
    closed, or scored as if slower. It counts from the interaction's time (Discord's clock), at
    most CLICK_WAIT_MAX back, and never before the question opened."""
    from types import SimpleNamespace

    import discord

    from bot.discord_bot.cogs.rounds import CLICK_WAIT_MAX, Rounds
    from bot.state import StateStore
    from bot.state.study import RoundQuestion

    opened = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    clock = {"now": opened}
    store = StateStore(tmp_path / "state.db")
    try:
        question = RoundQuestion("term", "LoRA", ("LoRA", "QLoRA", "DoRA", "Adapter"))
        quiz_round = store.study.start_round(1, 2, 3, [question], 10, opened)
        store.study.open_question(quiz_round.round_id, 0, 99, opened)
        cog = Rounds(SimpleNamespace(state=store, now=lambda: clock["now"]))
        right = quiz_round.question.correct

        def clicked(seconds_ago: float):
            return discord.utils.utcnow() - timedelta(seconds=seconds_ago)

        clock["now"] = opened + timedelta(seconds=10.5)  # handled after the deadline …
        made_in_time = cog._answer(4, quiz_round.round_id, 0, right, clicked(1.0))  # … clicked at 9.5 s
        assert made_in_time.startswith("✅ Right!") and "(9.5 s)" in made_in_time, made_in_time
        assert cog._answer(5, quiz_round.round_id, 0, right, clicked(0.2)) == "That question is closed."
        # a click that waited longer than Discord waits for an answer counts from CLICK_WAIT_MAX back only
        assert cog._answer(6, quiz_round.round_id, 0, right, clicked(CLICK_WAIT_MAX + 30)).startswith("✅")
        clock["now"] = opened + timedelta(seconds=2)
        early = cog._answer(7, quiz_round.round_id, 0, right, clicked(CLICK_WAIT_MAX))  # "before" it opened
        assert "(0.0 s)" in early, early
        ahead = cog._answer(8, quiz_round.round_id, 0, right, clicked(-5.0))  # a Discord clock ahead of ours
        assert "(2.0 s)" in ahead, ahead
    finally:
        store.close()


def test_a_bot_on_sqlite_never_imports_the_postgresql_driver():
    # Every start paid ~0.1 s for it when the quiz cog imported it to name its transient error.
    code = ("import importlib, sys\n"
            "from bot.discord_bot.bot import EXTENSIONS\n"
            "for name in EXTENSIONS: importlib.import_module('bot.discord_bot.cogs.' + name)\n"
            "print(sorted(m for m in sys.modules if m.startswith('psycopg')))\n")
    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.strip() == "[]"


@pytest.mark.parametrize("trouble", ["503", "connection reset"])
def test_one_discord_hiccup_pauses_a_round_and_it_goes_on(real_index_path, real_embedder, tmp_path, trouble) -> None:
    """QA70: one 503 (which discord.py does not retry) or a dropped connection while the next question
    was posted cancelled the round for good, silently (question 1 closed, then nothing). A round waits
    Discord's trouble out as it waits out its database's."""
    settings = make_settings(real_index_path, tmp_path / "state.db")
    clock = {"now": datetime(2026, 3, 2, 10, 0, tzinfo=UTC)}

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["quiz"])
            channel = guild.channel("quiz")
            async with running(fake, make_bot(settings, real_embedder, now=lambda: clock["now"],
                                              round_tick=0.02)) as bot:
                first = await _three_questions_started(fake, bot, channel)
                path = rf"/channels/{channel.id}/messages"
                if trouble == "503":
                    fake.fail_next("POST", path, 503)
                else:
                    fake.drop_next("POST", path)
                clock["now"] = first.opened_at + timedelta(seconds=31)  # time's up: question 2 is asked
                second = await _open(fake, bot, 1)
                assert second.status == "running" and _asked(fake, channel, "Question 2/")
                assert [r.status for r in fake.requests if r.method == "POST" and r.path == path].count(200) >= 2

    run(scenario, timeout=120)


def test_a_round_asks_about_an_entry_renamed_since_it_started_under_its_new_name(
        real_index_path, real_embedder, tmp_path) -> None:
    """QA71: the keepers renamed an entry a running round asks about, keeping the old name as an alias
    ("Low-Rank Adaptation" is LoRA's), and rebuilt: the round skipped that question without a word.
    A question two of whose options became one entry is still skipped."""
    state_path = tmp_path / "state.db"
    settings = make_settings(real_index_path, state_path)
    clock = {"now": datetime(2026, 3, 2, 10, 0, tzinfo=UTC)}

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["quiz"])
            channel = guild.channel("quiz")
            store = StateStore(state_path)  # started under the names of its day
            store.study.start_round(guild.id, channel.id, fake.owner.id, [
                RoundQuestion("term", "Low-Rank Adaptation", ("Adam", "Low-Rank Adaptation", "Logits", "AdamW")),
                RoundQuestion("term", "Adam", ("Adam", "LoRA", "Low-Rank Adaptation", "AdamW")),
            ], 30, clock["now"])
            store.close()
            async with running(fake, make_bot(settings, real_embedder, now=lambda: clock["now"],
                                              round_tick=0.02)) as bot:
                posted = await _question(fake, channel, 0)
                labels = [c["label"] for row in posted.message["components"] for c in row["components"]]
                assert "LoRA" in labels and "Low-Rank Adaptation" not in labels, labels
                first = await _open(fake, bot, 0)
                clock["now"] = first.opened_at + timedelta(seconds=31)
                summary = await _summary(fake, channel)
                assert summary.embeds[0]["title"] == "Round over"
                assert not _asked(fake, channel, "Question 2/")  # its options were two names of one entry
                closed = next(m["embeds"][0] for m in fake.messages_in(channel)
                              if m.get("embeds") and m["embeds"][0].get("title", "").startswith("Question 1/2 ·"))
                assert "time's up" in closed["title"] and "The answer: **LoRA**" in closed["description"], closed

    run(scenario, timeout=120)


def test_a_round_whose_channel_the_bot_may_no_longer_post_in_ends_and_its_starter_is_told(
        real_index_path, real_embedder, tmp_path) -> None:
    """QA70: a moderator took Send Messages from the bot mid-round; the round was cancelled without a
    word to anyone (the channel it would say so in is the one it cannot post in)."""
    settings = make_settings(real_index_path, tmp_path / "state.db")
    clock = {"now": datetime(2026, 3, 2, 10, 0, tzinfo=UTC)}

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study *Group*", channels=["quiz"])
            channel = guild.channel("quiz")
            async with running(fake, make_bot(settings, real_embedder, now=lambda: clock["now"],
                                              round_tick=0.02)) as bot:
                first = await _three_questions_started(fake, bot, channel)
                fake.set_permissions(channel, fake.bot_role(guild), deny=Permissions.SEND_MESSAGES)
                clock["now"] = first.opened_at + timedelta(seconds=31)  # time's up: question 2 is refused
                dms = fake.dm_channel(fake.owner)
                told = await fake.wait_for_channel_message(dms, timeout=30)
                assert f"<#{channel.id}>" in told.content and "Study \\*Group\\*" in told.content, told.content
                assert "ended early" in told.content and "Send Messages" in told.content, told.content
                assert bot.state.study.running_rounds() == []
                assert not _asked(fake, channel, "Question 2/")

    run(scenario, timeout=120)


def test_a_round_left_by_a_kick_while_the_bot_was_down_is_over_after_a_reinvite(
        real_index_path, real_embedder, tmp_path) -> None:
    """QA70: at start the round's server was not the bot's, so nothing drove the round, and after a
    re-invite `/quiz round` there said one was already running."""
    from .fault_helpers import guild_back

    settings = make_settings(real_index_path, tmp_path / "state.db")
    clock = {"now": datetime(2026, 3, 2, 10, 0, tzinfo=UTC)}

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["quiz"])
            channel = guild.channel("quiz")
            async with running(fake, make_bot(settings, real_embedder, now=lambda: clock["now"],
                                              round_tick=0.02)) as bot:
                first = await _three_questions_started(fake, bot, channel)
            del fake.guilds[guild.id]  # kicked while the bot was down: READY does not name the server
            async with running(fake, make_bot(settings, real_embedder, now=lambda: clock["now"],
                                              round_tick=0.02)) as bot:
                # its driver found the server not the bot's, and let it be
                await fake.wait_for(lambda: first.round_id not in bot.get_cog("Rounds")._drivers,
                                    what="the round's driver done")
                clock["now"] += timedelta(days=20)
                fake.guilds[guild.id] = guild  # re-invited
                guild_back(fake, guild)
                await fake.wait_for(lambda: bot.state.study.round(first.round_id).status == "cancelled",
                                    what="the old round over")
                again = await fake.wait_for_response(await fake.send_slash_command(
                    "quiz", {"round": 3, "seconds": 30}, user=fake.owner, channel=channel))
                assert again.ok and "already running" not in (again.content or ""), again.content

    run(scenario, timeout=120)


def test_a_round_started_as_the_bot_closes_is_left_running_for_the_next_start(
        real_index_path, real_embedder, tmp_path) -> None:
    """CI (session 55): a /quiz whose reply landed as the bot closed began its driver after the cog
    was unloaded; it posted through the closed session and died on the closed database."""
    settings = make_settings(real_index_path, tmp_path / "state.db")
    clock = {"now": datetime(2026, 3, 2, 10, 0, tzinfo=UTC)}

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["quiz"])
            channel = guild.channel("quiz")
            async with running(fake, make_bot(settings, real_embedder, now=lambda: clock["now"],
                                              round_tick=0.02)) as bot:
                first = await _three_questions_started(fake, bot, channel)
                rounds = bot.get_cog("Rounds")
            rounds._drive_later(first.round_id)  # what the /quiz handler does once its reply is sent
            assert not rounds._drivers
            with contextlib.closing(StateStore(settings.state_path)) as state:
                assert state.study.round(first.round_id).status == "running"
            async with running(fake, make_bot(settings, real_embedder, now=lambda: clock["now"],
                                              round_tick=0.02)) as bot:
                clock["now"] += timedelta(seconds=31)
                await _open(fake, bot, 1)  # the next start drives it on

    run(scenario, timeout=120)


def test_a_question_posted_but_not_recorded_before_a_stop_is_not_posted_again(
        real_index_path, real_embedder, tmp_path) -> None:
    """QA75: stopped between posting a question and recording it open (killed, or its database gone
    at the shutdown), the bot posted it again at its next start: two copies, the first one's buttons
    live for ever."""
    settings = make_settings(real_index_path, tmp_path / "state.db")
    clock = {"now": datetime(2026, 3, 2, 10, 0, tzinfo=UTC)}

    def copies(fake, channel, round_id: int) -> list[dict]:
        first_option = render_study.round_custom_id(round_id, 0, 0)
        return [m for m in fake.messages_in(channel) if first_option in button_ids(m)]

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["quiz"])
            channel = guild.channel("quiz")
            async with running(fake, make_bot(settings, real_embedder, now=lambda: clock["now"],
                                              round_tick=0.02)) as bot:
                first = await _three_questions_started(fake, bot, channel)
            with contextlib.closing(StateStore(settings.state_path)) as state, state.db.transaction() as tx:
                # what the stop left: the question posted, its recording never made
                tx.execute("UPDATE quiz_rounds SET message_id = NULL, opened_at = NULL WHERE round_id = ?",
                           [first.round_id])
            async with running(fake, make_bot(settings, real_embedder, now=lambda: clock["now"],
                                              round_tick=0.02)) as bot:
                again = await _open(fake, bot, 0)
                assert again.message_id == first.message_id
                assert len(copies(fake, channel, first.round_id)) == 1
                clock["now"] += timedelta(seconds=31)
                await _open(fake, bot, 1)  # the round goes on from it: closed, the next question asked
                closed = fake.messages[first.message_id]
                assert closed["embeds"][0]["title"].startswith("Question 1/3") and not closed.get("components")
                assert len(copies(fake, channel, first.round_id)) == 0  # (its buttons gone with the close)

    run(scenario, timeout=120)
