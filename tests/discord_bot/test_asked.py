"""The study cog's memory of recent messages: bounded, and never mistaking a forgotten
message for one the bot said nothing to."""

from __future__ import annotations

import asyncio
import gc

from bot.discord_bot.asked import Asked, AskedMessages


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
