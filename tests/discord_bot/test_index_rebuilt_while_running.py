"""An admin edits the glossary and builds while the bot runs (QA65): the bot serves the new index
within its check interval, and never the old entries with the new keyword numbering meanwhile."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import sqlite3
import subprocess
import sys

import pytest

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


FRESH_QUESTIONS = ["what is a variational autoencoder?", "why does dropout help against overfitting?",
                   "what does the softmax temperature do?", "what is beam search decoding?"]


def _kill_a_build_mid_commit(index) -> None:
    """What a build SIGKILLed in its final write leaves (the OOM killer, `docker stop` past its grace):
    a hot journal, and pages half rewritten."""
    child = subprocess.Popen([sys.executable, "-c", f"""
import sqlite3, time
c = sqlite3.connect({str(index)!r})
c.execute('PRAGMA cache_size=5')  # a real rewrite spills the cache into the file too
c.execute('BEGIN')
c.execute('DELETE FROM postings'); c.execute('DELETE FROM entries')
c.execute("UPDATE meta SET value='half' WHERE key='fingerprint'")
print('writing', flush=True); time.sleep(60)
"""], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "writing"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()


def _copy_a_truncated_backup_over(index) -> None:
    """`cp backup/index.db data/index.db` from a backup cut short: the same file, rewritten in place."""
    data = index.read_bytes()
    with open(index, "r+b") as handle:
        handle.write(data[: len(data) // 3])
        handle.truncate()


@pytest.mark.parametrize(("damage", "named"), [(_kill_a_build_mid_commit, False), (_copy_a_truncated_backup_over, True)])
def test_an_index_file_broken_under_the_running_bot_costs_no_answer_and_no_traceback(
        real_index_path, real_embedder, tmp_path, caplog, damage, named) -> None:
    # Each question with a word not read before failed ("Something went wrong", a traceback) until a
    # restart, and nothing said why (QA66). A killed build is rolled back (as at start-up), so there is
    # nothing to say; a damaged file is named in the log.
    index = tmp_path / "index.db"
    shutil.copy(real_index_path, index)

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            fake.add_guild("Study Group")
            bot = make_bot(make_settings(index, tmp_path / "state.db"), real_embedder, index_check=0.2)
            async with running(fake, bot):
                await fake.wait_for_command_sync()
                assert "Gradient checkpointing" in await _ask(fake, "how do I recompute activations to save memory?")
                await asyncio.to_thread(damage, index)
                journal = index.with_name(index.name + "-journal")
                for _ in range(300):  # the check rolls a killed build's write back (as start-up does)
                    await asyncio.sleep(0.1)
                    if not (journal.is_file() and journal.stat().st_size):
                        break
                await asyncio.sleep(0.5)  # and a check or two after that
                for question in FRESH_QUESTIONS:  # words whose postings are not read yet
                    assert "went wrong" not in await _ask(fake, question)

    with caplog.at_level(logging.WARNING):
        run(scenario, timeout=300)
    assert not [r.getMessage() for r in caplog.records if r.exc_info]
    assert named == any(str(index) in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)


async def _ask(fake, question: str) -> str:
    reply = await fake.wait_for_response(await fake.send_slash_command("ask", {"question": question}), timeout=30)
    embeds = reply.data.get("embeds") or []
    return embeds[0]["title"] if embeds else reply.data.get("content", "")


def test_an_entry_found_before_a_reload_gets_no_other_entrys_related_terms(tmp_path) -> None:
    # A search on the index served before the swap, its entry rendered with the new one's: entry
    # ids are positions in the file, so the related terms were another entry's (review of QA65's fix).
    import types

    from bot.discord_bot.bot import GlossaryBot
    from bot.glossary.search import Searcher
    from bot.glossary.store import GlossaryIndex
    from tests.conftest import FakeEmbedder
    from tests.glossary.test_index import SMALL

    glossary = tmp_path / "glossary.txt"
    glossary.write_text(SMALL, encoding="utf-8")
    build_index(tmp_path / "before.db", glossary, FakeEmbedder(), bank_files=())
    glossary.write_text(SMALL.replace("Attention\n", "Adapter\nA small trainable module.\nAttention\n"), encoding="utf-8")
    build_index(tmp_path / "after.db", glossary, FakeEmbedder(), bank_files=())
    before = Searcher(GlossaryIndex(tmp_path / "before.db"), FakeEmbedder())
    after = Searcher(GlossaryIndex(tmp_path / "after.db"), FakeEmbedder())
    lora = before.index.by_term["LoRA (Low-Rank Adaptation)"]
    assert after.index.entries[lora.id].term != lora.term  # the same id is another entry now

    bot = types.SimpleNamespace(searcher=after)
    answer = GlossaryBot.answer_entry(bot, lora)
    assert answer.entry is lora and answer.related == []
    bot.searcher = before
    assert [r.entry.term for r in GlossaryBot.answer_entry(bot, lora).related] == ["Attention", "softmax"]


def test_an_index_rebuilt_for_another_model_is_not_served_and_is_warned_of_once(
        real_index_path, real_embedder, tmp_path, caplog) -> None:
    # An admin builds with another GLOSSARY_MODEL while the bot runs: its vectors mean nothing to this
    # bot's model, so the bot keeps the entries it has and says why, once, not at every check.
    index = tmp_path / "index.db"
    shutil.copy(real_index_path, index)

    def built_for_another_model() -> None:
        with sqlite3.connect(index) as conn:
            conn.execute("UPDATE meta SET value = 'another/model@1' WHERE key = 'model'")
            conn.execute("UPDATE meta SET value = 'another-build' WHERE key = 'fingerprint'")

    async def scenario() -> None:
        async with FakeDiscord() as fake:
            fake.add_guild("Study Group")
            bot = make_bot(make_settings(index, tmp_path / "state.db"), real_embedder, index_check=0.1)
            async with running(fake, bot):
                await fake.wait_for_command_sync()
                served = bot.searcher
                assert "Gradient checkpointing" in await _ask(fake, "how do I recompute activations to save memory?")
                await asyncio.to_thread(built_for_another_model)
                checks = bot.get_cog("Lookup").index_watch
                seen = checks.current_loop
                await fake.wait_for(lambda: checks.current_loop >= seen + 5, timeout=30, what="five more checks")
                assert bot.searcher is served
                assert "Gradient checkpointing" in await _ask(fake, "what trades recomputation for memory?")

    with caplog.at_level(logging.WARNING):
        run(scenario, timeout=120)
    refused = [r.getMessage() for r in caplog.records if "cannot be served" in r.getMessage()]
    assert len(refused) == 1 and "another/model@1" in refused[0], refused
    assert not [r.getMessage() for r in caplog.records if r.exc_info]
