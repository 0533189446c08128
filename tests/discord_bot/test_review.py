"""/review on Discord (issue 12): cards added from a definition's 📚 button and /review add,
shown term first, rated Again/Good and scheduled by FSRS on a fake clock, a review that
carries on across a restart, a stale rating that changes nothing, and the reminder DM: sent
once to an opted-in user and never to anyone else, never mid-review (a card rated Again is due a
minute later), before or after a restart, and not stopped for the others by one that fails; turned
off for a user whose DMs are closed, who is told at their next /review command. Cards whose terms
a rebuilt glossary renamed follow their entry; those it dropped are neither shown nor counted, in
/review start, /review stats, /stats or a reminder, and /review stats names them."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

from bot.discord_bot import render_study
from bot.state.study import REMINDER_QUIET
from bot.study import review
from tests.fake_discord import CallbackType, FakeDiscord

from .helpers import assert_no_pings, button_ids, make_bot, make_settings, run, running


def _button(message: dict, prefix: str) -> str:
    return next(cid for cid in button_ids(message) if cid.startswith(prefix))


def _cards(bot, user) -> dict[str, review.Card]:
    ids = [i for (i,) in bot.state.db.query("SELECT card_id FROM review_cards WHERE user_id = ?", [user.id])]
    return {card.term: card for card in map(bot.state.study.card, ids)}


def test_cards_move_through_again_and_good_across_a_restart(real_index_path, real_embedder, tmp_path) -> None:
    settings = make_settings(real_index_path, tmp_path / "state.db")
    clock = {"now": datetime(2026, 3, 2, 10, 0, tzinfo=UTC)}

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["study"])
            alice, bob = fake.add_user("alice"), fake.add_user("bob")
            fake.add_member(guild, alice)
            fake.add_member(guild, bob)
            async with running(fake, make_bot(settings, real_embedder, now=lambda: clock["now"])) as bot:
                await fake.wait_for_command_sync()
                empty = await fake.wait_for_response(await fake.send_slash_command("review start", {}, user=alice))
                assert empty.data["flags"] == 64 and "deck is empty" in empty.embeds[0]["description"]

                shown = await fake.wait_for_response(
                    await fake.send_slash_command("define", {"term": "attention"}, user=alice))
                add = _button(shown.message, "gloss:rev:add:")
                added = await fake.wait_for_response(await fake.click_button(shown, add, user=alice))
                assert added.data["flags"] == 64 and "Added **Attention**" in added.content
                again = await fake.wait_for_response(await fake.click_button(shown, add, user=alice))
                assert "already in your review deck" in again.content
                by_command = await fake.wait_for_response(
                    await fake.send_slash_command("review add", {"term": "LoRA"}, user=alice))
                assert "Added" in by_command.content
                missing = await fake.wait_for_response(
                    await fake.send_slash_command("review add", {"term": "zzqx blorf"}, user=alice))
                assert "no entry" in missing.content
                # /review remove forgives case as /review add does ("kv cache" is stored as "KV cache")
                await fake.wait_for_response(
                    await fake.send_slash_command("review add", {"term": "kv cache"}, user=alice))
                removed = await fake.wait_for_response(
                    await fake.send_slash_command("review remove", {"term": "KV CACHE"}, user=alice))
                assert "Removed **KV cache**" in removed.content, removed.content

                clock["now"] += timedelta(seconds=5)
                front = await fake.wait_for_response(await fake.send_slash_command("review start", {}, user=alice))
                same_card = await fake.wait_for_response(
                    await fake.send_slash_command("review start", {}, user=alice))
                assert front.data["flags"] == 64 and front.embeds[0]["title"] == "Attention"
                assert "2 cards due" in front.embeds[0]["footer"]["text"]
                assert "description" not in front.embeds[0] or "Token" not in front.embeds[0]["description"]
                # someone else cannot turn alice's card
                stolen = await fake.wait_for_response(
                    await fake.click_button(front, _button(front.message, "gloss:rev:show:"), user=bob))
                assert stolen.type == CallbackType.CHANNEL_MESSAGE and "someone else's deck" in stolen.content

                back = await fake.wait_for_response(
                    await fake.click_button(front, _button(front.message, "gloss:rev:show:"), user=alice))
                assert back.type == CallbackType.UPDATE_MESSAGE and back.embeds[0]["title"] == "Attention"
                entry = bot.entry_named("Attention")
                assert entry.definition.startswith(back.embeds[0]["description"][:40])
                ratings = [cid.rsplit(":", 1)[1] for cid in button_ids(back.data)]
                assert ratings == ["again", "hard", "good", "easy"]
                good = _button(back.data, "gloss:rev:rate:") .rsplit(":", 1)[0] + ":good"
                nxt = await fake.wait_for_response(await fake.click_button(back, good, user=alice))
                assert nxt.type == CallbackType.UPDATE_MESSAGE and nxt.embeds[0]["title"] == "LoRA"
                # the same card still on screen in an older message: turning it changes nothing
                stale = await fake.wait_for_response(
                    await fake.click_button(same_card, _button(same_card.message, "gloss:rev:show:"), user=alice))
                assert "You rated that card already" in stale.content
                card = _cards(bot, alice)["Attention"]
                assert card.reviews == 1 and card.fsrs_state == review.LEARNING
                assert timedelta(minutes=5) <= card.due - clock["now"] <= timedelta(minutes=15)

            # restart in the middle of a review: the card on screen is shown and rated all the same
            async with running(fake, make_bot(settings, real_embedder, now=lambda: clock["now"])) as bot:
                back = await fake.wait_for_response(
                    await fake.click_button(nxt, _button(nxt.data, "gloss:rev:show:"), user=alice))
                assert back.ok and back.embeds[0]["title"] == "LoRA"
                forgot = _button(back.data, "gloss:rev:rate:").rsplit(":", 1)[0] + ":again"
                done = await fake.wait_for_response(await fake.click_button(back, forgot, user=alice))
                assert done.embeds[0]["title"] == "All done"
                assert "comes back in 1 minute" in done.embeds[0]["description"]

                # ten minutes on, both are due again; Good twice takes Attention out to days
                clock["now"] += timedelta(minutes=11)
                front = await fake.wait_for_response(await fake.send_slash_command("review start", {}, user=alice))
                assert front.embeds[0]["title"] in ("Attention", "LoRA") and "2 cards due" in \
                    front.embeds[0]["footer"]["text"]
                for _ in range(2):
                    back = await fake.wait_for_response(
                        await fake.click_button(front, _button(front.message if front.message else front.data,
                                                               "gloss:rev:show:"), user=alice))
                    rate = _button(back.data, "gloss:rev:rate:").rsplit(":", 1)[0] + ":good"
                    front = await fake.wait_for_response(await fake.click_button(back, rate, user=alice))
                assert front.embeds[0]["title"] == "All done"
                cards = _cards(bot, alice)
                assert cards["Attention"].learned and cards["Attention"].due - clock["now"] >= timedelta(days=1)
                assert cards["LoRA"].reviews == 2 and cards["LoRA"].due > clock["now"]

                stats = await fake.wait_for_response(await fake.send_slash_command("review stats", {}, user=alice))
                fields = {f["name"]: f["value"] for f in stats.embeds[0]["fields"]}
                assert fields["Cards"] == "2" and fields["Due now"] == "0" and fields["Learned"] in ("1", "2")
                # four ratings, all learning steps: none says yet what alice remembers
                assert fields["Recalled (30 days)"] == "no learned card reviewed yet"

            assert not fake.errors
            assert_no_pings(fake)

    run(scenario, timeout=180)


def test_the_daily_reminder_goes_once_and_only_to_opted_in_users(real_index_path, real_embedder, tmp_path) -> None:
    settings = make_settings(real_index_path, tmp_path / "state.db")
    clock = {"now": datetime(2026, 3, 2, 10, 0, tzinfo=UTC)}

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["study"])
            alice, bob = fake.add_user("alice"), fake.add_user("bob")
            carol = fake.add_user("carol", accepts_dms=False)
            dave = fake.add_user("dave")
            for user in (alice, bob, carol, dave):
                fake.add_member(guild, user)
            # a long interval: the test drives the reminder loop itself
            async with running(fake, make_bot(settings, real_embedder, now=lambda: clock["now"],
                                              daily_interval=3600)) as bot:
                await fake.wait_for_command_sync()
                for user in (alice, bob, carol):
                    await fake.wait_for_response(await fake.send_slash_command("review add", {"term": "LoRA"},
                                                                               user=user))
                for user in (alice, carol, dave):  # dave opts in but has nothing due
                    reply = await fake.wait_for_response(
                        await fake.send_slash_command("review remind", {"setting": "on"}, user=user))
                    assert "at most once a day" in reply.content
                cog = bot.get_cog("Review")
                clock["now"] += timedelta(minutes=1)
                assert await cog.send_reminders() == 0  # they have just added their cards
                clock["now"] += REMINDER_QUIET
                assert await cog.send_reminders() == 1  # carol refuses DMs: her reminders are turned off
                assert await cog.send_reminders() == 0
                clock["now"] += timedelta(hours=6)
                assert await cog.send_reminders() == 0  # once a day
                clock["now"] += timedelta(days=1)
                assert await cog.send_reminders() == 1

            dms = {user.username: fake.messages_in(fake.dm_channel(user)) for user in (alice, bob, carol, dave)}
            assert len(dms["alice"]) == 2 and "1 glossary card due" in dms["alice"][0]["content"]
            # it sends her where a review counts toward her streak: a server, not the DM it is read in
            assert "in a server" in dms["alice"][0]["content"] and not re.search(r"\bhere\b", dms["alice"][0]["content"])
            assert dms["bob"] == [] and dms["carol"] == [] and dms["dave"] == []
            assert not fake.errors

    run(scenario, timeout=120)


class CountingEmbedder:
    """The real embedder, counting model calls."""

    def __init__(self, inner) -> None:
        self.inner, self.calls = inner, 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def embed_query(self, text):
        self.calls += 1
        return self.inner.embed_query(text)

    def embed_documents(self, texts, *args, **kwargs):
        self.calls += 1
        return self.inner.embed_documents(texts, *args, **kwargs)


def test_quiz_and_review_clicks_make_no_model_call(real_index_path, real_embedder, tmp_path) -> None:
    settings = make_settings(real_index_path, tmp_path / "state.db")
    embedder = CountingEmbedder(real_embedder)

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["study"])
            alice = fake.add_user("alice")
            fake.add_member(guild, alice)
            async with running(fake, make_bot(settings, embedder)):
                await fake.wait_for_command_sync()
                await fake.wait_for_response(await fake.send_slash_command("review add", {"term": "LoRA"},
                                                                           user=alice))
                before = embedder.calls
                asked = await fake.wait_for_response(await fake.send_slash_command("quiz", {}, user=alice))
                option = next(c for c in button_ids(asked.message) if c.startswith("gloss:quiz:"))
                answered = await fake.wait_for_response(await fake.click_button(asked, option, user=alice))
                front = await fake.wait_for_response(await fake.send_slash_command("review start", {}, user=alice))
                back = await fake.wait_for_response(
                    await fake.click_button(front, _button(front.message, "gloss:rev:show:"), user=alice))
                rated = await fake.wait_for_response(
                    await fake.click_button(back, _button(back.data, "gloss:rev:rate:"), user=alice))
                assert all(r.ok for r in (asked, answered, front, back, rated))
                assert embedder.calls == before
                # the count does see the model: a free-form question calls it
                await fake.wait_for_response(await fake.send_slash_command(
                    "ask", {"question": "how do you stop a network memorising its training data"}, user=alice))
                assert embedder.calls > before
            assert not fake.errors

    run(scenario, timeout=120)


async def _rate_next(fake, user, rating: str):
    """/review start, turn the card, rate it; the "All done" or next card it leads to."""
    front = await fake.wait_for_response(await fake.send_slash_command("review start", {}, user=user))
    back = await fake.wait_for_response(
        await fake.click_button(front, _button(front.message, "gloss:rev:show:"), user=user))
    rate = _button(back.data, "gloss:rev:rate:").rsplit(":", 1)[0] + f":{rating}"
    return await fake.wait_for_response(await fake.click_button(back, rate, user=user))


def test_an_again_step_brings_no_reminder_mid_review_nor_after_a_restart(real_index_path, real_embedder,
                                                                         tmp_path) -> None:
    """QA: "a review reminder can go out early for a one-minute Again step after a restart". A card
    rated Again is due a minute later; the user is mid-review, so no DM, with or without a restart.
    Once they have been away a while, the card still due brings one."""
    settings = make_settings(real_index_path, tmp_path / "state.db")
    clock = {"now": datetime(2026, 3, 2, 10, 0, tzinfo=UTC)}

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["study"])
            alice = fake.add_user("alice")
            fake.add_member(guild, alice)
            async with running(fake, make_bot(settings, real_embedder, now=lambda: clock["now"],
                                              daily_interval=3600)) as bot:
                await fake.wait_for_command_sync()
                await fake.wait_for_response(await fake.send_slash_command("review add", {"term": "LoRA"},
                                                                           user=alice))
                await fake.wait_for_response(await fake.send_slash_command("review remind", {"setting": "on"},
                                                                           user=alice))
                done = await _rate_next(fake, alice, "again")
                assert "comes back in 1 minute" in done.embeds[0]["description"]
                last_review = clock["now"]
                clock["now"] += timedelta(minutes=2)  # the card is due again, alice is mid-review
                assert await bot.get_cog("Review").send_reminders() == 0

            # a restart: the reminder loop's first check runs at once, and remembers nothing of its own
            async with running(fake, make_bot(settings, real_embedder, now=lambda: clock["now"],
                                              daily_interval=3600)) as bot:
                cog = bot.get_cog("Review")
                assert await cog.send_reminders() == 0
                assert fake.messages_in(fake.dm_channel(alice)) == []
                clock["now"] = last_review + REMINDER_QUIET  # away for a while, the card still due: now a reminder
                assert await cog.send_reminders() == 1

            dms = fake.messages_in(fake.dm_channel(alice))
            assert len(dms) == 1 and "1 glossary card due" in dms[0]["content"]
            assert not fake.errors

    run(scenario, timeout=180)


def test_a_reminder_that_fails_to_send_does_not_stop_the_others(real_index_path, real_embedder, tmp_path) -> None:
    """The reminders are claimed before they are sent: one DM whose connection drops (not an HTTP
    error) must not leave the users after it claimed but never reminded."""
    settings = make_settings(real_index_path, tmp_path / "state.db")
    clock = {"now": datetime(2026, 3, 2, 10, 0, tzinfo=UTC)}

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["study"])
            alice, bob = fake.add_user("alice"), fake.add_user("bob")  # alice's DM is tried first
            for user in (alice, bob):
                fake.add_member(guild, user)
            async with running(fake, make_bot(settings, real_embedder, now=lambda: clock["now"],
                                              daily_interval=3600)) as bot:
                await fake.wait_for_command_sync()
                await reminder_loop_idle(fake, bot)
                for user in (alice, bob):
                    await fake.wait_for_response(await fake.send_slash_command("review add", {"term": "LoRA"},
                                                                               user=user))
                    await fake.wait_for_response(
                        await fake.send_slash_command("review remind", {"setting": "on"}, user=user))
                dropped = fake.drop_next("POST", rf"/channels/{fake.dm_channel(alice).id}/messages")
                clock["now"] += REMINDER_QUIET
                assert await bot.get_cog("Review").send_reminders() == 1
                assert dropped.hits == 1

            assert fake.messages_in(fake.dm_channel(alice)) == []
            bob_dms = fake.messages_in(fake.dm_channel(bob))
            assert len(bob_dms) == 1 and "1 glossary card due" in bob_dms[0]["content"]
            assert not fake.errors

    run(scenario, timeout=120)


async def reminder_loop_idle(fake, bot) -> None:
    """Stop the reminder loop (its first check runs once the bot is ready, whenever the event loop
    gets to it): a test that sets up cards and calls send_reminders itself must not race it for
    the claim, which on a slow machine it did."""
    loop = bot.get_cog("Review").reminders
    loop.cancel()
    await fake.wait_for(lambda: not loop.is_running(), what="the reminder loop stopped")


def test_cards_whose_terms_left_the_glossary_or_were_renamed(real_index_path, real_embedder, tmp_path) -> None:
    """A glossary rebuilt since the cards were added: a term it dropped is neither shown, nor counted in
    /review stats, /stats or a reminder, and /review stats names it until the user removes it; a term
    it renamed (keeping the old name as an alias) follows its entry with its schedule and history.
    Before, such a card still counted as due: a DM said "1 card due", then /review start said "All done"."""
    settings = make_settings(real_index_path, tmp_path / "state.db")
    clock = {"now": datetime(2026, 3, 2, 10, 0, tzinfo=UTC)}
    earlier = clock["now"] - 2 * REMINDER_QUIET

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["study"])
            alice, bob = fake.add_user("alice"), fake.add_user("bob")
            for user in (alice, bob):
                fake.add_member(guild, user)
            async with running(fake, make_bot(settings, real_embedder, now=lambda: clock["now"],
                                              daily_interval=3600)) as bot:
                await fake.wait_for_command_sync()
                await reminder_loop_idle(fake, bot)
                study, names = bot.state.study, bot.searcher.names
                gone = "Phlogiston"
                assert bot.entry_named(gone) is None and not names.exactly(gone)
                lora = bot.entry_named("LoRA")  # its old name: an alias that names LoRA alone
                old = next(a for a in lora.aliases if bot.entry_named(a) is None and names.exactly(a) == [lora.id])

                # as stored before the rebuild: alice's one due card is gone; bob's is under LoRA's old name
                study.add_card(alice.id, gone, earlier)
                study.add_card(alice.id, "Attention", earlier)
                study.rate(study.next_due(alice.id, earlier, frozenset({gone})).card_id, alice.id, 0, "easy", earlier)
                study.add_card(bob.id, old, earlier)
                first = study.rate(study.next_due(bob.id, earlier).card_id, bob.id, 0, "good", earlier)
                assert first.due <= clock["now"]
                for user in (alice, bob):
                    study.set_reminder(user.id, True)

                assert await bot.get_cog("Review").send_reminders() == 1  # bob's, not alice's

                done = await fake.wait_for_response(await fake.send_slash_command("review start", {}, user=alice))
                assert done.embeds[0]["title"] == "All done" and "/review stats" in done.embeds[0]["description"]
                stats = await fake.wait_for_response(await fake.send_slash_command("review stats", {}, user=alice))
                fields = {f["name"]: f["value"] for f in stats.embeds[0]["fields"]}
                assert (fields["Due now"], fields["Due today"], fields["Cards"]) == ("0", "0", "1")
                assert gone in stats.embeds[0]["description"] and "/review remove" in stats.embeds[0]["description"]
                overall = await fake.wait_for_response(await fake.send_slash_command("stats", {}, user=alice,
                                                                                     guild=guild))
                deck = next(f["value"] for f in overall.embeds[0]["fields"] if f["name"] == "Review deck")
                assert deck.startswith("1 cards, 0 due")
                assert study.deck_terms(alice.id) == ["Attention", gone]  # set aside, not deleted
                removed = await fake.wait_for_response(
                    await fake.send_slash_command("review remove", {"term": gone.lower()}, user=alice))
                assert f"Removed **{gone}**" in removed.content
                stats = await fake.wait_for_response(await fake.send_slash_command("review stats", {}, user=alice))
                assert "description" not in stats.embeds[0] and study.deck_terms(alice.id) == ["Attention"]

                front = await fake.wait_for_response(await fake.send_slash_command("review start", {}, user=bob))
                assert front.embeds[0]["title"] == "LoRA" and "1 card due" in front.embeds[0]["footer"]["text"]
                card = _cards(bot, bob)["LoRA"]
                assert (card.card_id, card.reviews, card.due) == (first.card_id, 1, first.due)
                again = await fake.wait_for_response(
                    await fake.send_slash_command("review add", {"term": "LoRA"}, user=bob))
                assert "already in your review deck" in again.content

            dms = {user.username: fake.messages_in(fake.dm_channel(user)) for user in (alice, bob)}
            assert dms["alice"] == [] and len(dms["bob"]) == 1 and "1 glossary card due" in dms["bob"][0]["content"]
            assert not fake.errors
            assert_no_pings(fake)

    run(scenario, timeout=180)


def test_show_definition_on_a_card_whose_term_left_the_glossary_says_so(real_index_path, real_embedder,
                                                                       tmp_path) -> None:
    """The card's front is on screen when a rebuild drops its term: Show definition says that, and
    where such cards are listed, not that the card was rated already or is someone else's."""
    settings = make_settings(real_index_path, tmp_path / "state.db")

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["study"])
            alice = fake.add_user("alice")
            fake.add_member(guild, alice)
            async with running(fake, make_bot(settings, real_embedder)) as bot:
                await fake.wait_for_command_sync()
                await fake.wait_for_response(await fake.send_slash_command("review add", {"term": "Attention"},
                                                                           user=alice))
                front = await fake.wait_for_response(await fake.send_slash_command("review start", {}, user=alice))
                assert front.embeds[0]["title"] == "Attention"
                gone = "Phlogiston"
                assert bot.entry_named(gone) is None
                with bot.state.db.transaction() as conn:  # the rebuild: her card's term names no entry now
                    conn.execute("UPDATE review_cards SET term = ? WHERE user_id = ?", [gone, alice.id])
                shown = await fake.wait_for_response(
                    await fake.click_button(front, _button(front.message, "gloss:rev:show:"), user=alice))
                assert shown.data["flags"] == 64 and gone in shown.content and "left the glossary" in shown.content
                assert "rated that card already" not in shown.content
                # the place it names does list the card
                assert "/review stats" in shown.content
                stats = await fake.wait_for_response(await fake.send_slash_command("review stats", {}, user=alice))
                assert gone in stats.embeds[0]["description"]
            assert not fake.errors
            assert_no_pings(fake)

    run(scenario, timeout=120)


def test_reminders_stop_for_a_user_whose_dms_are_closed_and_their_next_review_command_says_so(
        real_index_path, real_embedder, tmp_path) -> None:
    """Discord refuses a DM to a user whose DMs are closed to the bot (403, 50007), and each refusal
    counts towards its limit on invalid requests: one refusal turns the user's reminders off, and
    their next /review command says so, once. A failure that may pass (a 503, another 403) does not."""
    settings = make_settings(real_index_path, tmp_path / "state.db")
    clock = {"now": datetime(2026, 3, 2, 10, 0, tzinfo=UTC)}

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["study"])
            carol = fake.add_user("carol", accepts_dms=False)
            dave, erin = fake.add_user("dave"), fake.add_user("erin")
            for user in (carol, dave, erin):
                fake.add_member(guild, user)

            def dm_posts(user) -> int:
                path = f"/channels/{fake.dm_channel(user).id}/messages"
                return sum(1 for r in fake.requests if r.method == "POST" and r.path == path)

            async def command(name: str, user, options: dict | None = None):
                return await fake.wait_for_response(await fake.send_slash_command(name, options or {}, user=user))

            async with running(fake, make_bot(settings, real_embedder, now=lambda: clock["now"],
                                              daily_interval=3600)) as bot:
                await fake.wait_for_command_sync()
                cog, study = bot.get_cog("Review"), bot.state.study
                for user in (carol, dave, erin):
                    await command("review add", user, {"term": "LoRA"})
                    await command("review remind", user, {"setting": "on"})
                fake.fail_next("POST", rf"/channels/{fake.dm_channel(dave).id}/messages", 503)
                fake.fail_next("POST", rf"/channels/{fake.dm_channel(erin).id}/messages", 403, code=50001)
                clock["now"] += REMINDER_QUIET
                assert await cog.send_reminders() == 0
                assert (dm_posts(carol), dm_posts(dave), dm_posts(erin)) == (1, 1, 1)
                assert not study.reminder_enabled(carol.id)
                assert study.reminder_enabled(dave.id) and study.reminder_enabled(erin.id)
                for _ in range(2):  # the days after: dave and erin are reminded, carol is not tried
                    clock["now"] += timedelta(days=1)
                    assert await cog.send_reminders() == 2
                assert (dm_posts(carol), dm_posts(dave), dm_posts(erin)) == (1, 3, 3)

                told = await command("review stats", carol)
                assert told.data["flags"] == 64 and told.content == render_study.REMINDERS_REFUSED
                assert "/review remind on" in told.content and told.embeds[0]["title"] == "Your review deck"
                for name in ("review start", "review stats"):  # once
                    assert not (await command(name, carol)).content
                assert not (await command("review stats", dave)).content

                # DMs opened and reminders turned on again: they come
                carol.accepts_dms = True
                await command("review remind", carol, {"setting": "on"})
                clock["now"] += timedelta(days=1)
                assert await cog.send_reminders() == 3

                # closed again: turned off again, and the next command to say so is /review add, then /forget-me
                carol.accepts_dms = False
                clock["now"] += timedelta(days=1)
                assert await cog.send_reminders() == 2 and not study.reminder_enabled(carol.id)
                added = await command("review add", carol, {"term": "Attention"})
                assert added.content.startswith(render_study.REMINDERS_REFUSED) and "Added" in added.content
                carol_refused_again = dm_posts(carol)
                clock["now"] += timedelta(days=1)
                await cog.send_reminders()
                assert dm_posts(carol) == carol_refused_again
                forget = await fake.send_slash_command("forget-me", {}, user=carol)
                asked = await fake.wait_for_response(forget)
                await fake.wait_for_response(await fake.click_button(asked, render_study.FORGET_YES, user=carol))
                await fake.wait_for(lambda: "Done" in (fake.original_response(forget) or {}).get("content", ""),
                                    what="the confirmation edited")
                assert bot.state.db.query("SELECT count(*) FROM review_reminders WHERE user_id = ?",
                                          [carol.id])[0][0] == 0

            assert len(fake.messages_in(fake.dm_channel(carol))) == 1
            assert not fake.errors
            assert_no_pings(fake)

    run(scenario, timeout=180)


def test_review_add_reads_the_servers_own_aliases_as_define_does(real_index_path, real_embedder, tmp_path) -> None:
    """A server alias names its entry in that server for /define; /review add reads it too (it had
    said "The glossary has no entry", found by a QA pass), and only in that server."""
    settings = make_settings(real_index_path, tmp_path / "state.db")
    now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["study"])
            other = fake.add_guild("Elsewhere", channels=["general"])
            alice = fake.add_user("alice")
            fake.add_member(guild, alice)
            fake.add_member(other, alice)
            async with running(fake, make_bot(settings, real_embedder, now=lambda: now)) as bot:
                await fake.wait_for_command_sync()
                bot.state.additions.add_alias(guild.id, "lrx", "LoRA", "h", "mod", now)
                added = await fake.wait_for_response(
                    await fake.send_slash_command("review add", {"term": "lrx"}, user=alice, guild=guild))
                assert "Added **LoRA**" in added.content, added.content
                elsewhere = await fake.wait_for_response(
                    await fake.send_slash_command("review add", {"term": "lrx"}, user=alice, guild=other))
                assert "LoRA" not in elsewhere.content.split("Did you mean")[0], elsewhere.content
                assert set(_cards(bot, alice)) == {"LoRA"}
            assert not fake.errors

    run(scenario, timeout=120)


def test_adding_or_removing_a_renamed_entry_finds_the_card_kept_under_its_old_name(
        real_index_path, real_embedder, tmp_path) -> None:
    """A card made before the keepers renamed its entry (the old name kept as an alias: "Low-Rank
    Adaptation" is LoRA's) and not reviewed since: adding the entry by its new name gave a second,
    fresh card and set the one with the learner's history aside; removing it by its new name found none."""
    settings = make_settings(real_index_path, tmp_path / "state.db")
    now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["study"])
            alice = fake.add_user("alice")
            fake.add_member(guild, alice)
            async with running(fake, make_bot(settings, real_embedder, now=lambda: now)) as bot:
                await fake.wait_for_command_sync()
                study = bot.state.study
                study.add_card(alice.id, "Low-Rank Adaptation", now - timedelta(days=30))
                card = study.next_due(alice.id, now)
                study.rate(card.card_id, alice.id, card.reviews, "good", now - timedelta(days=30), guild.id)

                async def review(action: str) -> str:
                    return (await fake.wait_for_response(await fake.send_slash_command(
                        f"review {action}", {"term": "LoRA"}, user=alice, guild=guild))).content

                assert "already in your review deck" in await review("add")
                assert study.deck_terms(alice.id) == ["LoRA"]
                assert study.next_due(alice.id, now + timedelta(days=365)).reviews == 1  # its history kept
                assert (await review("remove")).startswith("Removed **LoRA**")
                assert study.deck_terms(alice.id) == []
            assert not fake.errors

    run(scenario, timeout=120)


def test_a_dead_card_button_says_why_as_the_one_who_pressed_it_can_tell(tmp_path) -> None:
    # one reply, "already rated, or it is not yours", had met a double click and a removed card alike
    from types import SimpleNamespace

    from bot.discord_bot.cogs.review import Review
    from bot.state import StateStore

    now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    store = StateStore(tmp_path / "state.db")
    try:
        store.study.add_card(1, "LoRA", now)
        card = store.study.next_due(1, now)
        cog = Review.__new__(Review)  # only its state is read here
        cog.bot = SimpleNamespace(state=store)
        assert cog._stale_text(1, card.card_id).startswith("You rated that card already")
        assert cog._stale_text(2, card.card_id).startswith("That card is in someone else's deck")
        store.study.remove_card(1, "LoRA")
        assert cog._stale_text(1, card.card_id).startswith("That card is no longer in your deck")
    finally:
        store.close()


def test_a_learner_sets_their_time_zone_and_their_reminder_waits_for_their_morning(real_index_path, real_embedder,
                                                                                   tmp_path) -> None:
    settings = make_settings(real_index_path, tmp_path / "state.db")
    clock = {"now": datetime(2026, 3, 2, 5, 0, tzinfo=UTC)}  # 21:00 on 1 March in Los Angeles

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["study"])
            alice = fake.add_user("alice")
            fake.add_member(guild, alice)
            async with running(fake, make_bot(settings, real_embedder, now=lambda: clock["now"],
                                              daily_interval=3600)) as bot:
                await fake.wait_for_command_sync()

                async def zone(value: str | None) -> str:
                    options = {} if value is None else {"zone": value}
                    reply = await fake.wait_for_response(
                        await fake.send_slash_command("review timezone", options, user=alice))
                    assert reply.data["flags"] == 64
                    return reply.content

                assert "have not set a time zone" in await zone(None) and "**UTC**" in await zone(None)
                choices = await fake.autocomplete("review timezone", {"zone": "los ang"}, focused="zone", user=alice)
                assert choices[0]["value"] == "America/Los_Angeles"
                # a typo is met with the zone it is near, and nothing is stored
                wrong = await zone("America/Los_Angelos")
                assert "not a time zone" in wrong and "America/Los_Angeles" in wrong
                assert bot.state.study.own_zone(alice.id) is None
                assert "**@everyone**" not in await zone("@everyone")
                # a city one zone is named after is that zone, and so is a place people type
                assert "**Asia/Tokyo**" in await zone("tokyo")
                assert "**Asia/Kolkata**" in await zone("Delhi")
                delhi = await fake.autocomplete("review timezone", {"zone": "delhi"}, focused="zone", user=alice)
                assert delhi[0]["value"] == "Asia/Kolkata"
                # an offset as people write it: east is +, whatever Etc/GMT+2's POSIX sign says
                offset = await zone("GMT+2")
                assert "**UTC+02:00**" in offset and "07:00" in offset and "fixed offset" in offset
                for technical in ("Etc/GMT+2", "localtime", "UTC+15"):
                    assert "UTC+02:00" == bot.state.study.own_zone(alice.id)  # refused: nothing changes
                    assert "Your time zone is now" not in await zone(technical), technical
                chosen = await zone("America/Los_Angeles")
                assert "**America/Los_Angeles**" in chosen and "21:00" in chosen
                assert "**America/Los_Angeles**" in await zone(None)

                await fake.wait_for_response(await fake.send_slash_command("review add", {"term": "LoRA"}, user=alice))
                on = await fake.wait_for_response(
                    await fake.send_slash_command("review remind", {"setting": "on"}, user=alice))
                assert "/review timezone" not in on.content  # she has set hers
                cog = bot.get_cog("Review")
                clock["now"] += REMINDER_QUIET + timedelta(minutes=1)  # 22:01 there: night
                assert await cog.send_reminders() == 0
                clock["now"] += timedelta(hours=9)  # 07:01
                assert await cog.send_reminders() == 0
                clock["now"] += timedelta(hours=1)  # 08:01: morning
                assert await cog.send_reminders() == 1

                stats = await fake.wait_for_response(await fake.send_slash_command("stats", {}, user=alice))
                assert "America/Los_Angeles" in stats.embeds[0]["footer"]["text"]
                # where she lives is hers: another member's /stats of her does not say it
                bob = fake.add_user("bob")
                fake.add_member(guild, bob)
                hers = await fake.wait_for_response(await fake.send_slash_command("stats", {"user": alice}, user=bob))
                assert "America" not in hers.embeds[0]["footer"]["text"]
                dropped = await zone("server")
                assert "this server's time zone, **UTC**" in dropped and bot.state.study.own_zone(alice.id) is None
            assert len(fake.messages_in(fake.dm_channel(alice))) == 1
            assert not fake.errors

    run(scenario, timeout=120)


def test_a_learner_takes_their_deck_to_anki_as_a_file(real_index_path, real_embedder, tmp_path) -> None:
    settings = make_settings(real_index_path, tmp_path / "state.db")

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Study Group", channels=["study"])
            alice = fake.add_user("alice")
            fake.add_member(guild, alice)
            async with running(fake, make_bot(settings, real_embedder)) as bot:
                await fake.wait_for_command_sync()
                empty = await fake.wait_for_response(await fake.send_slash_command("review export", {}, user=alice))
                assert "deck is empty" in empty.content and not empty.message.get("attachments")
                for term in ("LoRA", "KV cache"):
                    await fake.wait_for_response(await fake.send_slash_command("review add", {"term": term},
                                                                               user=alice))
                reply = await fake.wait_for_response(await fake.send_slash_command("review export", {}, user=alice))
                assert reply.data["flags"] == 64 and "2 cards" in reply.content and "File → Import" in reply.content
                (attachment,) = reply.message["attachments"]
                assert attachment["filename"].endswith(".txt")
                text = fake.attachment_bytes(attachment).decode("utf-8")
                headers = [line for line in text.splitlines() if line.startswith("#")]
                notes = [line.split("\t") for line in text.splitlines() if not line.startswith("#")]
                assert "#separator:tab" in headers and "#html:true" in headers
                assert sorted(front for front, _back, _tags in notes) == ["KV cache", "LoRA"]
                lora = next(back for front, back, _tags in notes if front == "LoRA")
                definition = bot.searcher.entry_now_named("LoRA").definition
                assert lora.startswith(html.escape(definition.split("\n")[0].strip())) and "\n" not in lora
            assert not fake.errors

    run(scenario, timeout=120)
