"""Smaller behaviours: question detection, slow searches defer, bad token exits cleanly."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import discord
import pytest

from bot.discord_bot.cogs.study import looks_like_question
from bot.discord_bot.ui import RESPOND_WITHIN, time_left
from tests.fake_discord import CallbackType, FakeDiscord

from .helpers import (
    assert_no_pings,
    make_bot,
    make_settings,
    run,
    running,
    start_bot_process,
)


def test_looks_like_question() -> None:
    assert looks_like_question("what is attention")
    assert looks_like_question("attention?")
    assert looks_like_question("How does LoRA work")
    assert not looks_like_question("thanks everyone")
    assert not looks_like_question("")


@pytest.mark.parametrize("text", [
    "lora vs qlora", "adam vs adamw vs sgd", "bf16 vs. fp16", "Compare adam, adamw and sgd",
    "difference between lora and qlora", "diff between bf16 and fp16",
    "wat is grpo", "wats grpo", "whats grpo", "wut is rlhf", "hw does lora work",
    # led in as in a conversation, or asked after the context (QA74)
    "and what about qlora", "also what is gqa", "wait so what is gqa", "know what a kv cache is",
    "expalin kl divergance", "my loss spikes then slowly recovers, what is that",
])
def test_comparisons_and_misspelt_question_words_are_questions(text) -> None:
    assert looks_like_question(text)


@pytest.mark.parametrize("text", [
    "good morning all", "see you later", "lol", "wut", "wat", "brb", "me too", "nice one",
    "hw is due friday", "I compared lora and qlora yesterday", "that was the difference",
    "opened it in vs code", "the vs",
    "wait what", "and then i went home", "also i like pizza", "ok cool", "know the answer", "anyone up for lunch",
    # remarks led in the same way (review 55: a reply to the bot got a public "doesn't cover")
    "and is it just me or is discord slow today", "but when i tried it my gpu ran out of memory",
    "also where i work we just use xgboost", "but does it matter, the perplexity is fine anyway",
    "so what i did was run it again", "and which is why it failed",
])
def test_chatter_stays_chatter(text) -> None:
    assert not looks_like_question(text)


@pytest.mark.parametrize(("age", "left"), [(0.0, RESPOND_WITHIN), (1.5, RESPOND_WITHIN - 1.5), (5.0, 0.0),
                                           (-30.0, RESPOND_WITHIN)])
def test_defer_deadline_counts_from_the_interaction_creation(age: float, left: float) -> None:
    """An interaction that waited in a backlog before its handler ran has less time left;
    a clock behind Discord's (negative age) never gives more than the full limit."""
    created = SimpleNamespace(created_at=discord.utils.utcnow() - timedelta(seconds=age))
    assert time_left(created) == pytest.approx(left, abs=0.05)


def test_slow_search_defers_then_follows_up(real_index_path, real_embedder, tmp_path) -> None:
    settings = make_settings(real_index_path, tmp_path / "state.db")

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            fake.add_guild()
            async with running(fake, make_bot(settings, real_embedder)) as bot:
                await fake.wait_for_command_sync()
                cog = bot.get_cog("Lookup")
                fast = cog._answer

                def slow(query: str, *context):
                    time.sleep(2.3)
                    return fast(query, *context)

                cog._answer = slow
                inter = await fake.send_slash_command("define", {"term": "attention"})
                cb = await fake.wait_for_response(inter)
                assert cb.ok and cb.type == CallbackType.DEFERRED_CHANNEL_MESSAGE
                followup = await fake.wait_for_followup(inter, timeout=30)
                assert followup.status == 200 and followup.message["embeds"][0]["title"] == "Attention"
                assert_no_pings(fake)

    run(scenario, timeout=120)


def test_rejected_token_is_one_line_and_exit_78(real_index_path, tmp_path) -> None:
    async def scenario() -> None:
        async with FakeDiscord(token="the-right-token") as fake:
            proc = await start_bot_process(fake, tmp_path, real_index_path, tmp_path / "state.db",
                                           token="a.wrong.token")
            _out, err = await asyncio.wait_for(proc.communicate(), 60)
            assert proc.returncode == 78  # EX_CONFIG: restarting cannot fix it
            text = err.decode()
            assert "Discord rejected DISCORD_TOKEN" in text and "Traceback" not in text
            assert "a.wrong.token" not in text

    run(scenario, timeout=90)


def test_today_in_a_dm_is_the_consoles_pick_for_that_date(real_index_path, real_embedder, tmp_path) -> None:
    from bot.console import handle_line
    from bot.glossary.daily import daily_entries, term_of_the_day

    settings = make_settings(real_index_path, tmp_path / "state.db")
    now = datetime(2026, 5, 17, 12, 0, tzinfo=UTC)

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            fake.add_guild()
            user = fake.add_user("dm-user")
            async with running(fake, make_bot(settings, real_embedder, now=lambda: now)) as bot:
                await fake.wait_for_command_sync()
                cb = await fake.wait_for_response(
                    await fake.send_slash_command("today", user=user, channel=fake.dm_channel(user)))
                entries = bot.searcher.index.entries
                expected = entries[term_of_the_day(daily_entries(entries), now.date())].term
                assert cb.ok and cb.embeds[0]["title"] == expected
                assert "2026-05-17" in cb.content
                assert expected in handle_line(bot.searcher, "/today", today=now.date())

    run(scenario, timeout=120)


def test_a_long_question_is_logged_as_it_was_searched() -> None:
    """Review 55: answered from its last question, a long message was logged by its first 1,000
    characters, so the gaps report and the votes named the context, not what was asked."""
    from bot.discord_bot.bot import _as_searched

    context = "I have been reading the DPO paper, which folds the reward model into the policy objective. " * 13
    logged = _as_searched(context + "Unrelated, but what is PPO?")
    assert logged.endswith("what is PPO?") and len(logged) <= 1000
    assert _as_searched("what is lora?\nand qlora") == "what is lora?\nand qlora"  # as typed when short
