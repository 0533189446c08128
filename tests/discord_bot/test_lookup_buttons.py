"""Buttons on /define and /ask replies after the keepers rebuilt the glossary, and while the
search pool is busy (found by the third QA pass)."""

from __future__ import annotations

import asyncio
import shutil
import time

import pytest

from bot.discord_bot.ui import in_search_pool
from tests.conftest import GLOSSARY

from .helpers import button_ids, make_bot, make_settings, run, running
from tests.fake_discord import FakeDiscord

UPDATE_MESSAGE = 7
REMOVED_TERM = "Multi-LoRA"  # LoRA's answer has a button for it
LONG_TERM = "Training stability handbook"  # several pages on Discord


@pytest.fixture(scope="module")
def edited_glossary(tmp_path_factory, real_index_path, real_embedder):
    """(glossary, index) after a keepers' rebuild: Multi-LoRA removed, a long entry added. From a
    copy of the real index, so only the new entry is embedded."""
    from bot.glossary.index import build_index

    folder = tmp_path_factory.mktemp("edited")
    for source in GLOSSARY.parent.glob("glossary.*"):
        shutil.copy(source, folder / source.name)
    glossary = folder / "glossary.txt"
    lines = glossary.read_text(encoding="utf-8").split("\n")
    at = lines.index(REMOVED_TERM)
    del lines[at:at + 2]
    paragraph = ("When the loss spikes, check the warmup, the clipping threshold and the data order; one batch "
                 "of very long sequences can blow up the activations. ")
    at = next(i for i in range(2, len(lines), 2) if lines[i] > LONG_TERM)
    lines[at:at] = [LONG_TERM, "\n".join(f"Step {n}. " + paragraph * 3 for n in range(1, 30))]
    glossary.write_text("\n".join(lines), encoding="utf-8")
    index = folder / "index.db"
    shutil.copy(real_index_path, index)
    build_index(index, glossary, real_embedder)
    return glossary, index


def _world(fake):
    guild = fake.add_guild("Study Group", channels=["general"])
    alice = fake.add_user("alice")
    fake.add_member(guild, alice)
    return alice, guild.channel("general")


async def _define(fake, user, channel, term):
    return await fake.wait_for_response(
        await fake.send_slash_command("define", {"term": term}, user=user, channel=channel), timeout=30)


def test_a_button_for_an_entry_that_left_the_glossary_says_so_instead_of_showing_another(
        real_index_path, real_embedder, edited_glossary, tmp_path) -> None:
    # The button's name went to a search, whose best guess (Lorax / S-LoRA) was posted publicly as if
    # the button had named it.
    glossary, index = edited_glossary
    state_path = tmp_path / "state.db"

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            alice, general = _world(fake)
            async with running(fake, make_bot(make_settings(real_index_path, state_path), real_embedder)):
                await fake.wait_for_command_sync()
                lora = await _define(fake, alice, general, "LoRA")
                assert f"gloss:show:{REMOVED_TERM}" in button_ids(lora.message)
            async with running(fake, make_bot(make_settings(index, state_path, glossary_path=glossary),
                                              real_embedder)):
                shown = await fake.wait_for_response(
                    await fake.click_button(lora, f"gloss:show:{REMOVED_TERM}", user=alice), timeout=30)
                assert not shown.data.get("embeds")
                assert f"“{REMOVED_TERM}” is no longer in the glossary" in shown.data.get("content", "")

    run(scenario, timeout=300)


def test_next_page_of_an_entry_that_left_the_glossary_shows_no_other_entrys_text(
        real_index_path, real_embedder, edited_glossary, tmp_path) -> None:
    # It kept the old title over page 1 of whatever a search found for the name (Warmup).
    glossary, index = edited_glossary
    state_path = tmp_path / "state.db"

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            alice, general = _world(fake)
            async with running(fake, make_bot(make_settings(index, state_path, glossary_path=glossary),
                                              real_embedder)):
                await fake.wait_for_command_sync()
                long = await _define(fake, alice, general, LONG_TERM)
                assert " · page 1/" in long.message["embeds"][0]["footer"]["text"]
            async with running(fake, make_bot(make_settings(real_index_path, state_path), real_embedder)):
                turned = await fake.wait_for_response(
                    await fake.click_button(long, f"gloss:page:1:{LONG_TERM}", user=alice), timeout=30)
                assert turned.type != UPDATE_MESSAGE and not turned.data.get("embeds")
                assert "no longer in the glossary" in turned.data.get("content", "")

    run(scenario, timeout=300)


def test_next_page_turns_the_page_while_the_search_pool_is_busy(real_embedder, edited_glossary, tmp_path) -> None:
    # Past 2 s in the search pool's queue the click was deferred as a new message, and a public copy
    # of page 1 was posted instead of the page turned.
    glossary, index = edited_glossary
    state_path = tmp_path / "state.db"

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            alice, general = _world(fake)
            async with running(fake, make_bot(make_settings(index, state_path, glossary_path=glossary),
                                              real_embedder)):
                await fake.wait_for_command_sync()
                long = await _define(fake, alice, general, LONG_TERM)
                posted = len(fake.channel_messages)
                busy = asyncio.ensure_future(in_search_pool(time.sleep, 4))  # a queue of questions ahead
                turned = await fake.wait_for_response(
                    await fake.click_button(long, f"gloss:page:1:{LONG_TERM}", user=alice), timeout=30)
                assert turned.type == UPDATE_MESSAGE
                assert turned.data["embeds"][0]["footer"]["text"].split(" · page ")[1].startswith("2/")
                await busy
                await asyncio.sleep(0.5)
                assert len(fake.channel_messages) == posted  # no copy of the entry posted anew

    run(scenario, timeout=300)
