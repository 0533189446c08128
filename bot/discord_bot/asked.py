"""What the study cog did with each recent message, so that an edit of it can be answered again.

In memory only: a bounded LRU of message id → `Asked` (the question as the bot read it, its
reply, the question logged for it), and a lock per message, so a message and its edits are
handled one at a time, in the order Discord sent them. Nothing here is worth a table: an
edit is answered within minutes of its message or not at all, and a restart forgets
everything, which costs no more than edits to messages from before it being ignored.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import OrderedDict
from dataclasses import dataclass

# One entry per message that was searched or got a reply: a person's searches are bounded
# (study.py: at most 10 a minute in study channels, one per 10 s asked directly), and people
# asking at a human pace, a question a minute, make 5 each in the edit window (5 min), so
# 1,000 hold 200 of them. Past that the oldest are forgotten, and an edit to a message at
# least as old is ignored (`may_be_new`), never answered twice.
KEPT = 1000


@dataclass
class Asked:
    reading: tuple[str, bool]  # (question as searched, asked directly): what an edit must change
    created: float             # the message's creation, Unix time
    counted: bool              # it was searched (paid by its author's cooldown or search allowance):
                               # edits of it are re-answers
    reply_id: int | None       # the bot's reply to it, if there is one
    question_id: int | None    # the logged question (votes refer to it); an edit's replaces it
    reanswers: int = 0         # how often an edit changed the reply (edited, sent or deleted it)
    look: tuple | None = None  # what the reply shows (study.appearance), None without one
    searches: int = 0          # how often an edit was searched, the reply changed or not
    stopped: bool = False      # its edits are no longer followed (study_edits.py)
    author_id: int = 0         # who asked: their own clicks on the reply are not someone else's
    used_by_others: bool = False  # someone else voted on the reply or clicked it: an edit never deletes it


class AskedMessages:
    def __init__(self, since: float, size: int = KEPT) -> None:
        self.size = size
        # Messages created before this may have been answered by a process that is gone, or
        # by this one and then forgotten: an edit of one is ignored rather than answered twice.
        self.horizon = since
        self._items: OrderedDict[int, Asked] = OrderedDict()
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

    def may_be_new(self, created: float) -> bool:
        """Whether a message not in here certainly got no reply (nor took a cooldown) from us."""
        return created > self.horizon

    def lock(self, message_id: int) -> asyncio.Lock:
        """The message's lock: kept while anyone holds or awaits it, then dropped."""
        lock = self._locks.get(message_id)
        if lock is None:
            lock = self._locks[message_id] = asyncio.Lock()
        return lock
