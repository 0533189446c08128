"""Questions asked before a restart, edited or deleted after it: what the bot said to them is in the
state database, so the reply follows the edit, goes with a deleted question, stays when someone
else had used it, and an edit whose answer looks the same changes nothing, as without a restart.
A message the bot has no record of from before the restart is left alone (a reply to it may have
gone out unrecorded: never answer twice). Records go once their edit window is over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.discord_bot.cogs.study_edits import EDIT_WINDOW, STOPPED_FOLLOWING
from bot.discord_bot.ui import in_search_pool
from tests.fake_discord import FakeDiscord

from .helpers import (
    assert_no_pings,
    button_ids,
    edit_and_wait,
    error_logs,
    make_bot,
    make_settings,
    record_edits,
    record_handled,
    run,
    running,
    study_server,
)


def test_edits_and_deletions_of_questions_from_before_a_restart(real_index_path, real_embedder, tmp_path) -> None:
    state_path = tmp_path / "state.db"
    settings = make_settings(real_index_path, state_path, message_content=True)
    ahead = {"by": timedelta(0)}

    def now() -> datetime:
        return datetime.now(UTC) + ahead["by"]

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild, alice, study = study_server(fake, state_path)
            bob, carol, dave, erin = (fake.add_user(name) for name in ("bob", "carol", "dave", "erin"))
            for user in (bob, carol, dave, erin):
                fake.add_member(guild, user)

            async def ask(text: str, author):
                asked = await fake.send_message(study, text, author=author)
                return asked, await fake.wait_for_channel_message(study, after=asked, timeout=30)

            async def click(reply, prefix: str, user) -> None:
                custom_id = next(i for i in button_ids(fake.messages[reply.id]) if i.startswith(prefix))
                await fake.wait_for_response(await fake.click_button(reply.id, custom_id, user=user))

            with error_logs() as errors:
                async with running(fake, make_bot(settings, real_embedder, now=now)) as bot:
                    await fake.wait_for_command_sync()
                    handled = record_handled(bot.get_cog("Study"))
                    reworded, reworded_reply = await ask("what is adam?", alice)
                    deleted, deleted_reply = await ask("what is lora?", bob)
                    retouched, retouched_reply = await ask("what is adamw", carol)
                    voted, voted_reply = await ask("what is qlora?", dave)
                    await click(voted_reply, "gloss:fb:up:", bob)  # before the restart
                    clicked, clicked_reply = await ask("what is attention?", erin)
                    chatter = await fake.send_message(study, "good morning all", author=bob)
                    await fake.wait_for(lambda: chatter.id in handled, what="chatter handled")
                    replies = len(fake.channel_messages)

                async with running(fake, make_bot(settings, real_embedder, now=now)) as bot:  # a restart
                    cog = bot.get_cog("Study")
                    edits = record_edits(cog)

                    def edit(message, text: str):
                        return edit_and_wait(fake, edits, message, text)

                    # reworded: its reply becomes the new answer, in place
                    assert await edit(reworded, "what is attention?")
                    expected = await in_search_pool(bot.answer, "what is attention?")
                    assert fake.messages[reworded_reply.id]["embeds"][0]["title"] == expected.entry.term

                    # an edit whose answer looks the same: the reply is not touched
                    before = dict(fake.messages[retouched_reply.id])
                    assert not await edit(retouched, "what is adamw?")
                    assert fake.messages[retouched_reply.id] == before

                    # used by someone else, before the restart or after it: it stays, saying why
                    assert await edit(voted, "nvm")
                    assert fake.messages[voted_reply.id]["content"] == STOPPED_FOLLOWING
                    await click(clicked_reply, "gloss:show:", dave)
                    assert await edit(clicked, "never mind, found it")
                    assert fake.messages[clicked_reply.id]["content"] == STOPPED_FOLLOWING

                    # deleted: its reply goes with it
                    gone = cog.handle_deleted
                    deletions: list[int] = []

                    async def spy(channel_id, message_ids):
                        deletions.append(await gone(channel_id, message_ids))
                        return deletions[-1]

                    cog.handle_deleted = spy
                    await fake.delete_message(deleted.payload)
                    await fake.wait_for(lambda: deletions, what="deletion handled")
                    assert deletions[0] == 1 and deleted_reply.id not in fake.messages  # (then its reply's own event)

                    # chatter from before the restart edited into a question: no record, left alone
                    assert not await edit(chatter, "what is dropout?")
                    assert len(fake.channel_messages) == replies

                    # past the edit window, the records go as new ones are written
                    assert bot.state.asked.count() == 4  # the deleted question's went with it
                    ahead["by"] = EDIT_WINDOW + timedelta(seconds=1)
                    handled = record_handled(cog)
                    later, _ = await ask("what is qlora?", alice)
                    await fake.wait_for(lambda: later.id in handled, what="the question handled, and kept")
                    assert bot.state.asked.count() == 1
                    assert not fake.errors
                    assert_no_pings(fake)
            assert not errors.records, errors.messages()

    run(scenario, timeout=180)
