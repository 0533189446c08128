"""The term of the day through the real Daily cog and the fake Discord when a server moves its
time zone west: the new zone's day that bears the date of the old zone's last post still gets
its own post (it used to be skipped), and /today agrees with what was posted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.fake_discord import FakeDiscord

from .helpers import assert_no_pings, configure, make_bot, make_settings, run, running


def test_a_server_that_moves_west_gets_one_post_every_local_day(real_index_path, real_embedder, tmp_path) -> None:
    state_path = tmp_path / "state.db"
    settings = make_settings(real_index_path, state_path)
    clock = {"now": datetime(2026, 6, 1, 23, 0, tzinfo=UTC)}  # 08:00 on 2 June in Tokyo: not yet due

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["general", "daily"])
            channel = guild.channel("daily")
            configure(state_path, guild.id, daily_channel_id=channel.id, daily_time="09:00",
                      timezone="Asia/Tokyo", daily_enabled=True)
            async with running(fake, make_bot(settings, real_embedder, now=lambda: clock["now"],
                                              daily_interval=3600)) as bot:
                await fake.wait_for_command_sync()
                cog = bot.get_cog("Daily")
                cog.loop.cancel()  # the test runs the checks itself, on its clock
                await fake.wait_for(lambda: not cog.loop.is_running(), what="the daily loop stopped")

                async def today() -> tuple[str, str]:
                    reply = await fake.wait_for_response(await fake.send_slash_command("today", {}, guild=guild))
                    return reply.content, reply.embeds[0]["title"]

                def posts() -> list[tuple[str, str]]:
                    return [(m["content"], m["embeds"][0]["title"]) for m in fake.messages_in(channel)]

                clock["now"] += timedelta(hours=1)  # 09:00 on 2 June in Tokyo
                assert await cog.post_due() == 1
                tokyo = posts()[0]
                assert tokyo[0] == "📘 Term of the day (2026-06-02)"

                # moved to Los Angeles at 19:00 on 1 June there: that day had its post, at 17:00
                await fake.wait_for_response(await fake.send_slash_command(
                    "glossary config timezone", {"zone": "America/Los_Angeles"}, guild=guild, user=fake.owner))
                clock["now"] += timedelta(hours=2)
                assert await cog.post_due() == 0
                assert (await today())[1] == tokyo[1]

                # 09:00 on 2 June in Los Angeles: its own post, though Tokyo's post was dated the 2nd
                clock["now"] = datetime(2026, 6, 2, 16, 0, tzinfo=UTC)
                assert await cog.post_due() == 1
                assert await cog.post_due() == 0
                los_angeles = posts()[1]
                assert los_angeles[0] == "📘 Term of the day (2026-06-02)" and los_angeles[1] != tokyo[1]
                assert await today() == los_angeles

                clock["now"] += timedelta(days=1)  # and every day after, once
                assert await cog.post_due() == 1
                assert await cog.post_due() == 0
                assert [content for content, _ in posts()] == [
                    "📘 Term of the day (2026-06-02)", "📘 Term of the day (2026-06-02)",
                    "📘 Term of the day (2026-06-03)"]
                assert bot.state.config(guild.id).last_error is None
                assert not fake.errors
                assert_no_pings(fake)

    run(scenario, timeout=120)
