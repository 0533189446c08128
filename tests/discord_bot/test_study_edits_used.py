"""A question edited into chatter, or deleted, soon after it was asked loses its reply, unless someone
else already voted on the reply or clicked one of its buttons: then the reply stays as it was
(embed, buttons, votes), with a line saying it answers an earlier version if the question was
edited, and later edits are not followed. The asker's own clicks do not keep it."""

from __future__ import annotations

from bot.discord_bot.cogs.study_edits import STOPPED_FOLLOWING

from .helpers import button_ids, edit_and_wait, make_settings, record_edits, run, study_bot


def test_a_reply_someone_else_used_outlives_its_question_edited_into_chatter(real_index_path, real_embedder,
                                                                            tmp_path) -> None:
    state_path = tmp_path / "state.db"
    settings = make_settings(real_index_path, state_path, message_content=True)

    async def scenario() -> None:
        async with study_bot(settings, real_embedder, state_path) as (fake, bot, guild, alice, study):
            bob, carol, dave = fake.add_user("bob"), fake.add_user("carol"), fake.add_user("dave")
            for user in (bob, carol, dave):
                fake.add_member(guild, user)
            cog = bot.get_cog("Study")
            edits = record_edits(cog)

            async def ask(text: str, author):
                asked = await fake.send_message(study, text, author=author)
                return asked, await fake.wait_for_channel_message(study, after=asked, timeout=30)

            def edit(message, text: str):
                return edit_and_wait(fake, edits, message, text)

            async def click(reply, prefix: str, user) -> None:
                custom_id = next(i for i in button_ids(fake.messages[reply.id]) if i.startswith(prefix))
                await fake.wait_for_response(await fake.click_button(reply.id, custom_id, user=user))

            # bob voted on alice's answer: "nvm" over the question leaves it, saying why
            asked, reply = await ask("what is lora?", alice)
            before = fake.messages[reply.id]
            await click(reply, "gloss:fb:up:", bob)
            assert await edit(asked, "nvm, found it")
            assert reply.id in fake.messages
            kept = fake.messages[reply.id]
            assert kept["content"] == STOPPED_FOLLOWING
            assert kept["embeds"] == before["embeds"] and button_ids(kept) == button_ids(before)
            assert not await edit(asked, "what is attention?")  # no longer followed
            assert fake.messages[reply.id]["embeds"] == before["embeds"]

            # bob opened a related term from carol's answer: the same
            asked, reply = await ask("what is attention?", carol)
            await click(reply, "gloss:show:", bob)
            assert await edit(asked, "ok never mind")
            assert reply.id in fake.messages and fake.messages[reply.id]["content"] == STOPPED_FOLLOWING

            # dave's own vote and click keep nothing: his answer goes with his question
            asked, reply = await ask("what is qlora?", dave)
            await click(reply, "gloss:fb:up:", dave)
            await click(reply, "gloss:show:", dave)
            assert await edit(asked, "nvm")
            assert reply.id not in fake.messages

            # deleting a question takes its reply, unless someone else used that reply
            handled: set[int] = set()
            handle_deleted = cog.handle_deleted

            async def spy(channel_id, message_ids):
                try:
                    return await handle_deleted(channel_id, message_ids)
                finally:
                    handled.update(message_ids)

            cog.handle_deleted = spy
            erin, frank = fake.add_user("erin"), fake.add_user("frank")  # not on a cooldown
            for user in (erin, frank):
                fake.add_member(guild, user)
            used_asked, used = await ask("what is attention?", erin)
            await click(used, "gloss:fb:up:", carol)
            own_asked, own = await ask("what is qlora?", frank)
            await click(own, "gloss:fb:up:", frank)
            for message in (used_asked, own_asked):
                await fake.delete_message(message.payload)
            await fake.wait_for(lambda: {used_asked.id, own_asked.id} <= handled, what="deletions handled")
            assert used.id in fake.messages and own.id not in fake.messages
            assert fake.messages[used.id]["embeds"]  # untouched: no "earlier version" line

    run(scenario, timeout=180)
