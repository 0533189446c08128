"""Edited questions: the bot's reply follows a question edited soon after it was asked (in a
study channel, a mention, a DM), as a fresh answer to the new text would look; a link
preview, an edit the bot reads as the same question or whose answer looks the same, a late
edit or one past the per-message limit changes nothing (the last answer stays); chatter
edited into a question is a new question, cooldown and all."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime, timedelta

from bot.discord_bot.cogs.study import Reading
from bot.discord_bot.cogs.study_edits import EDIT_SEARCHES, EDIT_WINDOW, REANSWERS, appearance
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
    study_bot,
)

FEEDBACK_ID = re.compile(r"^gloss:fb:(up|down):(\d+)$")


def _feedback_question(message: dict) -> int:
    """The logged question the message's 👍/👎 buttons vote on."""
    found = {int(m.group(2)) for i in button_ids(message) if (m := FEEDBACK_ID.match(i))}
    assert len(found) == 1, button_ids(message)
    return found.pop()


def _same_rendering(a: dict, b: dict) -> bool:
    """The same embeds, text and buttons, apart from the question the votes go to."""
    def shape(message: dict) -> tuple:
        return (message.get("content") or "", message.get("embeds"),
                [FEEDBACK_ID.sub(r"gloss:fb:\1:*", i) for i in button_ids(message)])
    return shape(a) == shape(b)


def _edits_to(fake, message_id: int) -> list:
    return [r for r in fake.requests if r.method == "PATCH" and r.path.endswith(f"/messages/{message_id}")]


def test_an_edited_question_gets_its_reply_edited_into_the_new_answer(real_index_path, real_embedder,
                                                                     tmp_path) -> None:
    state_path = tmp_path / "state.db"
    settings = make_settings(real_index_path, state_path, message_content=True)

    async def scenario() -> None:
        async with study_bot(settings, real_embedder, state_path) as (fake, bot, guild, alice, study):
            bob = fake.add_user("bob")
            fake.add_member(guild, bob)
            cog = bot.get_cog("Study")
            cog.clock = lambda: 1_000_000.0  # time stands still: alice stays on cooldown throughout
            edits = record_edits(cog)

            def edit(text: str, n: int):
                return edit_and_wait(fake, edits, asked, text, n)

            asked = await fake.send_message(study, "what is lora?", author=alice)
            first = await fake.wait_for_channel_message(study, after=asked, timeout=30)
            reply_id, old_question = first.id, _feedback_question(first.message)

            # Discord's link preview and an edit the bot reads as the same question: nothing
            await fake.unfurl(asked.payload, [{"type": "link", "url": "https://example.com", "title": "x"}])
            await fake.wait_for(lambda: asked.id in edits, what="the preview's MESSAGE_UPDATE handled")
            assert not await edit("what is **lora**?", 2)
            assert _edits_to(fake, reply_id) == [] and len(bot.state.db.query("SELECT 1 FROM questions")) == 1

            # reworded: the same reply now answers the new text, as a fresh answer to it would
            assert await edit("what is attention?", 3)
            edited = fake.messages[reply_id]
            assert edited["embeds"] != first.message["embeds"]
            fresh = await fake.send_message(study, "what is attention?", author=bob)
            fresh_reply = await fake.wait_for_channel_message(study, after=fresh, timeout=30)
            assert _same_rendering(edited, fresh_reply.message)
            assert len([m for m in fake.channel_messages if m.channel_id == study.id]) == 2

            # the buttons vote on the question logged for the new text; the old row stays, marked
            new_question = _feedback_question(edited)
            rows = {q: (text, replaced) for q, text, replaced in bot.state.db.query(
                "SELECT question_id, query, replaced_by FROM questions")}
            assert rows[old_question] == ("what is lora?", new_question)
            assert rows[new_question] == ("what is attention?", None)
            up = next(i for i in button_ids(edited) if i.startswith("gloss:fb:up:"))
            await fake.wait_for_response(await fake.click_button(reply_id, up, user=bob))
            assert len(bot.state.feedback.votes(new_question)) == 1
            assert bot.state.feedback.votes(old_question) == []

            # two edits in a row are answered in order: the reply ends on the last text
            await fake.edit_message(asked.payload, "what is adam?")
            assert await edit("what is qlora?", 5)
            expected = await in_search_pool(bot.answer, "what is qlora?")
            assert fake.messages[reply_id]["embeds"][0]["title"] == expected.entry.term

            # past REANSWERS changed answers: the last answer stays, a line under it says so once,
            # then edits are left alone
            assert REANSWERS == 3
            last = copy.deepcopy(fake.messages[reply_id])
            assert await edit("what is adam?", 6)
            assert "new message" in fake.messages[reply_id]["content"]
            assert fake.messages[reply_id]["embeds"] == last["embeds"]
            assert button_ids(fake.messages[reply_id]) == button_ids(last)
            patches = len(_edits_to(fake, reply_id))
            assert not await edit("what is lora?", 7)
            assert len(_edits_to(fake, reply_id)) == patches
            assert len([m for m in fake.channel_messages if m.channel_id == study.id]) == 2

    run(scenario, timeout=180)


def test_chatter_and_questions_edited_into_each_other_under_the_cooldown(real_index_path, real_embedder,
                                                                         tmp_path) -> None:
    state_path = tmp_path / "state.db"
    settings = make_settings(real_index_path, state_path, message_content=True)

    async def scenario() -> None:
        async with study_bot(settings, real_embedder, state_path) as (fake, bot, guild, alice, study):
            bob, carol = fake.add_user("bob"), fake.add_user("carol")
            fake.add_member(guild, bob)
            fake.add_member(guild, carol)
            cog = bot.get_cog("Study")
            cog.clock = lambda: 1_000_000.0  # each user's first question takes their cooldown for good
            edits, handled = record_edits(cog), record_handled(cog)

            def edit(message, text: str):
                return edit_and_wait(fake, edits, message, text)

            def replies_to(message) -> list:
                return [m for m in fake.channel_messages
                        if (m.message.get("message_reference") or {}).get("message_id") == str(message.id)]

            # a question edited into chatter: its reply goes
            asked = await fake.send_message(study, "what is lora?", author=alice)
            reply = await fake.wait_for_channel_message(study, after=asked, timeout=30)
            assert await edit(asked, "nvm, found it")
            assert reply.id not in fake.messages

            # chatter edited into a question: answered as a new one, in a reply of its own
            chatter = await fake.send_message(study, "good morning all", author=bob)
            await fake.wait_for(lambda: chatter.id in handled, what="chatter handled")
            assert await edit(chatter, "what is attention?")
            [answer] = replies_to(chatter)
            fresh = await fake.send_message(study, "what is attention?", author=carol)
            fresh_reply = await fake.wait_for_channel_message(study, after=fresh, timeout=30)
            assert _same_rendering(fake.messages[answer.id], fresh_reply.message)

            # ...but not a way around the cooldown: bob's question took it, his next edit waits
            second = await fake.send_message(study, "see you later", author=bob)
            await fake.wait_for(lambda: second.id in handled, what="chatter handled")
            assert not await edit(second, "what is qlora?")
            assert replies_to(second) == []
            asked_rows = [q for (q,) in bot.state.db.query("SELECT query FROM questions")]
            assert "what is qlora?" not in asked_rows

    run(scenario, timeout=180)


def test_late_edits_change_nothing(real_index_path, real_embedder, tmp_path) -> None:
    """(Edits of questions from before a restart: test_study_restart.py.)"""
    state_path = tmp_path / "state.db"
    settings = make_settings(real_index_path, state_path, message_content=True)
    ahead = {"by": timedelta(0)}

    def now() -> datetime:
        return datetime.now(UTC) + ahead["by"]

    async def scenario() -> None:
        async with study_bot(settings, real_embedder, state_path, now=now) as (fake, bot, _guild, alice, study):
            cog = bot.get_cog("Study")
            edits = record_edits(cog)
            asked = await fake.send_message(study, "what is lora?", author=alice)
            reply = await fake.wait_for_channel_message(study, after=asked, timeout=30)
            ahead["by"] = EDIT_WINDOW + timedelta(minutes=1)  # the question is older than the window now
            await fake.edit_message(asked.payload, "what is qlora?")
            await fake.wait_for(lambda: asked.id in edits, what="edit handled")
            assert edits[asked.id] == [False] and _edits_to(fake, reply.id) == []
            assert len(fake.channel_messages) == 1

    run(scenario, timeout=180)


def test_edits_in_a_direct_message_and_to_a_mention(real_index_path, real_embedder, tmp_path) -> None:
    state_path = tmp_path / "state.db"
    settings = make_settings(real_index_path, state_path)  # no Message Content intent: only mentions are read

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["general"])
            alice, bob = fake.add_user("alice"), fake.add_user("bob")
            fake.add_member(guild, alice)
            fake.add_member(guild, bob)
            general = guild.channel("general")
            with error_logs() as errors:
                async with running(fake, make_bot(settings, real_embedder)) as bot:
                    await fake.wait_for_command_sync()
                    edits = record_edits(bot.get_cog("Study"))
                    dm = fake.dm_channel(alice)
                    asked = await fake.send_message(dm, "what is lora?", author=alice)
                    reply = await fake.wait_for_channel_message(dm, after=asked, timeout=30)
                    await fake.edit_message(asked.payload, "what is attention?")
                    await fake.wait_for(lambda: asked.id in edits, what="edit handled")
                    assert edits[asked.id] == [True]
                    expected = await in_search_pool(bot.answer, "what is attention?")
                    assert fake.messages[reply.id]["embeds"][0]["title"] == expected.entry.term
                    assert len(fake.channel_messages) == 1

                    # the mention taken out: Discord no longer shows the bot the text, and the reply goes
                    mention = await fake.send_message(general, f"{fake.bot_user.mention} what is adam?", author=bob)
                    answer = await fake.wait_for_channel_message(general, after=mention, timeout=30)
                    await fake.edit_message(mention.payload, "what is adam? (asking the room instead)")
                    await fake.wait_for(lambda: mention.id in edits, what="edit handled")
                    assert edits[mention.id] == [True] and answer.id not in fake.messages
                    assert not fake.errors
                    assert_no_pings(fake)
            assert not errors.records, errors.messages()

    run(scenario, timeout=180)


def test_a_question_deleted_soon_after_takes_the_reply_with_it(real_index_path, real_embedder, tmp_path) -> None:
    state_path = tmp_path / "state.db"
    settings = make_settings(real_index_path, state_path, message_content=True)
    clock = {"now": datetime.now(UTC)}

    async def scenario() -> None:
        async with study_bot(settings, real_embedder, state_path, now=lambda: clock["now"]) \
                as (fake, bot, guild, alice, study):
            bob = fake.add_user("bob")
            fake.add_member(guild, bob)
            cog = bot.get_cog("Study")
            handled: dict[int, int] = {}  # deleted message -> replies deleted with it
            handle_deleted = cog.handle_deleted

            async def spy(channel_id, message_ids):
                deleted = await handle_deleted(channel_id, message_ids)
                handled.update({i: deleted for i in message_ids})
                return deleted

            cog.handle_deleted = spy
            asked = await fake.send_message(study, "what is lora?", author=alice)
            reply = await fake.wait_for_channel_message(study, after=asked, timeout=30)
            await fake.delete_message(asked.payload)
            await fake.wait_for(lambda: asked.id in handled, what="the deletion handled")
            assert handled[asked.id] == 1 and reply.id not in fake.messages

            # past the edit window, people may have read the answer: it stays
            later = await fake.send_message(study, "what is attention?", author=bob)
            kept = await fake.wait_for_channel_message(study, after=later, timeout=30)
            clock["now"] += EDIT_WINDOW + timedelta(seconds=1)
            await fake.delete_message(later.payload)
            await fake.wait_for(lambda: later.id in handled, what="the second deletion handled")
            assert handled[later.id] == 0 and kept.id in fake.messages
            assert len(bot.state.db.query("SELECT 1 FROM questions")) == 2  # the log keeps both

    run(scenario, timeout=120)


def test_edits_in_a_channel_that_is_no_longer_a_study_channel_change_nothing(real_index_path, real_embedder,
                                                                               tmp_path) -> None:
    # The bot once deleted its answer there: the edit went unanswered, as a question outside a
    # study channel does, and "unanswered" deleted the reply.
    state_path = tmp_path / "state.db"
    settings = make_settings(real_index_path, state_path, message_content=True)

    async def scenario() -> None:
        async with study_bot(settings, real_embedder, state_path) as (fake, bot, guild, alice, study):
            cog = bot.get_cog("Study")
            cog.clock = iter(range(10**9, 10**10, 3600)).__next__  # no cooldowns in the way
            edits = record_edits(cog)

            def edit(message, text: str):
                return edit_and_wait(fake, edits, message, text)

            asked = await fake.send_message(study, "what is lora?", author=alice)
            reply = await fake.wait_for_channel_message(study, after=asked, timeout=30)
            mention = await fake.send_message(study, f"{fake.bot_user.mention} what is lora?", author=alice)
            mention_reply = await fake.wait_for_channel_message(study, after=mention, timeout=30)
            answer = reply.message["embeds"]
            bot.state.update_config(guild.id, study_channels=())

            assert not await edit(asked, "what is attention?")
            assert not await edit(asked, "nvm, found it")
            assert fake.messages[reply.id]["embeds"] == answer and _edits_to(fake, reply.id) == []

            # a direct @mention is answered anywhere: its edit still is
            assert await edit(mention, f"{fake.bot_user.mention} what is attention?")
            expected = await in_search_pool(bot.answer, "what is attention?")
            assert fake.messages[mention_reply.id]["embeds"][0]["title"] == expected.entry.term

    run(scenario, timeout=120)


def test_an_edit_that_leaves_the_answer_as_it_is_costs_nothing(real_index_path, real_embedder, tmp_path) -> None:
    # Adding a "?" or an @everyone once took one of the REANSWERS, and the edit after the third
    # replaced the whole answer with "That question changed more than 3 times…".
    state_path = tmp_path / "state.db"
    settings = make_settings(real_index_path, state_path, message_content=True)

    async def scenario() -> None:
        async with study_bot(settings, real_embedder, state_path) as (fake, bot, guild, alice, study):
            bob = fake.add_user("bob")
            fake.add_member(guild, bob)
            cog = bot.get_cog("Study")
            cog.clock = lambda: 1_000_000.0  # time stands still: alice stays on cooldown throughout
            edits = record_edits(cog)

            def edit(text: str):
                return edit_and_wait(fake, edits, asked, text)

            async def shown(text: str):
                return appearance(cog.render(await in_search_pool(bot.answer, text), Reading(text, False)))

            asked = await fake.send_message(study, "what is adamw", author=alice)
            first = await fake.wait_for_channel_message(study, after=asked, timeout=30)
            reply_id, question = first.id, _feedback_question(first.message)
            small = ("what is adamw?", "@everyone what is adamw??", "what is AdamW ?")
            for text in small:  # the bot reads each as another question, whose answer looks the same
                assert await shown(text) == await shown("what is adamw"), text
                assert not await edit(text)
            assert _edits_to(fake, reply_id) == []
            assert fake.messages[reply_id] == first.message
            # the votes still go to the question asked; nothing was logged for the small edits
            assert [q for (q,) in bot.state.db.query("SELECT question_id FROM questions")] == [question]

            # so all REANSWERS real changes are still followed
            for text in ("what is adam?", "what is sgd?", "what is lora?"):
                assert await edit(text)
                expected = await in_search_pool(bot.answer, text)
                assert fake.messages[reply_id]["embeds"][0]["title"] == expected.entry.term
            # the next one is not, and the answer stays, with a line saying so under it
            last = copy.deepcopy(fake.messages[reply_id])
            assert await edit("what is qlora?")
            kept = fake.messages[reply_id]
            assert kept["embeds"] == last["embeds"] and kept["components"] == last["components"]
            assert "new message" in kept["content"]
            assert not await edit("what is attention?")
            assert fake.messages[reply_id] == kept

            # free edits are searched all the same: EDIT_SEARCHES bound them, the answer kept
            asked = await fake.send_message(study, "what is adamw", author=bob)
            reply = await fake.wait_for_channel_message(study, after=asked, timeout=30)
            for n in range(EDIT_SEARCHES):
                assert not await edit("what is adamw" + "?" * (n % 2 + 1))
            assert await edit("what is lora?")
            assert fake.messages[reply.id]["embeds"] == reply.message["embeds"]
            assert "new message" in fake.messages[reply.id]["content"]
            assert len([m for m in fake.channel_messages if m.channel_id == study.id]) == 2

    run(scenario, timeout=180)
