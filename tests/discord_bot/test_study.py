"""Questions asked of the bot directly: in a direct message, and by @mention while on cooldown;
chatter asked directly; what a study channel takes for a question."""

from __future__ import annotations

import itertools

from bot.discord_bot.cogs.study import SEARCHES, Reading
from bot.discord_bot.render import ASK_ME, WELCOME
from bot.glossary.search import LINK_NOTE
from bot.discord_bot.ui import in_search_pool

from .helpers import make_settings, record_edits, record_handled, run, study_bot


def test_a_direct_message_is_answered_like_a_mention(real_index_path, real_embedder, tmp_path) -> None:
    # Discord delivers a DM's text without the Message Content intent; the bot once ignored it.
    state_path = tmp_path / "state.db"
    settings = make_settings(real_index_path, state_path)  # no Message Content intent

    async def scenario() -> None:
        async with study_bot(settings, real_embedder, state_path) as (fake, bot, _guild, alice, _study):
            dm = fake.dm_channel(alice)
            sent = await fake.send_message(dm, "what is lora?", author=alice)
            reply = await fake.wait_for_channel_message(dm, after=sent, timeout=30)
            assert reply.embeds and reply.embeds[0]["title"] == "LoRA"
            bot.get_cog("Study").clock = lambda: 10**10 + 3600  # a fresh cooldown window
            sent = await fake.send_message(dm, "loss goes nan with fp16", author=alice)
            reply = await fake.wait_for_channel_message(dm, after=sent, timeout=30)
            assert reply.content or reply.embeds  # unsure or refused, but said: it was asked directly
            assert bot.state.db.query("SELECT count(*) FROM questions WHERE guild_id = 0")[0][0] == 2

            # a message's lines are read as lines, as the console reads them: "## Questions" is a
            # heading, not a name the glossary lacks (QA74: it said no entry for “Questions”)
            bot.get_cog("Study").clock = lambda: 10**10 + 7200
            listed = "## Questions\n- what is lora?\n- what is qlora?\n- what is dora?"
            sent = await fake.send_message(dm, listed, author=alice)
            reply = await fake.wait_for_channel_message(dm, after=sent, timeout=30)
            said = reply.content + " ".join(str(e) for e in reply.embeds)
            assert "Questions" not in said and "dora" in said, said
            assert reply.embeds[0]["title"] == "LoRA · QLoRA", reply.embeds  # side by side

    run(scenario, timeout=120)


def test_a_mention_on_cooldown_is_told_to_wait_once(real_index_path, real_embedder, tmp_path) -> None:
    state_path = tmp_path / "state.db"
    settings = make_settings(real_index_path, state_path, message_content=True)

    async def scenario() -> None:
        async with study_bot(settings, real_embedder, state_path) as (fake, bot, _guild, alice, study):
            cog = bot.get_cog("Study")
            cog.clock = lambda: 1_000_000.0  # time stands still: every later question is on cooldown
            handled = record_handled(cog)
            first = await fake.send_message(study, f"{fake.bot_user.mention} what is lora?", author=alice)
            await fake.wait_for_channel_message(study, after=first, timeout=30)
            second = await fake.send_message(study, f"{fake.bot_user.mention} what is attention?", author=alice)
            notice = await fake.wait_for_channel_message(study, after=second, timeout=30)
            assert "ask again in" in notice.content
            third = await fake.send_message(study, f"{fake.bot_user.mention} what is qlora?", author=alice)
            unasked = await fake.send_message(study, "what is adam?", author=alice)
            await fake.wait_for(lambda: third.id in handled and unasked.id in handled, timeout=30,
                                what="both handled")
            assert handled[third.id] is False and handled[unasked.id] is False  # one notice per wait

    run(scenario, timeout=120)


def test_a_reply_discord_lost_leaves_the_askers_next_question_free(real_index_path, real_embedder,
                                                                   tmp_path) -> None:
    """QA67: Discord failed the reply (a 503; repeated 429s end the same way), so the asker heard nothing,
    yet their next question was refused "ask again in 10 s" as if it had been answered. A reply the
    channel refuses (no permission) still takes the cooldown: each question there would be a search."""
    state_path = tmp_path / "state.db"
    settings = make_settings(real_index_path, state_path, message_content=True)

    async def scenario() -> None:
        async with study_bot(settings, real_embedder, state_path) as (fake, bot, _guild, alice, study):
            cog = bot.get_cog("Study")
            cog.clock = lambda: 1_000_000.0  # time stands still: an answered question takes the cooldown
            handled = record_handled(cog)
            path = rf"/channels/{study.id}/messages"
            fake.fail_next("POST", path, 503)
            lost = await fake.send_message(study, f"{fake.bot_user.mention} what is lora?", author=alice)
            await fake.wait_for(lambda: lost.id in handled, timeout=30, what="the first question handled")
            again = await fake.send_message(study, f"{fake.bot_user.mention} what is lora?", author=alice)
            reply = await fake.wait_for_channel_message(study, after=again, timeout=30)
            assert reply.embeds and reply.embeds[0]["title"] == "LoRA", reply.content
            # the "ask again in" notice lost the same way gives nothing back: it took no cooldown
            fake.fail_next("POST", path, 503)
            waits = await fake.send_message(study, f"{fake.bot_user.mention} what is qlora?", author=alice)
            await fake.wait_for(lambda: waits.id in handled, timeout=30, what="the notice handled")
            third = await fake.send_message(study, f"{fake.bot_user.mention} what is adam?", author=alice)
            await fake.wait_for(lambda: third.id in handled, timeout=30, what="the third question handled")
            assert handled[third.id] is False  # still the cooldown's: not answered (its notice was spent)

            cog.clock = lambda: 2_000_000.0
            fake.fail_next("POST", path, 403, code=50013)
            refused = await fake.send_message(study, f"{fake.bot_user.mention} what is qlora?", author=alice)
            await fake.wait_for(lambda: refused.id in handled, timeout=30, what="the refused reply handled")
            later = await fake.send_message(study, f"{fake.bot_user.mention} what is adam?", author=alice)
            notice = await fake.wait_for_channel_message(study, after=later, timeout=30)
            assert "ask again in" in notice.content

    run(scenario, timeout=120)


def test_a_study_channel_answers_comparisons_and_misspelt_questions_but_not_chatter(real_index_path, real_embedder,
                                                                                   tmp_path) -> None:
    # "lora vs qlora" and "wat is grpo" were ignored: no "?", no question word the bot knew.
    state_path = tmp_path / "state.db"
    settings = make_settings(real_index_path, state_path, message_content=True)

    async def scenario() -> None:
        async with study_bot(settings, real_embedder, state_path) as (fake, bot, _guild, alice, study):
            cog = bot.get_cog("Study")
            cog.clock = itertools.count(10**10, 3600).__next__  # no cooldowns in the way
            handled = record_handled(cog)
            for text in ("lora vs qlora", "compare adam, adamw and sgd", "wat is grpo", "hw does lora work"):
                sent = await fake.send_message(study, text, author=alice)
                reply = await fake.wait_for_channel_message(study, after=sent, timeout=30)
                expected = cog.render(await in_search_pool(bot.answer, text), Reading(text, False))
                assert expected is not None, text  # a confident answer, as the study channel posts
                assert reply.embeds and reply.embeds[0]["title"] == expected["embed"].title, text
            logged = len(bot.state.db.query("SELECT 1 FROM questions"))
            for text in ("good morning all", "wut", "hw is due friday", "opened it in vs code",
                         "I compared them yesterday"):
                sent = await fake.send_message(study, text, author=alice)
                await fake.wait_for(lambda m=sent: m.id in handled, what="chatter handled")
                assert handled[sent.id] is False, text
            assert len(bot.state.db.query("SELECT 1 FROM questions")) == logged  # not even searched

    run(scenario, timeout=120)


def test_chatter_asked_directly_gets_a_hint_or_a_thanks_never_a_refusal(real_index_path, real_embedder,
                                                                         tmp_path) -> None:
    # "hi", "thanks!", "👍" in a DM (or "ok thanks" to a review reminder) once got
    # "The glossary doesn't cover “thanks!”".
    state_path = tmp_path / "state.db"
    settings = make_settings(real_index_path, state_path, message_content=True)
    clock = [1_000_000.0]

    async def scenario() -> None:
        async with study_bot(settings, real_embedder, state_path) as (fake, bot, _guild, alice, study):
            cog = bot.get_cog("Study")
            cog.clock = lambda: clock[0]
            handled, edits = record_handled(cog), record_edits(cog)
            dm = fake.dm_channel(alice)

            async def said(channel, text: str):
                sent = await fake.send_message(channel, text, author=alice)
                await fake.wait_for(lambda: sent.id in handled, what=f"{text!r} handled")
                replies = [m for m in fake.channel_messages if (m.message.get("message_reference") or {})
                           .get("message_id") == str(sent.id)]
                return sent, (replies[0].message if replies else None)

            _, hint = await said(dm, "hi")
            assert hint["content"] == ASK_ME and not hint.get("embeds")
            # the hint cost no cooldown: the question right after it is answered
            question, answer = await said(dm, "what is lora?")
            assert answer["embeds"]
            clock[0] += 11
            _, thanks = await said(dm, "thanks!")
            assert thanks["content"] == WELCOME
            _, again = await said(dm, "👍")
            assert again is None  # one hint per cooldown period: "hi hi hi" is not answered thrice
            clock[0] += 11
            _, nod = await said(dm, "👍")
            assert nod["content"] == WELCOME
            clock[0] += 11
            _, mention = await said(study, f"{fake.bot_user.mention} hi!")
            assert mention["content"] == ASK_ME
            clock[0] += 11
            _, quiet = await said(study, "ok thanks")  # not asked of the bot: the study channel is chat
            assert quiet is None

            # "ok thanks" typed over the answered question (Discord's ↑ edits the last message)
            reply = next(m for m in fake.channel_messages if m.message.get("embeds"))
            await fake.edit_message(question.payload, "ok thanks")
            await fake.wait_for(lambda: question.id in edits, what="the edit handled")
            assert edits[question.id] == [False] and fake.messages[reply.id]["embeds"] == answer["embeds"]

            # /ask says the same to chatter, privately (QA74: "The glossary doesn't cover “thanks!”")
            for typed, expected in (("thanks!", WELCOME), ("hi", ASK_ME)):
                slash = await fake.wait_for_response(await fake.send_slash_command("ask", {"question": typed},
                                                                                   user=alice))
                assert slash.content == expected and slash.data.get("flags", 0) & 64, (typed, slash.data)
            # …but a bare link is told that links aren't opened (review 55)
            linked = await fake.wait_for_response(await fake.send_slash_command(
                "ask", {"question": "https://github.com/huggingface/peft/issues/123"}, user=alice))
            said = linked.content or " ".join(str(e) for e in linked.embeds)
            assert said == LINK_NOTE or LINK_NOTE in said, said

            said_anything = [m.message.get("content") or "" for m in fake.channel_messages]
            assert not any("doesn't cover" in text for text in said_anything)
            assert [q for (q,) in bot.state.db.query("SELECT query FROM questions")] == ["what is lora?"]

    run(scenario, timeout=120)


def test_a_question_left_unanswered_costs_no_cooldown_but_silent_searches_are_bounded(real_index_path, real_embedder,
                                                                                      tmp_path) -> None:
    # A study-channel question the bot said nothing to once took the cooldown: the asker's @mention
    # right after was told "ask again in 8 s", though from their side they had asked once.
    state_path = tmp_path / "state.db"
    settings = make_settings(real_index_path, state_path, message_content=True)
    unanswered = "what is the capital of france?"  # off the glossary: silence in a study channel

    async def scenario() -> None:
        async with study_bot(settings, real_embedder, state_path) as (fake, bot, guild, alice, study):
            bob = fake.add_user("bob")
            fake.add_member(guild, bob)
            cog = bot.get_cog("Study")
            cog.clock = lambda: 1_000_000.0  # time stands still: nothing waits out a cooldown
            handled = record_handled(cog)

            async def ask(text: str, author) -> dict | None:
                sent = await fake.send_message(study, text, author=author)
                await fake.wait_for(lambda: sent.id in handled, what=f"{text!r} handled")
                replies = [m.message for m in fake.channel_messages
                           if (m.message.get("message_reference") or {}).get("message_id") == str(sent.id)]
                return replies[0] if replies else None

            def searched(user) -> int:
                return bot.state.db.query("SELECT count(*) FROM questions WHERE user_hash = ?",
                                          [bot.user_hash(user.id)])[0][0]

            assert await ask(unanswered, alice) is None and searched(alice) == 1
            answer = await ask(f"{fake.bot_user.mention} what is lora?", alice)
            assert answer and answer["embeds"]  # answered, not told to wait
            # a reply does take the cooldown
            notice = await ask(f"{fake.bot_user.mention} what is attention?", alice)
            assert notice and "ask again in" in notice["content"]
            assert await ask("what is qlora?", alice) is None and searched(alice) == 2

            # silent searches come from an allowance of their own: past it, not even searched
            for _ in range(SEARCHES + 2):
                assert await ask(unanswered, bob) is None
            assert searched(bob) == SEARCHES
            assert await ask("what is lora?", bob) is None and searched(bob) == SEARCHES
            # ... which a direct ask does not draw on
            answer = await ask(f"{fake.bot_user.mention} what is lora?", bob)
            assert answer and answer["embeds"]

    run(scenario, timeout=120)


THREAD_CREATED = 18  # Discord's notice in the parent channel: "alice started a thread: <its name>"


def test_a_thread_started_in_a_study_channel_is_answered_in_the_thread_not_its_notice(real_index_path, real_embedder,
                                                                                    tmp_path) -> None:
    # The notice's text is the thread's name ("what is lora?"): answered, it took alice's cooldown,
    # and the question she then asked in the thread got nothing.
    state_path = tmp_path / "state.db"
    settings = make_settings(real_index_path, state_path, message_content=True)

    async def scenario() -> None:
        async with study_bot(settings, real_embedder, state_path) as (fake, bot, _guild, alice, study):
            cog = bot.get_cog("Study")
            cog.clock = lambda: 10**10
            handled = record_handled(cog)
            thread = fake.add_thread(study, "what is lora?", owner=alice)
            await fake.wait_for(lambda: bot.get_channel(thread.id) is not None, what="THREAD_CREATE")
            notice = await fake.send_message(study, "what is lora?", author=alice, message_type=THREAD_CREATED)
            question = await fake.send_message(thread, "what is lora? saw it in a paper", author=alice)
            await fake.wait_for(lambda: notice.id in handled and question.id in handled, timeout=30, what="handled")
            assert handled[notice.id] is False and handled[question.id] is True
            reply = await fake.wait_for_channel_message(thread, after=question, timeout=30)
            assert reply.embeds and reply.embeds[0]["title"] == "LoRA"

    run(scenario, timeout=180)


def test_a_remark_in_reply_to_the_bot_is_not_asked_of_it_but_a_question_in_reply_is(real_index_path, real_embedder,
                                                                                    tmp_path) -> None:
    # A reply pings the author it replies to by default, so the bot is among its mentions though
    # nobody typed @bot: "nice, that makes sense now" drew "The glossary doesn't cover …".
    state_path = tmp_path / "state.db"
    settings = make_settings(real_index_path, state_path, message_content=True)

    async def scenario() -> None:
        async with study_bot(settings, real_embedder, state_path) as (fake, bot, _guild, alice, study):
            cog = bot.get_cog("Study")
            clock = [10**10]
            cog.clock = lambda: clock[0]
            handled = record_handled(cog)
            asked = await fake.send_message(study, "what is lora?", author=alice)
            answer = await fake.wait_for_channel_message(study, after=asked, timeout=30)
            clock[0] += 3600
            remark = await fake.send_message(study, "nice, that makes sense now", author=alice, reply_to=answer,
                                             mentions=[fake.bot_user])
            await fake.wait_for(lambda: remark.id in handled, timeout=30, what="handled")
            assert handled[remark.id] is False
            clock[0] += 3600
            follow_up = await fake.send_message(study, "and how is it different from qlora?", author=alice,
                                                reply_to=answer, mentions=[fake.bot_user])
            await fake.wait_for(lambda: follow_up.id in handled, timeout=30, what="handled")
            assert handled[follow_up.id] is True

    run(scenario, timeout=180)


def test_a_forum_post_asking_in_its_title_is_answered(real_index_path, real_embedder, tmp_path) -> None:
    # Only the body was read: "I keep seeing it in papers, can someone explain?" names nothing.
    from tests.fake_discord import ChannelType

    state_path = tmp_path / "state.db"
    settings = make_settings(real_index_path, state_path, message_content=True)

    async def scenario() -> None:
        async with study_bot(settings, real_embedder, state_path) as (fake, bot, guild, alice, study):
            bot.get_cog("Study").clock = lambda: 10**10
            forum = fake.add_channel(guild, "help", type=ChannelType.GUILD_FORUM)
            await fake.wait_for(lambda: bot.get_channel(forum.id) is not None, what="CHANNEL_CREATE")
            bot.state.update_config(guild.id, study_channels=(study.id, forum.id))
            post, _starter = await fake.create_forum_post(forum, "What is LoRA?",
                                                          "I keep seeing it in papers, can someone explain?",
                                                          author=alice)
            answer = await fake.wait_for_channel_message(post, timeout=30)
            assert answer.embeds and answer.embeds[0]["title"] == "LoRA"

    run(scenario, timeout=180)


def test_a_question_to_the_bots_own_role_is_asked_of_the_bot(real_index_path, real_embedder, tmp_path) -> None:
    # Discord's @-list offers the bot's managed role beside the bot, under the same name; a member who
    # picked the role got nothing outside study channels, and was read as chatter in one.
    state_path = tmp_path / "state.db"
    settings = make_settings(real_index_path, state_path, message_content=True)

    async def scenario() -> None:
        async with study_bot(settings, real_embedder, state_path) as (fake, bot, guild, alice, _study):
            general = fake.add_channel(guild, "general")
            role = fake.bot_role(guild)
            sent = await fake.send_message(general, f"{role.mention} what is lora?", author=alice)
            reply = await fake.wait_for_channel_message(general, after=sent, timeout=30)
            assert reply.embeds and reply.embeds[0]["title"] == "LoRA"
            other = fake.add_role(guild, "Moderators")
            bot.get_cog("Study").clock = lambda: 10**10 + 3600  # a fresh cooldown window
            handled = record_handled(bot.get_cog("Study"))
            sent = await fake.send_message(general, f"{other.mention} what is lora?", author=alice)
            await fake.wait_for(lambda: sent.id in handled, what="the moderators' ping handled")
            assert fake.messages_in(general)[-1]["id"] == str(sent.id)  # another role's ping is not the bot's

    run(scenario, timeout=120)
