"""Points on Discord (issue 12): private /quiz answers score once, /stats and /leaderboard
(monthly by default), the quiz of the day under the term of the day, the monthly champion
role (and a clear refusal without Manage Roles), and /forget-me deleting every row of the
caller's and nobody else's."""

from __future__ import annotations

import sqlite3

import discord
from datetime import UTC, datetime

from bot.discord_bot import render_quiz, render_study
from tests.fake_discord import FakeDiscord
from tests.fake_discord.models import DEFAULT_BOT_PERMISSIONS, Permissions

from .helpers import assert_no_pings, button_ids, make_bot, make_settings, run, running


def _quiz_options(message: dict) -> list[str]:
    return [cid for cid in button_ids(message) if cid.startswith(render_quiz.QUIZ_PREFIX)]


def test_points_stats_boards_and_the_daily_quiz(real_index_path, real_embedder, tmp_path) -> None:
    settings = make_settings(real_index_path, tmp_path / "state.db")
    clock = {"now": datetime(2026, 3, 2, 10, 0, tzinfo=UTC)}

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["study", "daily"])
            alice, bob = fake.add_user("alice"), fake.add_user("bob")
            fake.add_member(guild, alice)
            fake.add_member(guild, bob)
            async with running(fake, make_bot(settings, real_embedder, now=lambda: clock["now"],
                                              daily_interval=3600)) as bot:
                await fake.wait_for_command_sync()
                codec = bot.get_cog("Quiz").codec
                asked = await fake.wait_for_response(await fake.send_slash_command("quiz", {}, user=alice))
                question, _ = codec.parse(_quiz_options(asked.message)[0])
                got = await fake.wait_for_response(
                    await fake.click_button(asked, _quiz_options(asked.message)[question.correct], user=alice))
                assert got.embeds[0]["footer"]["text"].startswith("+5 points · streak 1 day")

                # the quiz of the day: posted under the term, answered privately, once each
                bot.state.update_config(guild.id, daily_channel_id=guild.channel("daily").id, daily_time="09:00",
                                        daily_enabled=True, daily_quiz=True)
                await bot.get_cog("Daily").post_due()
                daily = await fake.wait_for_channel_message(
                    guild.channel("daily"), predicate=lambda m: bool(_quiz_options(m.message)))
                assert daily.embeds[0]["title"].startswith("Quiz of the day")
                question, _ = codec.parse(_quiz_options(daily.message)[0])
                for user, pick in ((bob, question.correct), (alice, (question.correct + 1) % 4)):
                    got = await fake.wait_for_response(
                        await fake.click_button(daily, _quiz_options(daily.message)[pick], user=user))
                    assert got.data["flags"] == 64  # the public post stays as it was
                once_more = await fake.wait_for_response(
                    await fake.click_button(daily, _quiz_options(daily.message)[question.correct], user=bob))
                assert once_more.embeds[0]["footer"]["text"].startswith("Your first answer counts")
                # alice, wrong at first, picks the right one now: no "✅ Right" that her stats deny
                retry = await fake.wait_for_response(
                    await fake.click_button(daily, _quiz_options(daily.message)[question.correct], user=alice))
                assert retry.embeds[0]["title"].startswith("Already answered: it was"), retry.embeds[0]["title"]
                assert fake.messages[daily.id]["components"] == daily.message["components"]

                stats = await fake.wait_for_response(await fake.send_slash_command("stats", {}, user=alice))
                fields = {f["name"]: f["value"] for f in stats.embeds[0]["fields"]}
                assert fields["Points"] == "5 (5 this month)" and fields["Right answers"] == "1 of 2 (50%)"
                assert fields["Daily streak"] == "1 (best 1)" and "Review deck" in fields
                about_bob = await fake.wait_for_response(
                    await fake.send_slash_command("stats", {"user": bob}, user=alice))
                fields = {f["name"]: f["value"] for f in about_bob.embeds[0]["fields"]}
                assert fields["Points"] == "5 (5 this month)" and "Review deck" not in fields  # private

                # next month: the monthly board starts empty, the all-time board remembers
                clock["now"] = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)
                month = await fake.wait_for_response(await fake.send_slash_command("leaderboard", {}, user=bob))
                assert month.embeds[0]["title"] == "Leaderboard · April 2026"
                assert "No points yet" in month.embeds[0]["description"]
                ever = await fake.wait_for_response(
                    await fake.send_slash_command("leaderboard", {"period": "all"}, user=bob))
                assert len(ever.embeds[0]["description"].splitlines()) == 2

            assert not fake.errors
            assert_no_pings(fake)

    run(scenario, timeout=150)


def test_the_quiz_of_the_day_scores_on_its_local_day_and_the_next(real_index_path, real_embedder, tmp_path) -> None:
    # Posted at 18:00 in Los Angeles (02:00 UTC, the next UTC date) and answered the next afternoon: UTC's
    # date against the server's had closed it 22 hours after the post, east of UTC open for two days.
    settings = make_settings(real_index_path, tmp_path / "state.db")
    clock = {"now": datetime(2026, 3, 3, 2, 0, 30, tzinfo=UTC)}  # 2 March, 18:00 in Los Angeles

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["daily"])
            bob, carol = fake.add_user("bob"), fake.add_user("carol")
            fake.add_member(guild, bob)
            fake.add_member(guild, carol)
            async with running(fake, make_bot(settings, real_embedder, now=lambda: clock["now"],
                                              daily_interval=3600)) as bot:
                await fake.wait_for_command_sync()
                bot.state.update_config(guild.id, daily_channel_id=guild.channel("daily").id, daily_time="18:00",
                                        timezone="America/Los_Angeles", daily_enabled=True, daily_quiz=True)
                await bot.get_cog("Daily").post_due()
                daily = await fake.wait_for_channel_message(
                    guild.channel("daily"), predicate=lambda m: bool(_quiz_options(m.message)))
                question, _ = bot.get_cog("Quiz").codec.parse(_quiz_options(daily.message)[0])
                right = _quiz_options(daily.message)[question.correct]

                clock["now"] = datetime(2026, 3, 4, 1, 0, tzinfo=UTC)  # 3 March, 17:00 there
                got = await fake.wait_for_response(await fake.click_button(daily, right, user=bob))
                assert got.embeds[0]["footer"]["text"].startswith("+5 points"), got.embeds[0]["footer"]
                clock["now"] = datetime(2026, 3, 5, 8, 1, tzinfo=UTC)  # 5 March, 00:01 there: two days on
                late = await fake.wait_for_response(await fake.click_button(daily, right, user=carol))
                assert late.embeds[0]["footer"]["text"].startswith("An old question of the day")

    run(scenario, timeout=150)


def test_the_champion_role_goes_to_last_months_top_scorer(real_index_path, real_embedder, tmp_path) -> None:
    settings = make_settings(real_index_path, tmp_path / "state.db")
    clock = {"now": datetime(2026, 3, 31, 23, 0, tzinfo=UTC)}

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            owner = fake.owner
            weak = fake.add_guild("No roles", channels=["general"])
            strong = fake.add_guild("Study Group", channels=["general"],
                                    bot_permissions=DEFAULT_BOT_PERMISSIONS | int(Permissions.MANAGE_ROLES))
            alice, bob = fake.add_user("alice"), fake.add_user("bob")
            for guild in (weak, strong):
                fake.add_member(guild, alice)
                fake.add_member(guild, bob)
            weak_role = fake.add_role(weak, "Champion")
            champion = fake.add_role(strong, "Champion")
            above = fake.add_role(strong, "Admins", position=fake.bot_role(strong).position + 1)
            async with running(fake, make_bot(settings, real_embedder, now=lambda: clock["now"],
                                              daily_interval=3600)) as bot:
                await fake.wait_for_command_sync()
                refused = await fake.wait_for_response(await fake.send_slash_command(
                    "glossary config champion-role", {"role": weak_role}, user=owner, guild=weak))
                assert "Not changed" in refused.content and "Manage Roles" in refused.content
                too_high = await fake.wait_for_response(await fake.send_slash_command(
                    "glossary config champion-role", {"role": above}, user=owner, guild=strong))
                assert "Not changed" in too_high.content and "above" in too_high.content
                ok = await fake.wait_for_response(await fake.send_slash_command(
                    "glossary config champion-role", {"role": champion}, user=owner, guild=strong))
                assert "last month's top scorer" in ok.content
                assert bot.state.config(weak.id).champion_role_id is None

                study = bot.state.study
                study.record_answer(strong.id, alice.id, "solo:a", True, 5, clock["now"])
                study.record_answer(strong.id, bob.id, "solo:a", True, 5, clock["now"])
                study.record_answer(strong.id, bob.id, "solo:b", True, 5, clock["now"])
                cog = bot.get_cog("Scores")
                clock["now"] = datetime(2026, 4, 1, 0, 5, tzinfo=UTC)
                assert await cog.crown_champions() == 1
                assert await cog.crown_champions() == 0  # once a month
                assert [r.name for r in fake.member_roles(strong, bob)] == ["Champion"]

                study.record_answer(strong.id, alice.id, "solo:c", True, 50, clock["now"])
                clock["now"] = datetime(2026, 5, 1, 0, 5, tzinfo=UTC)
                assert await cog.crown_champions() == 1
                assert [r.name for r in fake.member_roles(strong, alice)] == ["Champion"]
                assert fake.member_roles(strong, bob) == []
                shown = await fake.wait_for_response(await fake.send_slash_command(
                    "glossary config show", {}, user=owner, guild=strong))
                assert f"champion role <@&{champion.id}>" in shown.content

            assert not fake.errors

    run(scenario, timeout=120)


def test_a_champion_role_failure_stays_shown_until_a_crowning_or_a_new_role(real_index_path, real_embedder,
                                                                             tmp_path) -> None:
    """QA53 B2: the champion role could not be given (it was deleted). `config show` says so, next to
    the champion role, until the role is set again: not only until the next term of the day, or a
    change of the daily channel, as when it shared the daily post's "Last error". A deleted
    champion or quiz role is named as gone."""
    settings = make_settings(real_index_path, tmp_path / "state.db")
    clock = {"now": datetime(2026, 3, 31, 20, 0, tzinfo=UTC)}

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            owner = fake.owner
            guild = fake.add_guild("Study Group", channels=["general", "daily"],
                                   bot_permissions=DEFAULT_BOT_PERMISSIONS | int(Permissions.MANAGE_ROLES))
            alice = fake.add_user("alice")
            fake.add_member(guild, alice)
            champion = fake.add_role(guild, "Champion")
            async with running(fake, make_bot(settings, real_embedder, now=lambda: clock["now"],
                                              daily_interval=3600)) as bot:
                await fake.wait_for_command_sync()

                async def shown() -> str:
                    return (await fake.wait_for_response(await fake.send_slash_command(
                        "glossary config show", {}, user=owner, guild=guild))).content

                await fake.wait_for_response(await fake.send_slash_command(
                    "glossary config champion-role", {"role": champion}, user=owner, guild=guild))
                bot.state.update_config(guild.id, daily_channel_id=guild.channel("daily").id, daily_time="09:00",
                                        daily_enabled=True)
                cog = bot.get_cog("Scores")
                await cog.crown_champions()  # February's, nobody's: the role was set in March
                bot.state.study.record_answer(guild.id, alice.id, "solo:a", True, 5, clock["now"])
                gone = champion.id + 999  # the moderators deleted the roles: their ids name none now
                bot.state.update_config(guild.id, champion_role_id=gone, quiz_role_id=gone + 1)

                clock["now"] = datetime(2026, 4, 1, 0, 5, tzinfo=UTC)
                assert await cog.crown_champions() == 0
                problem = "**Champion role:** ⚠️ not given for 2026-03: the role was deleted"
                text = await shown()
                assert problem in text and "Last error" not in text
                assert f"⚠️ The champion role <@&{gone}> no longer exists" in text
                assert f"⚠️ The quiz role <@&{gone + 1}> no longer exists" in text

                clock["now"] = datetime(2026, 4, 1, 9, 1, tzinfo=UTC)
                assert await bot.get_cog("Daily").post_due() == 1  # a good post leaves it
                await fake.wait_for_response(await fake.send_slash_command(
                    "glossary config daily-channel", {"channel": guild.channel("general")}, user=owner, guild=guild))
                assert problem in await shown()

                again = await fake.wait_for_response(await fake.send_slash_command(
                    "glossary config champion-role", {"role": champion}, user=owner, guild=guild))
                assert "Champion role:** ⚠️" not in again.content  # the admin's fix: it no longer applies
                text = await shown()
                assert "Champion role:** ⚠️" not in text and f"<@&{gone}>" not in text

            assert not fake.errors

    run(scenario, timeout=120)


def test_the_champion_role_goes_to_the_best_scorer_still_in_the_server(real_index_path, real_embedder,
                                                                        tmp_path) -> None:
    """QA53 B5: last month's top scorer left the server: the role goes to the best one still in it;
    when none of them is, nobody holds it and `config show` says why."""
    settings = make_settings(real_index_path, tmp_path / "state.db")
    clock = {"now": datetime(2026, 3, 31, 20, 0, tzinfo=UTC)}

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["general"],
                                   bot_permissions=DEFAULT_BOT_PERMISSIONS | int(Permissions.MANAGE_ROLES))
            bob, carol = fake.add_user("bob"), fake.add_user("carol")  # carol is not a member (she left)
            fake.add_member(guild, bob)
            champion = fake.add_role(guild, "Champion")
            async with running(fake, make_bot(settings, real_embedder, now=lambda: clock["now"],
                                              daily_interval=3600)) as bot:
                await fake.wait_for_command_sync()
                await fake.wait_for_response(await fake.send_slash_command(
                    "glossary config champion-role", {"role": champion}, user=fake.owner, guild=guild))
                cog, study = bot.get_cog("Scores"), bot.state.study
                await cog.crown_champions()  # February's, nobody's: the role was set in March
                for n in range(3):
                    study.record_answer(guild.id, carol.id, f"solo:{n}", True, 5, clock["now"])
                study.record_answer(guild.id, bob.id, "solo:a", True, 5, clock["now"])

                clock["now"] = datetime(2026, 4, 1, 0, 5, tzinfo=UTC)
                assert await cog.crown_champions() == 1
                assert [r.name for r in fake.member_roles(guild, bob)] == ["Champion"]
                assert bot.state.config(guild.id).champion_user_id == bob.id

                study.record_answer(guild.id, carol.id, "solo:april", True, 5, clock["now"])
                clock["now"] = datetime(2026, 5, 1, 0, 5, tzinfo=UTC)
                assert await cog.crown_champions() == 0
                assert fake.member_roles(guild, bob) == []  # April's champion is not him
                assert bot.state.config(guild.id).champion_user_id is None
                shown = await fake.wait_for_response(await fake.send_slash_command(
                    "glossary config show", {}, user=fake.owner, guild=guild))
                assert "**Champion role:** ⚠️ not given for 2026-04: none of that month's top" in shown.content

            assert not fake.errors

    run(scenario, timeout=120)


def test_the_board_skips_members_who_left_and_ties_share_a_rank(real_index_path, real_embedder, tmp_path) -> None:
    """QA57: scorers who left the server were listed as <@id>, which renders "@unknown-user" (the
    champion role already skipped them), and equal points read as one member beating another."""
    settings = make_settings(real_index_path, tmp_path / "state.db")
    now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["general"])
            bob, dave, erin = (fake.add_user(name) for name in ("bob", "dave", "erin"))
            for user in (bob, dave, erin):
                fake.add_member(guild, user)
            gone = [fake.add_user(f"left{i}") for i in range(12)]  # more than a board: all above bob
            async with running(fake, make_bot(settings, real_embedder, now=lambda: now)) as bot:
                await fake.wait_for_command_sync()
                study = bot.state.study
                for i, user in enumerate(gone):
                    study.record_answer(guild.id, user.id, "solo:gone", True, 50 + i, now)
                for user, points in ((bob, 10), (dave, 10), (erin, 5)):
                    study.record_answer(guild.id, user.id, "solo:here", True, points, now)
                interaction = await fake.send_slash_command("leaderboard", {}, user=bob)
                board = await fake.wait_for_response(interaction)
                embeds = board.embeds or (await fake.wait_for_followup(interaction)).payload["embeds"]
                lines = embeds[0]["description"].splitlines()
                assert [line.split(" (")[0] for line in lines] == [
                    f"🥇 <@{bob.id}> — **10** points, tied", f"🥇 <@{dave.id}> — **10** points, tied",
                    f"🥉 <@{erin.id}> — **5** points"]
            assert not fake.errors
            assert_no_pings(fake)

    run(scenario, timeout=120)


def test_switching_or_clearing_the_champion_role_takes_the_old_one_back(real_index_path, real_embedder,
                                                                      tmp_path) -> None:
    """QA55 B3: the old role stayed with last month's champion for good, a second champion beside the next."""
    settings = make_settings(real_index_path, tmp_path / "state.db")
    clock = {"now": datetime(2026, 3, 31, 20, 0, tzinfo=UTC)}

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["general"],
                                   bot_permissions=DEFAULT_BOT_PERMISSIONS | int(Permissions.MANAGE_ROLES))
            alice, bob = fake.add_user("alice"), fake.add_user("bob")
            fake.add_member(guild, alice)
            fake.add_member(guild, bob)
            old, new = fake.add_role(guild, "Champion"), fake.add_role(guild, "Quiz Champion")

            def holders(role) -> list[str]:
                return [u.username for u in (alice, bob) if role.id in {r.id for r in fake.member_roles(guild, u)}]

            async def champion_role(options: dict):
                return await fake.wait_for_response(await fake.send_slash_command(
                    "glossary config champion-role", options, user=fake.owner, guild=guild))

            async with running(fake, make_bot(settings, real_embedder, now=lambda: clock["now"],
                                              daily_interval=3600)) as bot:
                await fake.wait_for_command_sync()
                await champion_role({"role": old})
                cog, study = bot.get_cog("Scores"), bot.state.study
                await cog.crown_champions()  # February's, nobody's: the role was set in March
                study.record_answer(guild.id, alice.id, "solo:a", True, 5, clock["now"])
                clock["now"] = datetime(2026, 4, 1, 0, 5, tzinfo=UTC)
                assert await cog.crown_champions() == 1 and holders(old) == ["alice"]

                clock["now"] = datetime(2026, 4, 10, 12, 0, tzinfo=UTC)
                switched = await champion_role({"role": new})
                assert "was taken back from" in switched.content
                assert holders(old) == []
                await cog.crown_champions()  # March's champion again, with the new role
                assert holders(new) == ["alice"]

                cleared = await champion_role({})
                assert "was taken back from" in cleared.content and holders(new) == []
                assert bot.state.config(guild.id).champion_user_id is None

            assert not fake.errors

    run(scenario, timeout=120)


def test_forget_me_removes_every_row_of_the_caller_only(real_index_path, real_embedder, tmp_path) -> None:
    state_path = tmp_path / "state.db"
    settings = make_settings(real_index_path, state_path)
    clock = {"now": datetime(2026, 3, 2, 10, 0, tzinfo=UTC)}

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["study"],
                                   bot_permissions=DEFAULT_BOT_PERMISSIONS | int(Permissions.MANAGE_ROLES))
            alice, bob = fake.add_user("alice"), fake.add_user("bob")
            fake.add_member(guild, alice)
            fake.add_member(guild, bob)
            async with running(fake, make_bot(settings, real_embedder, now=lambda: clock["now"],
                                              daily_interval=3600)) as bot:
                await fake.wait_for_command_sync()
                for user in (alice, bob):  # a deck, a review, a reminder, points and a streak each
                    await fake.wait_for_response(await fake.send_slash_command("review add", {"term": "LoRA"},
                                                                               user=user))
                    await fake.wait_for_response(await fake.send_slash_command("review remind", {"setting": "on"},
                                                                               user=user))
                    card = bot.state.study.next_due(user.id, clock["now"])
                    bot.state.study.rate(card.card_id, user.id, 0, "good", clock["now"], guild.id)
                    bot.state.study.record_answer(guild.id, user.id, "solo:x", True, 5, clock["now"])
                champion = fake.add_role(guild, "Champion")
                bot.state.update_config(guild.id, champion_user_id=alice.id, champion_role_id=champion.id)
                await (await bot.get_guild(guild.id).fetch_member(alice.id)).add_roles(discord.Object(champion.id))

                asked = await fake.wait_for_response(await fake.send_slash_command("forget-me", {}, user=alice))
                assert asked.data["flags"] == 64 and "cannot be undone" in asked.content
                cancelled = await fake.wait_for_response(
                    await fake.click_button(asked, render_study.FORGET_NO, user=alice))
                assert "nothing was deleted" in cancelled.content and _rows_naming(state_path, alice.id)
                command = await fake.send_slash_command("forget-me", {}, user=alice)
                asked = await fake.wait_for_response(command)
                await fake.wait_for_response(await fake.click_button(asked, render_study.FORGET_YES, user=alice))
                await fake.wait_for(lambda: "Done" in (fake.original_response(command) or {}).get("content", ""),
                                    what="the confirmation edited")
                final = fake.original_response(command)
                assert final["content"].startswith("Done: deleted") and not final.get("components")
                assert fake.member_roles(guild, alice) == []  # the bot could not take it back later

            assert _rows_naming(state_path, alice.id) == []
            assert len(_rows_naming(state_path, bob.id)) >= 5
            assert not fake.errors

    run(scenario, timeout=120)


def _rows_naming(path, user_id: int) -> list[tuple[str, tuple]]:
    """Every row of every table with `user_id` in any column: what /forget-me must leave empty."""
    conn = sqlite3.connect(path)
    try:
        found = []
        for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
            for row in conn.execute(f"SELECT * FROM {table}"):
                if user_id in row or str(user_id) in row:
                    found.append((table, row))
        return found
    finally:
        conn.close()
