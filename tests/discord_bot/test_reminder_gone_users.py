"""A review reminder to an account that no longer exists: Discord answers 404, code 10013 (Unknown
User), today and every day after. One such answer turns that user's reminders off, as a refused DM
(403, 50007) does, with nobody left to tell; so does "Invalid Recipient(s)" (400, 50033), what opening a
DM with a deleted account answers. Discord's newer "Cannot send messages to this user" (50278) is a
refused DM like 50007. A 404 that does not say the user is gone changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.state.study import REMINDER_QUIET
from tests.fake_discord import FakeDiscord

from .helpers import make_bot, make_settings, run, running
from .test_review import reminder_loop_idle


def test_reminders_stop_for_a_deleted_account_and_go_on_after_any_other_404(real_index_path, real_embedder,
                                                                            tmp_path) -> None:
    settings = make_settings(real_index_path, tmp_path / "state.db")
    clock = {"now": datetime(2026, 3, 2, 10, 0, tzinfo=UTC)}

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["study"])
            gone, dave = fake.add_user("gone"), fake.add_user("dave")
            invalid, closed = fake.add_user("invalid"), fake.add_user("closed")
            for user in (gone, dave, invalid, closed):
                fake.add_member(guild, user)

            def tries(user) -> int:
                """Requests the bot made to reach the user: a lookup, opening a DM, posting in it."""
                return sum(1 for r in fake.requests if str(user.id) in r.path
                           or (isinstance(r.body, dict) and str(r.body.get("recipient_id")) == str(user.id))
                           or (r.method == "POST" and user.id in fake.dm_channels
                               and r.path == f"/channels/{fake.dm_channels[user.id].id}/messages"))

            async with running(fake, make_bot(settings, real_embedder, now=lambda: clock["now"],
                                              daily_interval=3600)) as bot:
                await fake.wait_for_command_sync()
                await reminder_loop_idle(fake, bot)
                cog, study = bot.get_cog("Review"), bot.state.study
                for user in (gone, dave, invalid, closed):
                    await fake.wait_for_response(await fake.send_slash_command("review add", {"term": "LoRA"},
                                                                               user=user))
                    await fake.wait_for_response(
                        await fake.send_slash_command("review remind", {"setting": "on"}, user=user))
                fake.delete_user(gone)
                # a 404 that names no user (a proxy's, a route this Discord lacks) says nothing about dave
                fake.fail_next("POST", rf"/channels/{fake.dm_channel(dave).id}/messages", 404)
                fake.fail_next("POST", rf"/channels/{fake.dm_channel(invalid).id}/messages", 400, code=50033,
                               message="Invalid Recipient(s)")
                fake.fail_next("POST", rf"/channels/{fake.dm_channel(closed).id}/messages", 403, code=50278,
                               message="Cannot send messages to this user")

                clock["now"] += REMINDER_QUIET
                assert await cog.send_reminders() == 0
                assert tries(gone) >= 1
                assert not study.reminder_enabled(gone.id) and study.reminder_enabled(dave.id)
                assert not study.take_refusal(gone.id)  # nobody to tell
                assert not study.reminder_enabled(invalid.id) and not study.take_refusal(invalid.id)
                assert not study.reminder_enabled(closed.id) and study.take_refusal(closed.id)  # told at /review
                tried = tries(gone)
                for _ in range(3):  # the days after: dave is reminded, the deleted account is not tried
                    clock["now"] += timedelta(days=1)
                    assert await cog.send_reminders() == 1
                assert tries(gone) == tried
                assert len(fake.messages_in(fake.dm_channel(dave))) == 3
                assert study.deck_terms(gone.id) == ["LoRA"]  # turned off, nothing deleted
            assert not fake.errors

    run(scenario, timeout=120)
