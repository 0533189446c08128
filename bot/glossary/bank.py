"""Questions with known answers: evidence that a new question is about an entry.

A new question often reads like one asked before far more than like the
definition that answers it ("my loss goes nan after a few hundred steps in
fp16" is close to other people's questions about loss scaling, not to the
entry's wording). The bank is every question this project has with its right
entries: the training questions written from the glossary
(data/train/generated.jsonl and generated2.jsonl, eight per entry in four styles), the real
questions from public GitHub issues, reworded (data/train/mined.jsonl), questions that
name their entry (data/train/named.jsonl, two per entry), and the development sets
(data/eval/dev2.jsonl, dev_real.jsonl). Never data/eval/dev.jsonl: that is the final
check, and a question in the bank would be found there.

The index embeds each bank question once (index.py, `bank` table, vectors
shared with the entries' through the content-hash cache) and the ranker gets,
per candidate, the cosine of the nearest bank question about it (features.py).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from .normalize import discord_query
from .parse import editor_lines
from .terms import lookup_key

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
BANK_FILES = (
    DATA_DIR / "train" / "generated.jsonl",
    DATA_DIR / "train" / "generated2.jsonl",
    DATA_DIR / "train" / "mined.jsonl",
    DATA_DIR / "train" / "named.jsonl",
    DATA_DIR / "eval" / "dev2.jsonl",
    DATA_DIR / "eval" / "dev_real.jsonl",
)


def bank_files(local: Path | None = None) -> tuple[Path, ...]:
    """The project's bank files, then every `*.jsonl` in `local` (a deployment's own
    questions, in the eval format: `glossary-bot feedback export --out <data dir>/bank/feedback.jsonl`
    turns its members' confirmed and corrected answers into such a file)."""
    own = tuple(sorted(local.glob("*.jsonl"))) if local is not None and local.is_dir() else ()
    return BANK_FILES + own


@dataclass(frozen=True)
class BankQuestion:
    id: str
    text: str              # as searched: Discord decoration and chatter off
    terms: tuple[str, ...]  # the entries that answer it


def bank_digest(paths: tuple[Path, ...] | list[Path] = BANK_FILES) -> str:
    """What the index's fingerprint holds of the bank: a hash of the files as they are (cheap:
    reading them costs milliseconds, cleaning every question a third of a second)."""
    digest = hashlib.sha256()
    for path in paths:
        try:
            digest.update(Path(path).read_bytes())
        except OSError:
            digest.update(b"-")
        digest.update(b"\0")
    return digest.hexdigest()


def expected_terms(case: dict) -> tuple[str, ...]:
    """A case's "expected" terms. A bare string is a slip for a list of one: read as a list, "Adam"
    would be the terms A, d, a, m, and the case scored a miss without a word."""
    expected = case.get("expected", [])
    if not isinstance(expected, list) or not all(isinstance(t, str) for t in expected):
        raise ValueError(f'"expected" must be a list of terms such as ["Adam"], not {json.dumps(expected)[:40]}')
    return tuple(expected)


def load_bank(paths: tuple[Path, ...] | list[Path] = BANK_FILES) -> list[BankQuestion]:
    """Every answerable question in `paths` (eval format). A missing file adds nothing, so a
    glossary deployed without the training data still builds; a bad line is skipped."""
    questions = []
    for path in paths:
        try:
            lines = editor_lines(Path(path).read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError):
            continue
        for line in lines:
            try:
                obj = json.loads(line)
                terms = expected_terms(obj)
                text = discord_query(str(obj["query"]))
            except (json.JSONDecodeError, KeyError, TypeError, AttributeError, ValueError):
                continue
            if terms and text:
                questions.append(BankQuestion(str(obj.get("id", "")), text, terms))
    return questions


def bank_rows(questions: list[BankQuestion], by_key: dict[str, int]) -> list[tuple[str, str, int]]:
    """(question id, text, entry id) for every question and each of its entries that this
    glossary has (`by_key`: a term's lookup key → its entry id); others are dropped."""
    rows = []
    for q in questions:
        for term in q.terms:
            entry_id = by_key.get(lookup_key(term))
            if entry_id is not None:
                rows.append((q.id, q.text, entry_id))
    return rows
