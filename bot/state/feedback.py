"""Questions people asked and what they thought of the answers: the data behind the gaps
report, /glossary stats and `glossary-bot feedback export`.

Users are never stored by id: `user_hash` is a keyed hash (see `user_hasher`), enough to
count distinct askers and to keep one vote per user per answer. Everything here is kept
for the retention period only (`purge`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable, NamedTuple

from ..glossary.normalize import storable
from .db import Database, StateError

# A question's text is kept for the keepers under a hash of its asker, never a raw id; a member
# it mentions would be named by theirs, outliving their /forget-me and leaving in `feedback export`.
# A mention says nothing of the topic (the search drops them too), so it is dropped.
_DISCORD_IDS = re.compile(r"\s*<(?:@!?|@&|#)\d+>")


def without_ids(text: str) -> str:
    """The text without its user, role and channel mentions."""
    return _DISCORD_IDS.sub("", text).strip() if "<" in text else text

ANSWER, SUGGEST, NOT_FOUND = "answer", "suggest", "not_found"
UP, DOWN = 1, -1
NOT_IN_GLOSSARY = ""  # a 👎 voter's "none of these / not in the glossary"


def key_file(state_path: Path) -> Path:
    return Path(f"{state_path}.key")


def hash_key(state_path: Path, configured: str | None = None) -> str:
    """The key for user hashes: GLOSSARY_HASH_KEY if set, else a random one made once and kept
    in a file beside the state database (`state.db.key`), never in it. It does not change
    with the bot token, so a token reset does not orphan anyone's data."""
    if configured:
        return configured
    path = key_file(state_path)
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    key = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it meanwhile: use theirs
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key + "\n")
    return key


def user_hasher(secret: str | None) -> Callable[[int], str]:
    """user id → a hash keyed by `secret` (see hash_key): stable across restarts, not
    reversible from the database alone (the key is not in it)."""
    key = hashlib.sha256(b"glossary-bot user\0" + (secret or "local").encode()).digest()
    return lambda user_id: hmac.new(key, str(user_id).encode(), hashlib.sha256).hexdigest()[:24]


def key_check(secret: str) -> str:
    """What the state database keeps of its key (state_key): a keyed hash of a constant, enough to
    tell the key it was used with from another, and nothing to recover either from."""
    return hmac.new(secret.encode(), b"glossary-bot state key check", hashlib.sha256).hexdigest()[:32]


NEW_KEY_HINT = ("if that key is lost for good, `glossary-bot state new-key` starts over with this one, deleting "
                "the questions and votes logged so far (nobody could be matched to them again)")


def check_key(records: "FeedbackRecords", secret: str, where: str, key_file: Path | None, *,
              record: bool = True) -> None:
    """StateError unless `secret` is the key the state database was used with (recorded by its first
    start): another would file every member anew, out of reach of their votes and /forget-me (QA75).
    `key_file`: where the key was read from when GLOSSARY_HASH_KEY is not set. `record`: a database
    with no key recorded yet takes this one (else it passes, unrecorded)."""
    recorded = records.recorded_key()
    if (recorded is None and (not record or records.hold_key(key_check(secret)))) or recorded == key_check(secret):
        return
    given = f"{key_file} is" if key_file else "GLOSSARY_HASH_KEY is"
    wanted = (f"Put back the {key_file.name} it was used with, or set GLOSSARY_HASH_KEY to that key" if key_file
              else "Set the key it was used with (after `state migrate`: the contents of the old state.db.key)")
    raise StateError(f"{given} not the key the state database {where} was used with: its members' questions and "
                     f"votes would lose their owners, out of /forget-me's reach. {wanted}; {NEW_KEY_HINT}")


def checked_key(records: "FeedbackRecords", where: str, state_path: Path, configured: str | None) -> str:
    """The key for user hashes (hash_key), checked against the one the database was used with (check_key)."""
    file = key_file(state_path)
    if not configured and not file.exists() and records.recorded_key() is not None:
        # (said before a new one is made beside it: that would stand in the way of putting it back)
        raise StateError(f"{file} is missing: the state database {where} was used with the key it held, and its "
                         f"members' questions and votes are filed under it. Put it back, or set GLOSSARY_HASH_KEY "
                         f"to that key; {NEW_KEY_HINT}")
    secret = hash_key(state_path, configured)
    check_key(records, secret, where, None if configured else key_file(state_path))
    return secret


@dataclass(frozen=True)
class LoggedQuestion:
    question_id: int
    guild_id: int
    user_hash: str
    asked_at: datetime
    source: str
    query: str
    band: str
    answer_term: str | None
    candidates: tuple[str, ...]
    sides: tuple[str, ...] = ()  # the entries a reply set side by side ("lora vs qlora")


@dataclass(frozen=True)
class UsageStats:
    questions: int
    answered: int
    hedged: int
    refused: int
    top_terms: list[tuple[str, int]]
    up: int
    down: int


_COLUMNS = "question_id, guild_id, user_hash, asked_at, source, query, band, answer_term, candidates, sides"
_SELECT = f"SELECT {_COLUMNS} FROM questions"
GAPS_PER_ASKER = 50  # of the gaps report's 1,000 questions


def _question(row: tuple) -> LoggedQuestion:
    return LoggedQuestion(row[0], row[1], row[2], datetime.fromisoformat(row[3]), row[4], row[5], row[6], row[7],
                          tuple(json.loads(row[8])), tuple(json.loads(row[9])) if row[9] else ())


class FeedbackExport(NamedTuple):
    cases: list[dict]
    disagreed: int  # questions left out: their voters disagreed on the entry


class FeedbackRecords:
    def __init__(self, db: Database) -> None:
        self.db = db

    def recorded_key(self) -> str | None:
        """The database's key check (key_check), or None before a start recorded one."""
        rows = self.db.query("SELECT key_check FROM state_key")
        return rows[0][0] if rows else None

    def hold_key(self, check: str) -> bool:
        """Record `check` (key_check of the key the users' hashes are made with) if none is yet; whether
        the database's is this one. The first start of a database records its key."""
        with self.db.transaction() as conn:
            conn.execute("INSERT INTO state_key (one, key_check) VALUES (1, ?) ON CONFLICT (one) DO NOTHING", [check])
            return conn.execute("SELECT key_check FROM state_key").fetchone()[0] == check

    def new_key(self, check: str) -> int:
        """Start over with another key (`state new-key`, the old one lost): the questions and votes
        filed under the old one's hashes are deleted, as nobody could be matched to them again and
        /forget-me could not reach them; the change log of server additions loses their names as
        a /forget-me would. Rows changed."""
        with self.db.transaction() as conn:
            votes = conn.execute("DELETE FROM votes").rowcount
            questions = conn.execute("DELETE FROM questions").rowcount
            changes = conn.execute("UPDATE server_changes SET by_name = '(forgotten)', by_hash = '' "
                                   "WHERE by_hash <> ''").rowcount
            conn.execute("DELETE FROM state_key")
            conn.execute("INSERT INTO state_key (one, key_check) VALUES (1, ?)", [check])
            return votes + questions + changes

    def log_question(self, guild_id: int, user_hash: str, source: str, query: str, band: str,
                     answer_term: str | None, candidates: list[str], now: datetime,
                     matched_by: str | None = None, replaces: int | None = None, sides: list[str] | None = None) -> int:
        """Log a question; its id. `replaces`: the question an edit of the same message logged
        before, which keeps its row and its votes (they were cast on its answer) and is marked
        replaced, so that the reports count the edited question once. `sides`: the entries the
        reply set side by side, when it did."""
        with self.db.transaction() as conn:
            question_id = conn.execute(
                "INSERT INTO questions (guild_id, user_hash, asked_at, source, query, band, answer_term, matched_by, "
                "candidates, sides) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING question_id",
                [guild_id, user_hash, now.isoformat(timespec="seconds"), source, without_ids(storable(query)), band,
                 answer_term,
                 matched_by, json.dumps(candidates[:10]), json.dumps(sides) if sides else None]).fetchone()[0]
            if replaces is not None:  # gone (retention, /forget-me) or not: the new row stands
                conn.execute("UPDATE questions SET replaced_by = ? WHERE question_id = ?", [question_id, replaces])
            return question_id

    def question(self, question_id: int) -> LoggedQuestion | None:
        rows = self.db.query(f"{_SELECT} WHERE question_id = ?", [question_id])
        return _question(rows[0]) if rows else None

    def vote(self, question_id: int, user_hash: str, vote: int, now: datetime) -> bool:
        """Record or change a vote (a change of mind clears the entry chosen with a 👎); False
        if the question is gone (past retention, or its asker used /forget-me)."""
        with self.db.transaction() as conn:
            # locked (PostgreSQL; SQLite's transaction locks everything already): a /forget-me or the
            # retention purge in another process then waits for this vote rather than deleting the
            # question between this check and the INSERT, which its foreign key would then refuse
            if not conn.execute(f"SELECT 1 FROM questions WHERE question_id = ?{conn.for_update}",
                                [question_id]).fetchone():
                return False
            conn.execute(
                "INSERT INTO votes (question_id, user_hash, vote, voted_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (question_id, user_hash) DO UPDATE SET vote = excluded.vote, "
                "voted_at = excluded.voted_at, wanted = CASE WHEN votes.vote = excluded.vote THEN votes.wanted END",
                [question_id, user_hash, vote, now.isoformat(timespec="seconds")])
        return True

    def set_wanted(self, question_id: int, user_hash: str, wanted: str) -> bool:
        """The entry a 👎 voter wanted (NOT_IN_GLOSSARY for none); False without such a 👎."""
        with self.db.transaction() as conn:
            return bool(conn.execute("UPDATE votes SET wanted = ? WHERE question_id = ? AND user_hash = ? AND vote = ?",
                                     [wanted, question_id, user_hash, DOWN]).rowcount)

    def votes(self, question_id: int) -> list[tuple[str, int, str | None]]:
        return self.db.query("SELECT user_hash, vote, wanted FROM votes WHERE question_id = ? ORDER BY voted_at",
                             [question_id])

    # -- reports ----------------------------------------------------------------------------------

    def gap_questions(self, since: datetime, guild_id: int | None = None, limit: int = 1000,
                      per_asker: int = GAPS_PER_ASKER) -> list[LoggedQuestion]:
        """What the glossary did not answer well, the newest `limit`, oldest first: refused or
        hedged questions (not those their asker edited into another), and answers someone voted
        👎 (unless the voter then picked an entry); at most the newest `per_asker` of one person's,
        so that one member asking on and on cannot push everyone else's topics out of the report."""
        where, params = "asked_at >= ? AND source != 'define'", [since.isoformat(timespec="seconds")]
        if guild_id is not None:
            where += " AND guild_id = ?"
            params.append(guild_id)
        rows = self.db.query(
            f"SELECT {_COLUMNS} FROM (SELECT {_COLUMNS}, ROW_NUMBER() OVER (PARTITION BY user_hash "
            f"ORDER BY asked_at DESC, question_id DESC) AS nth FROM questions WHERE {where} AND "
            "((band != 'answer' AND replaced_by IS NULL) OR question_id IN "
            f"(SELECT question_id FROM votes WHERE vote = {DOWN} AND (wanted IS NULL OR wanted = '')))) mine "
            "WHERE nth <= ? ORDER BY asked_at DESC, question_id DESC LIMIT ?", [*params, per_asker, limit])
        return [_question(row) for row in reversed(rows)]

    def usage(self, since: datetime, guild_id: int, top: int = 5,
              name_now: Callable[[str], str | None] | None = None) -> UsageStats:
        """`name_now`: what a logged entry is called now, so that an entry renamed in between counts
        once, under its new name (a gone one keeps its logged name)."""
        # an edited question counts once, as its last text (its earlier rows' votes still count)
        rows = self.db.query("SELECT band, answer_term FROM questions WHERE guild_id = ? AND asked_at >= ? "
                             "AND replaced_by IS NULL", [guild_id, since.isoformat(timespec="seconds")])
        bands = Counter(band for band, _ in rows)
        logged = Counter(term for _, term in rows if term)
        terms: Counter = Counter()
        for term, count in logged.items():
            terms[(name_now(term) if name_now else None) or term] += count
        up, down = self.db.query(
            "SELECT CAST(coalesce(sum(CASE WHEN v.vote = 1 THEN 1 ELSE 0 END), 0) AS BIGINT), "
            "CAST(coalesce(sum(CASE WHEN v.vote = -1 THEN 1 ELSE 0 END), 0) AS BIGINT) FROM votes v "
            "JOIN questions q ON q.question_id = v.question_id WHERE q.guild_id = ? AND q.asked_at >= ?",
            [guild_id, since.isoformat(timespec="seconds")])[0]
        return UsageStats(len(rows), bands[ANSWER], bands[SUGGEST], bands[NOT_FOUND], terms.most_common(top), up, down)

    def export(self, name_now: Callable[[str], str | None] | None = None) -> FeedbackExport:
        """Voted questions in the eval format: 👍 confirms the answer (every entry a side-by-side
        reply showed), a 👎 with a choice corrects it ([] = not in the glossary). A 👎 without a
        choice says too little. One case per question (the same text asked again is the same
        question): a person's latest vote on it counts, and a question its voters disagree on
        (a 👍 and a 👎 that picked another entry) is no case, only counted (`disagreed`).
        `name_now`: what a voted entry is called now, so that two votes for one entry renamed (or
        merged into another) between them agree (QA71); a gone entry keeps the name it was voted under."""
        def now_named(terms: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(dict.fromkeys((name_now(t) if name_now else None) or t for t in terms))

        # a server's own alias is no case for the glossary's search: its answers are left out
        rows = self.db.query(
            "SELECT q.question_id, q.query, q.answer_term, q.sides, v.user_hash, v.vote, v.wanted FROM votes v "
            "JOIN questions q ON q.question_id = v.question_id WHERE q.matched_by IS NULL "
            "OR q.matched_by != 'server_alias' ORDER BY v.voted_at, q.question_id")
        # question → (its first id, its text, each voter's latest verdict: (expected, kind), or None)
        asked: dict[str, tuple[int, str, dict[str, tuple[tuple[str, ...], str] | None]]] = {}
        for question_id, query, answer_term, sides, user_hash, vote, wanted in rows:
            if vote == UP and (sides or answer_term):
                verdict = (now_named(tuple(json.loads(sides)) if sides else (answer_term,)), "feedback-confirmed")
            elif vote == DOWN and wanted is not None:
                verdict = (now_named((wanted,) if wanted else ()), "feedback-corrected")
            else:
                verdict = None
            key = " ".join(query.split()).casefold()
            first, _, verdicts = asked.setdefault(key, (question_id, query, {}))
            if question_id < first:  # the case is named after the question as first asked
                asked[key] = (question_id, query, verdicts)
            verdicts[user_hash] = verdict  # later than any vote of theirs before (ORDER BY voted_at)
        cases, disagreed = [], 0
        for question_id, query, verdicts in sorted(asked.values(), key=lambda a: a[0]):
            expected = {v[0] for v in verdicts.values() if v is not None}
            if len(expected) > 1:
                disagreed += 1
                continue
            if not expected:
                continue
            (terms,) = expected
            kind = "feedback-confirmed" if ("feedback-confirmed" in {v[1] for v in verdicts.values() if v}) \
                else "feedback-corrected"
            cases.append({"id": f"feedback-{question_id}-{'-'.join(terms) or 'none'}"[:200], "kind": kind,
                          "query": query, "expected": list(terms)})
        return FeedbackExport(cases, disagreed)

    # -- retention and erasure --------------------------------------------------------------------

    def purge(self, before: datetime) -> int:
        """Delete questions (and their votes) asked before `before`; returns how many."""
        with self.db.transaction() as conn:
            return conn.execute("DELETE FROM questions WHERE asked_at < ?",
                                [before.isoformat(timespec="seconds")]).rowcount

    def forget(self, user_hash: str) -> tuple[int, int]:
        """Delete the user's questions and votes; their name leaves the change log of server
        additions (the change itself stays, as a fact about the server). (rows deleted, changes
        their name left)."""
        with self.db.transaction() as conn:
            votes = conn.execute("DELETE FROM votes WHERE user_hash = ?", [user_hash]).rowcount
            questions = conn.execute("DELETE FROM questions WHERE user_hash = ?", [user_hash]).rowcount
            changes = conn.execute("UPDATE server_changes SET by_name = '(forgotten)', by_hash = '' "
                                   "WHERE by_hash = ?", [user_hash]).rowcount
            return votes + questions, changes
