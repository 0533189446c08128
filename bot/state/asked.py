"""What the study cog said to recent questions (`Asked`), kept in the state database as well as
in its memory (bot/discord_bot/asked.py), so that after a restart an edit or a deletion of a
question asked before it still reaches the bot's reply.

A row matters only while its message may still be edited: it carries when that ends
(`expires`), and every write deletes the rows past theirs, so the table holds a few minutes
of questions, never the whole history; the bot's retention purge deletes them too (`purge`), for
the last question of a quiet server. /forget-me deletes a user's rows (study.USER_TABLES).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from .db import Database

_COLUMNS = ("question", "mentioned", "created", "counted", "reply_id", "question_id", "reanswers", "look",
            "searches", "stopped", "author_id", "used_by_others")


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


class AskedRecords:
    def __init__(self, db: Database) -> None:
        self.db = db

    def save(self, message_id: int, asked: Asked, expires: float, now: float) -> None:
        """Keep what was said to the message until `expires` (Unix time); rows expired by `now` go."""
        values = [asked.reading[0], int(asked.reading[1]), asked.created, int(asked.counted), asked.reply_id,
                  asked.question_id, asked.reanswers, None if asked.look is None else json.dumps(asked.look),
                  asked.searches, int(asked.stopped), asked.author_id, int(asked.used_by_others)]
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM asked_messages WHERE expires < ?", [now])
            conn.execute(
                f"INSERT INTO asked_messages (message_id, {', '.join(_COLUMNS)}, expires) "
                f"VALUES ({', '.join('?' for _ in range(len(_COLUMNS) + 2))}) ON CONFLICT (message_id) DO UPDATE SET "
                + ", ".join(f"{c} = excluded.{c}" for c in (*_COLUMNS, "expires")),
                [message_id, *values, expires])

    def load(self, message_id: int) -> Asked | None:
        rows = self.db.query(f"SELECT {', '.join(_COLUMNS)} FROM asked_messages WHERE message_id = ?", [message_id])
        if not rows:
            return None
        (question, mentioned, created, counted, reply_id, question_id, reanswers, look, searches, stopped,
         author_id, used) = rows[0]
        # JSON has no tuples: the look is compared with `appearance`'s, a tuple of (text, embed, rows)
        return Asked((question, bool(mentioned)), created, bool(counted), reply_id, question_id, reanswers,
                     None if look is None else tuple(json.loads(look)), searches, bool(stopped), author_id,
                     bool(used))

    def delete(self, message_id: int) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM asked_messages WHERE message_id = ?", [message_id])

    def purge(self, now: float) -> int:
        """Delete the rows expired by `now` (Unix time); how many."""
        with self.db.transaction() as conn:
            return conn.execute("DELETE FROM asked_messages WHERE expires < ?", [now]).rowcount

    def count(self) -> int:
        return self.db.query("SELECT count(*) FROM asked_messages")[0][0]
