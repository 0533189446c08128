"""Operations (issue 14): /metrics counts interactions by command and outcome band and times
searches and replies; /healthz is 200 only while the model is loaded and the gateway is
connected."""

from __future__ import annotations

import asyncio

import aiohttp

from bot.discord_bot.metrics import bound_port
from tests.fake_discord import FakeDiscord

from .helpers import make_bot, make_settings, run, running


def test_metrics_and_health(real_index_path, real_embedder, tmp_path) -> None:
    settings = make_settings(real_index_path, tmp_path / "state.db", metrics_port=0)

    async def scenario() -> None:
        async with FakeDiscord() as fake, aiohttp.ClientSession() as http:
            guild = fake.add_guild("Study Group", channels=["study"])
            alice = fake.add_user("alice")
            fake.add_member(guild, alice)
            async with running(fake, make_bot(settings, real_embedder)) as bot:
                await fake.wait_for_command_sync()
                base = f"http://127.0.0.1:{bound_port(bot._metrics_server)}"
                async with http.get(f"{base}/healthz") as response:
                    assert response.status == 200 and (await response.text()).strip() == "ok"

                await fake.wait_for_response(await fake.send_slash_command("define", {"term": "attention"},
                                                                           user=alice))
                await fake.wait_for_response(await fake.send_slash_command(
                    "ask", {"question": "how do I bake sourdough bread?"}, user=alice))
                await fake.wait_for_response(await fake.send_slash_command("quiz", {}, user=alice))
                # Counted when the command completes, which can come just after its reply on a busy machine.
                for _ in range(100):
                    async with http.get(f"{base}/metrics") as response:
                        text = await response.text()
                    if 'command="quiz"' in text:
                        break
                    await asyncio.sleep(0.05)
                assert 'glossary_interactions_total{command="define",outcome="answer"} 1.0' in text
                assert 'glossary_interactions_total{command="ask",outcome="not_found"} 1.0' in text
                assert 'glossary_interactions_total{command="quiz",outcome="ok"} 1.0' in text
                assert 'glossary_answers_total{band="not_found"}' in text
                assert "glossary_search_seconds_count" in text and "glossary_reply_seconds_bucket" in text
                assert 'glossary_gateway_latency_seconds{shard="0"}' in text
                assert "glossary_shards_connected 1.0" in text

                bot.glossary.model._embedder, model = None, bot.glossary.model._embedder
                async with http.get(f"{base}/healthz") as response:
                    assert response.status == 503 and "model" in await response.text()
                bot.glossary.model._embedder = model
            assert not fake.errors

    run(scenario, timeout=120)


def test_the_health_probe_asks_the_state_off_the_quick_pool_once_at_a_time_and_keeps_its_answer(tmp_path) -> None:
    """Review 54b: the probe ran in the quick pool, where the commands' state work queues: a busy pool
    read as a database gone, and each check of an outage held it up to 3 s."""
    import threading
    import time
    from types import SimpleNamespace

    from bot.discord_bot import metrics
    from bot.discord_bot.ui import in_quick_pool
    from bot.state import StateStore

    store = StateStore(tmp_path / "state.db")
    asked, hang = [], threading.Event()
    real_query = store.db.query

    def query(sql, params=()):
        if sql == "SELECT 1":
            asked.append(sql)
            if not hang.is_set():
                time.sleep(5)  # a database that does not answer
        return real_query(sql, params)

    store.db.query = query
    probe = metrics.StateProbe(SimpleNamespace(state=store))

    async def scenario() -> None:
        hang.set()
        busy = asyncio.ensure_future(in_quick_pool(time.sleep, 4))  # the quick pool held by a long job
        started = time.monotonic()
        assert await probe.problem() is None and time.monotonic() - started < 2  # not behind it
        assert len(asked) == 1 and await probe.problem() is None and len(asked) == 1  # its answer, kept
        await busy
        probe._answer = (time.monotonic() - metrics.STATE_PROBE_FRESH - 1, None)  # stale now
        hang.clear()
        hung = await asyncio.gather(probe.problem(), probe.problem())  # two checks at once: one question
        assert all(p and "no answer in 3 s" in p for p in hung), hung
        assert len(asked) == 2
        for _ in range(50):  # the hung question ends in its own time, and its answer is kept
            if probe._running is None:
                break
            await asyncio.sleep(0.1)
        assert await probe.problem() is None and len(asked) == 2

    try:
        asyncio.run(scenario())
    finally:
        store.close()
