"""An admin edits the glossary and builds while the bot runs (QA65): the bot serves the new index
within its check interval, and never the old entries with the new keyword numbering meanwhile."""

from __future__ import annotations

import asyncio
import shutil

from bot.glossary.index import build_index
from tests.conftest import GLOSSARY
from tests.fake_discord import FakeDiscord

from .helpers import make_bot, make_settings, run, running

NEW_TERM = "Aardvark regularizer"  # first in the file: every entry after it is numbered anew
NEW_TEXT = "A made-up penalty that keeps the weights of an anteater-shaped network small."


def test_a_glossary_built_again_while_the_bot_runs_is_served_without_a_restart(
        real_index_path, real_embedder, tmp_path) -> None:
    for source in GLOSSARY.parent.glob("glossary.*"):
        shutil.copy(source, tmp_path / source.name)
    glossary, index = tmp_path / "glossary.txt", tmp_path / "index.db"
    shutil.copy(real_index_path, index)
    lines = glossary.read_text(encoding="utf-8").split("\n")
    first = lines.index("(2+1)D")  # the first entry, after the header
    lines[first:first] = [NEW_TERM, NEW_TEXT]

    async def ask(fake, question):
        reply = await fake.wait_for_response(await fake.send_slash_command("ask", {"question": question}), timeout=30)
        embeds = reply.data.get("embeds") or []
        return embeds[0]["title"] if embeds else reply.data.get("content", "")

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            fake.add_guild("Study Group")
            bot = make_bot(make_settings(index, tmp_path / "state.db", glossary_path=glossary), real_embedder,
                           index_check=0.2)
            async with running(fake, bot):
                await fake.wait_for_command_sync()
                served = bot.searcher
                assert "Gradient checkpointing" in await ask(fake, "how do I recompute activations to save memory?")
                glossary.write_text("\n".join(lines), encoding="utf-8")
                await asyncio.to_thread(build_index, index, glossary, real_embedder)
                # Before the bot has looked again: what it serves is still the old index, whole.
                assert "Gradient checkpointing" in await ask(fake, "what trades recomputation for memory?")
                for _ in range(100):
                    if bot.searcher is not served:
                        break
                    await asyncio.sleep(0.1)
                assert bot.searcher is not served
                assert NEW_TERM in await ask(fake, "what penalty keeps an anteater-shaped network's weights small?")
                assert "Gradient checkpointing" in await ask(fake, "what trades recomputation for memory?")

    run(scenario, timeout=300)
