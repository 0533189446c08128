"""What the study cog did with each recent message, so that an edit of it can be answered again.

A bounded LRU of message id → `Asked` (the question as the bot read it, its reply, the question
logged for it), written through to the state database (`StateStore.asked`, rows that expire
with the edit window), and a lock per message, so a message and its edits are handled one at
a time, in the order Discord sent them. Memory answers for everything this process handled
and still holds; the database for the rest (a message from before a restart, or forgotten
here) while it may still be edited. A message found in neither and no newer than what memory
is sure of (`may_be_new`) is left alone: it may have had a reply whose row was not written.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections import OrderedDict
from collections.abc import Callable

from ..state.asked import Asked, AskedRecords
from .ui import in_quick_pool

__all__ = ["KEPT", "Asked", "AskedMessages"]
log = logging.getLogger(__name__)
# One entry per message that was searched or got a reply: a person's searches are bounded
# (study.py: at most 10 a minute in study channels, one per 10 s asked directly), and people
# asking at a human pace, a question a minute, make 5 each in the edit window (5 min), so
# 1,000 hold 200 of them. Past that the oldest are forgotten here (the database still has them).
KEPT = 1000


class ForgetRequests:
    """When each user lately ran /forget-me (Unix time, Discord's clock): a question of theirs from
    before it that was still being answered is neither logged nor remembered after they were told
    everything is gone. Kept for an hour, far longer than any answer takes."""

    KEPT = 3600.0

    def __init__(self) -> None:
        self._at: dict[int, float] = {}

    def add(self, user_id: int, at: float) -> None:
        for gone in [u for u, when in self._at.items() if at - when > self.KEPT]:
            del self._at[gone]
        self._at[user_id] = at

    def cover(self, user_id: int, asked_at: float) -> bool:
        """Whether something the user asked at `asked_at` came before their /forget-me."""
        return asked_at <= self._at.get(user_id, float("-inf"))


class AskedMessages:
    def __init__(self, since: float, size: int = KEPT, *, records: AskedRecords | None = None,
                 keep_for: float = 0.0, clock: Callable[[], float] | None = None,
                 forgotten: ForgetRequests | None = None) -> None:
        """`records`: the state database's copy (None: memory only); `keep_for`: seconds after a
        message's creation that what was said to it matters (the edit window); `clock`: Unix time now;
        `forgotten`: the bot's /forget-me times."""
        self.size = size
        # Messages created before this may have been answered by a process that is gone, or
        # by this one and then forgotten: memory cannot tell that they got nothing.
        self.horizon = since
        self.records, self.keep_for = records, keep_for
        self.clock = clock
        self._items: OrderedDict[int, Asked] = OrderedDict()
        self.forgotten = forgotten or ForgetRequests()
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, message_id: int) -> Asked | None:
        asked = self._items.get(message_id)
        if asked is not None:
            self._items.move_to_end(message_id)
        return asked

    def put(self, message_id: int, asked: Asked) -> None:
        self._items[message_id] = asked
        self._items.move_to_end(message_id)
        while len(self._items) > self.size:
            _, forgotten = self._items.popitem(last=False)
            self.horizon = max(self.horizon, forgotten.created)

    def forget(self, message_id: int) -> None:
        self._items.pop(message_id, None)

    def forget_author(self, author_id: int, at: float | None = None) -> None:
        """/forget-me (at `at`, Unix time, recorded in `forgotten` by the caller): memory lets go of the
        user's messages as the database does. They may have had a reply, as an evicted message may,
        and one still being answered is not kept: an edit of one must not be answered as a new question."""
        for message_id in [m for m, asked in self._items.items() if asked.author_id == author_id]:
            self.horizon = max(self.horizon, self._items.pop(message_id).created)
        if at is not None:
            self.horizon = max(self.horizon, at)

    def may_be_new(self, created: float) -> bool:
        """Whether a message not in memory certainly got no reply (nor took a cooldown) from us."""
        return created > self.horizon

    # -- with the state database ----------------------------------------------------------------

    async def recall(self, message_id: int, created: float) -> Asked | None:
        """What was said to the message: from memory, else (a message memory is not sure of, still
        within `keep_for`) from the database, read once and then kept in memory."""
        asked = self.get(message_id)
        if asked is not None or self.records is None or self.may_be_new(created):
            return asked
        if self.clock is not None and self.clock() - created > self.keep_for:
            return None  # too old to be edited: no read for it (a busy server deletes old messages too)
        asked = await in_quick_pool(self.records.load, message_id)
        if asked is not None:
            self.put(message_id, asked)
        return asked

    async def keep(self, message_id: int, asked: Asked) -> None:
        """Remember what was said to the message, here and in the database; not when its author
        ran /forget-me while it was being answered."""
        if self.forgotten.cover(asked.author_id, asked.created):
            return
        self.put(message_id, asked)
        if self.records is None:
            return
        now = self.clock() if self.clock is not None else asked.created
        try:
            await in_quick_pool(self.records.save, message_id, asked, asked.created + self.keep_for, now)
        except Exception:  # noqa: BLE001 - the reply is out; memory still has it, a restart will not
            log.warning("could not store what was said to message %s", message_id, exc_info=True)

    async def drop(self, message_id: int) -> None:
        self.forget(message_id)
        if self.records is not None:
            try:
                await in_quick_pool(self.records.delete, message_id)
            except Exception:  # noqa: BLE001 - the row expires with its edit window anyway
                log.warning("could not drop what was said to message %s", message_id, exc_info=True)

    def lock(self, message_id: int) -> asyncio.Lock:
        """The message's lock: kept while anyone holds or awaits it, then dropped."""
        lock = self._locks.get(message_id)
        if lock is None:
            lock = self._locks[message_id] = asyncio.Lock()
        return lock
