"""The glossary-gaps report: questions the glossary did not answer, grouped by meaning.

Each logged question is embedded (the search's own normalisation first, so "@everyone yo
what's X lol" and "what is X" are the same question). Questions whose vectors are at least
SAME_TOPIC apart in cosine are neighbours; the question with the most unassigned
neighbours founds a topic and takes them, and so on, so every topic is built around its
most typical question, which labels it. Topics are ranked by how many distinct people
asked. No Discord here: the cog and the CLI render the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .normalize import plain_and_core
from .search import NEAR_COSINE, Searcher, asks_about_nothing, asks_about_the_bot

#: cosine at which two questions are about the same missing topic (see tests/glossary/test_gaps.py:
#: paraphrases of one topic sit above it, questions on different topics below)
SAME_TOPIC = 0.45
MAX_QUESTIONS = 1000  # the newest this many (fewer distinct texts are embedded): seconds of work at most
EXAMPLES = 5


@dataclass(frozen=True)
class GapQuestion:
    query: str
    user: str  # a salted hash: only counted, never shown


@dataclass(frozen=True)
class Gap:
    label: str  # the topic's most typical question
    askers: int  # distinct people
    asked: int
    examples: tuple[str, ...]
    nearest: tuple[str, ...]  # the closest entries near in meaning (NEAR_COSINE), in case one nearly covers it


def topics(vectors: np.ndarray, threshold: float = SAME_TOPIC) -> list[list[int]]:
    """Row groups of unit `vectors`, each listed from its most typical row."""
    if len(vectors) == 0:
        return []
    similar = (vectors @ vectors.T) >= threshold
    np.fill_diagonal(similar, True)  # a row is always in its own group, whatever its vector
    free = np.ones(len(vectors), dtype=bool)
    groups = []
    while free.any():
        counts = (similar & free).sum(axis=1) * free  # neighbours still free, for each free row
        seed = int(np.argmax(counts))
        members = np.flatnonzero(similar[seed] & free)
        free[members] = False
        sims = vectors[members] @ vectors[members].T
        order = members[np.argsort(-sims.mean(axis=1), kind="stable")]
        groups.append([int(i) for i in order])
    return groups


def gaps_report(questions: Sequence[GapQuestion], searcher: Searcher, threshold: float = SAME_TOPIC) -> list[Gap]:
    """The uncovered topics among `questions` (oldest first), most askers first."""
    questions = list(questions)[-MAX_QUESTIONS:]
    texts = [plain_and_core(q.query)[1] or q.query for q in questions]
    # A follow-up ("ok but why?") or a question about the bot ("who are you") names no topic the
    # glossary could add.
    keep = [i for i, t in enumerate(texts) if t.strip() and not asks_about_nothing(t) and not asks_about_the_bot(t)]
    if not keep:
        return []
    distinct = {text: None for text in (texts[i] for i in keep)}  # the same question asked again: one call
    for text in distinct:
        distinct[text] = searcher.embedder.embed_query(text)
    vectors = np.nan_to_num(np.stack([distinct[texts[i]] for i in keep]).astype(np.float32))
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
    index = searcher.index
    matrix = index.vectors["full"]
    gaps = []
    for group in topics(vectors, threshold):
        members = [questions[keep[i]] for i in group]
        centre = vectors[group].mean(axis=0)
        centre /= max(float(np.linalg.norm(centre)), 1e-9)
        near = matrix @ centre
        # Only entries near in meaning, as a refusal names them: sourdough bread has none.
        nearest = [i for i in np.argsort(-near)[:3] if near[i] >= NEAR_COSINE]
        examples = tuple(dict.fromkeys(q.query for q in members))[:EXAMPLES]
        gaps.append(Gap(members[0].query, len({q.user for q in members}), len(members), examples,
                        tuple(index.entries[int(index.entry_ids[i])].term for i in nearest)))
    gaps.sort(key=lambda g: (-g.askers, -g.asked, g.label))
    return gaps
