"""One entry point from any query to ranked glossary entries, with a verdict.

Order of attempts, cheapest and most certain first:
1. exact term or alias (no model call), also after stripping "what is …?";
2. typo-tolerant name match (rapidfuzz, no model call) for short queries;
3. hybrid retrieval for everything else: FTS5 BM25 and dense vectors over
   several views of each entry, fused by rank, plus a bonus for glossary names
   spotted inside the question. A refusal rule that weighs several signals
   decides whether the best hit is an answer, a suggestion or not covered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz, process

from .embeddings import Embedder
from .store import GlossaryIndex, StoredEntry, top_k, content_words
from .terms import TermSpotter, compact_key, lookup_key, stem

MAX_QUERY_CHARS = 1000
ANSWER, SUGGEST, NOT_FOUND = "answer", "suggest", "not_found"
EXACT, ALIAS, FUZZY, MENTION, KEYWORD, SEMANTIC = "exact", "alias", "fuzzy", "mention", "keyword", "semantic"

_QUOTED = re.compile(r"[\"'‘“`]([^\"'’”`]{2,60})[\"'’”`]")
MENTION_ANSWER = 0.6
ANSWER_CONFIDENCE = 0.5
SUGGEST_CONFIDENCE = 0.385
FUZZY_ANSWER = 85.0
FUZZY_SUGGEST = 75.0
# Candidates re-scored with every signal: the nearest entries by meaning and the
# best keyword matches. Fusion rarely lifts anything from below rank ~30 of either.
DENSE_CANDIDATES = 200
KEYWORD_CANDIDATES = 50

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_FRAMING = re.compile(
    r"^(?:(?:hey|hi|so|ok|okay|please|pls|quick question)[,!:]?\s+)*"
    r"(?:(?:can|could|would) (?:someone|somebody|anyone|you) (?:please )?(?:explain|define|tell me)(?: to me)?"
    r"|what(?:'s| is| are| does| do)|whats|define|definition of|meaning of|explain|tell me about"
    r"|who is|what is meant by)\s+(?:an?\s+|the\s+)?",
    re.IGNORECASE,
)
_LEADING_WH = re.compile(r"^(?:what|how)\s+(?:an?\s+|the\s+)?", re.IGNORECASE)
_TRAILING = re.compile(r"\s+(?:mean|means|stand for|do|does|is|are)?\s*[?.!]*$", re.IGNORECASE)


def clean_query(text: str) -> str:
    text = _CONTROL.sub(" ", text or "")
    return " ".join(text.split())[:MAX_QUERY_CHARS].rstrip()


def strip_framing(query: str) -> str:
    """ "can someone explain what LoRA is?" → "LoRA"; leaves other text alone."""
    inner = _FRAMING.sub("", query, count=1)
    if inner != query:  # "explain what LoRA is" → "what LoRA is" → "LoRA is"
        inner = _LEADING_WH.sub("", inner)
    inner = _TRAILING.sub("", inner)
    return inner.strip(" ?!.'\"`")


@dataclass(frozen=True)
class Hit:
    entry: StoredEntry
    match: str
    score: float  # 0–1, how sure we are; comparable within one result


@dataclass(frozen=True)
class SearchResult:
    query: str
    band: str
    hits: list[Hit] = field(default_factory=list)

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.hits else None


@dataclass(frozen=True)
class Signals:
    """Per-candidate evidence; every array is aligned with `positions`, the
    candidates' rows in the index's vector matrices."""

    positions: np.ndarray
    score: np.ndarray
    dense: np.ndarray
    dense_rank: np.ndarray
    keyword_rank: np.ndarray
    mention: np.ndarray
    unknown_share: float


@dataclass(frozen=True)
class Related:
    entry: StoredEntry
    reason: str


class Searcher:
    def __init__(self, index: GlossaryIndex, embedder: Embedder | None):
        self.index = index
        self.embedder = embedder
        self.spotter = TermSpotter(index.by_key)
        self._names = [(entry_id, alias, key) for entry_id, alias, key, _c, _s in index.alias_rows]
        self._name_keys = [key for _e, _a, key in self._names]
        self._position = {int(e): i for i, e in enumerate(index.entry_ids.tolist())}
        self.n_docs = len(index.entries)

    # -- name lookups (no model) -------------------------------------------------

    def lookup(self, query: str) -> SearchResult | None:
        """Exact term or alias match, or None."""
        for candidate in dict.fromkeys((query, strip_framing(query))):
            if not candidate:
                continue
            key = lookup_key(candidate)
            ids = self.index.by_key.get(key) or self.index.by_compact.get(compact_key(candidate))
            if not ids:
                continue
            hits = [
                Hit(self.index.entries[i], EXACT if self.index.term_key[i] == key else ALIAS, 1.0)
                for i in ids
            ]
            hits.sort(key=lambda h: h.match != EXACT)
            return SearchResult(query, ANSWER, hits)
        return None

    def fuzzy(self, query: str, limit: int = 5) -> list[tuple[int, float]]:
        """(entry id, similarity 0–100) for names close to the query's spelling."""
        key = lookup_key(strip_framing(query) or query)
        if not key or len(key) > 80:
            return []
        matches = process.extract(key, self._name_keys, scorer=fuzz.ratio, limit=limit * 3)
        best: dict[int, float] = {}
        for _name, score, pos in matches:
            entry_id = self._names[pos][0]
            best[entry_id] = max(best.get(entry_id, 0.0), float(score))
        return sorted(best.items(), key=lambda kv: -kv[1])[:limit]

    def complete(self, prefix: str, limit: int = 25) -> list[StoredEntry]:
        """Autocomplete: term prefix, then alias prefix, then fuzzy; no model call."""
        key = lookup_key(clean_query(prefix))
        ranked: list[int] = []
        if not key:
            ranked = list(self.index.entries)[:limit]
        else:
            term_prefix = [i for i, k in self.index.term_key.items() if k.startswith(key)]
            alias_prefix = [e for e, _a, k in self._names if k.startswith(key) or f" {key}" in k]
            ranked = sorted(term_prefix, key=lambda i: len(self.index.entries[i].term))
            ranked += alias_prefix + [e for e, _s in self.fuzzy(prefix, limit)]
        return [self.index.entries[i] for i in dict.fromkeys(ranked)][:limit]

    # -- the one entry point --------------------------------------------------------

    def search(self, query: str, limit: int = 5) -> SearchResult:
        query = clean_query(query)
        if not query:
            return SearchResult(query, NOT_FOUND, [])
        found = self.lookup(query)
        if found:
            return found
        close = self.fuzzy(query) if len(query.split()) <= 6 else []
        if close and close[0][1] >= FUZZY_ANSWER and (len(close) == 1 or close[0][1] - close[1][1] >= 3):
            return SearchResult(query, ANSWER, [Hit(self.index.entries[close[0][0]], FUZZY, close[0][1] / 100)])
        result = self.hybrid(query, limit)
        near = [(e, sc) for e, sc in close if sc >= FUZZY_SUGGEST]
        if result.band == NOT_FOUND and near:
            hits = [Hit(self.index.entries[e], FUZZY, sc / 100) for e, sc in near]
            return SearchResult(query, SUGGEST, hits[:limit])
        return result

    def hybrid(self, query: str, limit: int = 5) -> SearchResult:
        signals = self.signals(query)
        if not len(signals.positions):
            return SearchResult(query, NOT_FOUND, [])
        order = np.argsort(-signals.score, kind="stable")[:limit]
        band = self._verdict(signals, int(order[0]))
        hits = []
        for i in order:
            entry_id = int(self.index.entry_ids[signals.positions[i]])
            if signals.mention[i] > 0:
                kind = MENTION
            elif signals.keyword_rank[i] < 5 and signals.keyword_rank[i] <= signals.dense_rank[i]:
                kind = KEYWORD
            else:
                kind = SEMANTIC
            hits.append(Hit(self.index.entries[entry_id], kind, float(np.clip(signals.dense[i], 0, 1))))
        return SearchResult(query, band, hits)

    def signals(self, query: str) -> Signals:
        """Evidence for a free-form query and the fused ranking score, for the
        candidates worth scoring: the nearest entries by meaning, the best keyword
        matches and any entry the question names."""
        index = self.index
        focus = strip_framing(query) or query

        content = content_words(focus)
        spotted = list(self.spotter.spot(focus))
        postings = index.postings(content + [stem(w) for m in spotted for w in m.key.split()])
        doc_freq = {word: len(ids) for word, (ids, _w) in postings.items()}

        keyword = index.bm25({w: postings[w] for w in content if w in postings})
        keyword_top = top_k(keyword, KEYWORD_CANDIDATES)
        keyword_top = keyword_top[keyword[keyword_top] > 0]

        quoted = {lookup_key(q) for q in _QUOTED.findall(query)}
        named: dict[int, float] = {}
        for found in spotted:
            weight = 3.0 if found.key in quoted else self._specificity(found.key, doc_freq)
            for entry_id in index.by_key.get(found.key, ()):
                pos = self._position[entry_id]
                named[pos] = max(named.get(pos, 0.0), weight)

        qvec = self.embedder.embed_query(focus) if self.embedder is not None else None
        dense_top = index.nearest(qvec, DENSE_CANDIDATES) if qvec is not None else np.array([], dtype=np.int64)

        positions = np.unique(np.concatenate(
            [dense_top, keyword_top, np.fromiter(named, dtype=np.int64, count=len(named))]
        ).astype(np.int64))
        m = len(positions)
        dense = index.vectors["full"][positions] @ qvec if qvec is not None else np.zeros(m, dtype=np.float32)
        lead = index.vectors["lead"][positions] @ qvec if qvec is not None else np.zeros(m, dtype=np.float32)
        dense_rank = np.empty(m)
        dense_rank[np.argsort(-dense, kind="stable")] = np.arange(m)

        keyword_rank = np.full(m, np.inf)
        keyword_norm = np.zeros(m)
        if len(keyword_top):
            at = np.searchsorted(positions, keyword_top)
            keyword_rank[at] = np.arange(len(keyword_top))
            keyword_norm[at] = keyword[keyword_top] / keyword[keyword_top[0]]
        mention = np.zeros(m)
        for pos, weight in named.items():
            mention[np.searchsorted(positions, pos)] = weight

        # Weights chosen on the development set by a coarse grid over a few
        # features (not per query); the optimum was a broad plateau.
        score = (
            dense
            + 0.35 * lead
            + 0.3 * keyword_norm
            + 0.25 / (5.0 + keyword_rank)
            + 0.1 * mention
        )
        unknown = sum(1 for t in content if t not in doc_freq)
        return Signals(positions, score, dense, dense_rank, keyword_rank, mention,
                       unknown / max(1, len(content)))

    def _specificity(self, key: str, doc_freq: dict[str, int]) -> float:
        """How telling it is that a question names this: rare, multi-word names say more."""
        words = key.split()
        df = min((doc_freq.get(stem(w), 0) for w in words), default=0)
        idf = np.log((self.n_docs + 1) / (df + 1)) / np.log(self.n_docs + 1)
        return float(min(1.0, idf + 0.2 * (len(words) - 1)))

    def _verdict(self, signals: Signals, top: int) -> str:
        if signals.mention[top] >= MENTION_ANSWER:
            return ANSWER
        confidence = self.confidence(signals, top)
        if confidence >= ANSWER_CONFIDENCE:
            return ANSWER
        if confidence >= SUGGEST_CONFIDENCE:
            return SUGGEST
        return NOT_FOUND

    @staticmethod
    def confidence(signals: Signals, top: int) -> float:
        """Is the glossary about this at all? Cosine of the best entry, backed by
        keyword agreement, and lowered when the question's words are unknown to
        the glossary (off-topic questions often name things it never mentions)."""
        agree = 0.08 if signals.keyword_rank[top] < 5 else 0.0
        return float(signals.dense[top]) + agree - 0.25 * signals.unknown_share

    # -- related terms ----------------------------------------------------------------

    def related(self, entry_id: int, limit: int = 5) -> list[Related]:
        """Explicit "see" references first, then terms its definition names or that
        name it (closest in meaning first), then nearest neighbours by embedding."""
        index = self.index
        pos = self._position[entry_id]
        sims = index.vectors["full"] @ index.vectors["full"][pos]
        picked: dict[int, str] = {}
        for link in index.links_from.get(entry_id, []):
            if link.kind == "see":
                picked.setdefault(link.entry_id, "see also")
        linked = {link.entry_id: "mentioned in its definition" for link in index.links_from.get(entry_id, [])}
        for link in index.links_to.get(entry_id, []):
            linked.setdefault(link.entry_id, "mentions this term")
        for other in sorted(linked, key=lambda e: -sims[self._position[e]]):
            picked.setdefault(other, linked[other])
        for other in np.argsort(-sims)[: limit + 1]:
            picked.setdefault(int(index.entry_ids[other]), "similar meaning")
        picked.pop(entry_id, None)
        return [Related(index.entries[i], reason) for i, reason in list(picked.items())[:limit]]

