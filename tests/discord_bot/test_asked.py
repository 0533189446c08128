"""The study cog's memory of recent messages: bounded, never mistaking a forgotten message for
one the bot said nothing to, and backed by the state database for those it cannot vouch for."""

from __future__ import annotations

import asyncio
import gc

from bot.discord_bot.asked import Asked, AskedMessages
from bot.state import StateStore


def _asked(created: float) -> Asked:
    return Asked(("what is lora?", False), created, True, None, None)


def test_the_oldest_are_forgotten_and_older_messages_count_as_unknown() -> None:
    asked = AskedMessages(since=100.0, size=2)
    assert not asked.may_be_new(99.0) and asked.may_be_new(101.0)  # from before the start: unknown
    for message_id, created in ((1, 110.0), (2, 120.0), (3, 130.0)):
        asked.put(message_id, _asked(created))
    assert len(asked) == 2 and asked.get(1) is None and asked.get(2) is not None
    # 1 (created at 110) was forgotten: a message not kept and no newer than it may have had a reply
    assert not asked.may_be_new(110.0) and asked.may_be_new(111.0)
    asked.put(4, _asked(140.0))  # 2 was used last: 3 goes
    assert asked.get(3) is None and asked.get(2) is not None and not asked.may_be_new(130.0)
    asked.forget(2)
    assert asked.get(2) is None and asked.may_be_new(131.0)  # forgotten on purpose: no horizon change


def test_a_forgotten_authors_messages_count_as_perhaps_answered() -> None:
    """/forget-me drops the user's messages; an edit of one within the edit window must not be
    answered as a new question (a second reply under it, found by a QA pass)."""
    asked = AskedMessages(since=100.0)
    asked.put(1, Asked(("what is lora?", False), 110.0, True, 11, None, author_id=7))
    asked.put(2, Asked(("what is adam?", False), 120.0, True, 12, None, author_id=8))
    asked.forget_author(7)
    assert asked.get(1) is None and asked.get(2) is not None
    assert not asked.may_be_new(110.0) and asked.may_be_new(111.0)


def test_one_lock_per_message_while_anyone_holds_it() -> None:
    async def scenario() -> None:
        asked = AskedMessages(since=0.0)
        lock = asked.lock(1)
        assert asked.lock(1) is lock and asked.lock(2) is not lock
        order: list[str] = []

        async def turn(name: str) -> None:
            async with asked.lock(1):
                order.append(name)
                await asyncio.sleep(0)

        await asyncio.gather(turn("message"), turn("first edit"), turn("second edit"))
        assert order == ["message", "first edit", "second edit"]
        del lock
        gc.collect()
        assert len(asked._locks) == 0  # dropped once nobody holds or awaits it

    asyncio.run(scenario())


def test_the_state_database_answers_for_what_memory_cannot_vouch_for(tmp_path) -> None:
    """Written through; read back only for a message from before memory's horizon (a restart)
    that may still be edited: a newer one memory lacks got nothing, an older one is past editing."""
    store = StateStore(tmp_path / "state.db")
    clock = {"now": 1000.0}

    def memory(since: float) -> AskedMessages:
        return AskedMessages(since=since, records=store.asked, keep_for=300.0, clock=lambda: clock["now"])

    async def scenario() -> None:
        first = memory(since=900.0)
        await first.keep(1, Asked(("what is lora?", False), 950.0, True, 11, None, author_id=7))
        await first.keep(2, Asked(("what is adam?", False), 990.0, True, 12, None, author_id=8))
        restarted = memory(since=1000.0)
        assert (await restarted.recall(1, 950.0)).reply_id == 11
        assert restarted.get(1) is not None  # read once, then kept
        store.asked.delete(2)
        assert await restarted.recall(2, 990.0) is None
        await restarted.keep(3, Asked(("what is qlora?", False), 1010.0, True, 13, None, author_id=7))
        assert await memory(since=1000.0).recall(3, 1010.0) is None  # newer than the start: memory's to say
        clock["now"] = 1251.0
        assert await memory(since=1300.0).recall(1, 950.0) is None  # 301 s old: past editing, not read
        restarted.forget_author(7)
        assert restarted.get(1) is None and restarted.get(3) is None
        await restarted.drop(3)
        assert store.asked.load(3) is None

    try:
        asyncio.run(scenario())
    finally:
        store.close()
