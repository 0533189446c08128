"""Cross-validation folds, shared by every training script.

Development questions (data/eval/dev2.jsonl, dev_real.jsonl) are split by target term.

No term is expected by questions in two folds: questions are grouped by the
connected components of their expected terms (a question expecting A and B
joins A's and B's groups), and whole groups go to folds. Off-glossary questions
(expected = []) are spread over the folds by a hash of their id. Assignment is
a pure function of the cases, so every script and every run sees the same folds.

Generated training questions (data/train/generated.jsonl) cover every entry, as the
glossary pairs do, so they are split by question (`id_folds`): fold K's model has not
seen fold K's generated questions, and the ranker trained on its scores of them sees
what it will see on a user's question, a model that knows the entry but not the words.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def term_folds(cases: Sequence, k: int = 5) -> list[int]:
    """Fold number (0..k-1) of each case; `cases` have `.id` and `.expected`."""
    parent: dict[str, str] = {}

    def find(term: str) -> str:
        parent.setdefault(term, term)
        while parent[term] != term:
            parent[term] = parent[parent[term]]
            term = parent[term]
        return term

    for case in cases:
        terms = list(case.expected)
        for other in terms[1:]:
            parent[find(other)] = find(terms[0])
        if terms:
            find(terms[0])
    groups = sorted({find(t) for t in parent}, key=lambda g: (_digest(g), g))
    fold_of_group = {g: i % k for i, g in enumerate(groups)}
    return [fold_of_group[find(c.expected[0])] if c.expected else _digest(c.id) % k for c in cases]


def id_folds(cases: Sequence, k: int = 5) -> list[int]:
    """Fold number of each case by a hash of its id (for generated questions)."""
    return [_digest(c.id) % k for c in cases]
