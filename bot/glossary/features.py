"""Evidence per candidate entry for a free-form question: what the ranker scores.

Candidates are the entries worth scoring: the nearest by meaning, the best
keyword matches and any entry the question names. Besides the entries, the
question is compared with the bank of questions whose answers are known
(bank.py). Each gets one row of
FEATURES (float32); the learned ranker (ranker.py) turns rows into scores.
Everything here is numpy over arrays the index already holds in memory, plus
the postings of the question's few words.

The same code computes features at query time and for training
(scripts/train_ranker.py), so a ranker never sees features it was not trained on.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from .normalize import framed_subject
from .store import GlossaryIndex, top_k
from .terms import TermSpotter, content_words, lookup_key, standing_alone, stem

# Out of fold, every expected entry the candidates held was within the 30 nearest by
# meaning, the 30 best keyword matches or the named entries; 50 keeps a margin. 100 cost
# /ask a third of a millisecond more and was no better (cross-validated hit@1 0.721 vs 0.731).
DENSE_CANDIDATES = 50
KEYWORD_CANDIDATES = 30
VOCABULARY_CANDIDATES = 10

FEATURES = (
    "dense_full",        # cosine of the question and the whole entry
    "dense_lead",        # … and the entry's term with its first sentence
    "dense_full_gap",    # dense_full minus the best dense_full among candidates
    "dense_lead_gap",
    "dense_rank",        # log(1 + rank by dense_full)
    "lead_rank",
    "bm25",              # BM25 over term (×10), aliases (×6), definition, ÷ the best candidate's
    "bm25_rank",         # log(1 + rank by BM25); log(1 + KEYWORD_CANDIDATES) when not among them
    "named",             # the question names this entry (how specific the name is, 0–1; 1.5 quoted)
    "named_other",       # the question names another entry and not this one (its specificity)
    "linked_named",      # a "see"/mention link joins this entry and an entry the question names
    "named_first",       # this is the first entry the question names
    "named_subject",     # the question's "what is / what does / explain …" is about this entry's name
    "name_cover",        # share of this entry's name words that the question contains
    "query_in_names",    # idf-weighted share of the question's words found in this entry's names
    "query_in_entry",    # … found anywhere in this entry
    "term_words",        # words in the entry's term
    "definition_chars",  # log of the definition's length
    "linked_in",         # log(1 + number of entries whose definitions name this one)
    "unknown_share",     # share of the question's words the glossary never uses (same for every candidate)
    "query_words",       # log(1 + content words in the question) (same for every candidate)
    "named_count",       # log(1 + entries the question names) (same for every candidate)
    "bank_max",          # cosine of the question and the nearest bank question about this entry (-1: none)
    "bank_gap",          # bank_max minus the best bank_max among candidates
    "bank_words",        # BM25 of the question against the best-matching bank question about this entry, ÷ the best
    "bank_words_bm25",   # … that BM25 itself (0: no bank question shares a word)
    "bank_words_rank",   # log(1 + rank by it)
    "bm25_focus",        # BM25 of the question's asking sentences alone, ÷ the best candidate's
    "focus_share",       # share of the question's words in those sentences (same for every candidate)
    "vocabulary",        # BM25 of the question against the entry's practitioner vocabulary (vocabulary.py), ÷ the best
    "vocabulary_bm25",   # … that BM25 itself (0: no word of it)
)
_F = {name: i for i, name in enumerate(FEATURES)}
_DENSE = [_F["dense_full"], _F["dense_lead"]]
_DENSE_GAPS = [_F["dense_full_gap"], _F["dense_lead_gap"]]

_QUOTED = re.compile(r"[\"'‘“`]([^\"'’”`]{2,60})[\"'’”`]")


@dataclass(frozen=True)
class Candidates:
    """Rows of `features` are aligned with `positions` (rows of the index's vector matrices)."""

    positions: np.ndarray
    features: np.ndarray
    named: frozenset[int]  # positions of the entries the question names
    groups: np.ndarray     # per row: entries that share a name (twins such as SiLU and Swish) share a number

    def column(self, name: str) -> np.ndarray:
        return self.features[:, _F[name]]


class FeatureMaker:
    """What features need beyond the index, computed once per loaded index."""

    def __init__(self, index: GlossaryIndex, *, leave_out: frozenset[str] = frozenset(), vocabulary: bool = True):
        """`leave_out`: bank questions (by id) to ignore, as cross-validation must ignore the
        questions of the fold it tests (scripts/train_ranker.py). `vocabulary`: False leaves the
        entries' vocabulary out (its candidates and features), for a ranker trained without it."""
        self.index = index
        self.vocabulary = vocabulary
        # Bank rows come grouped by entry (store.py), so the best per entry is one reduceat (_bank_max).
        kept = np.array([q not in leave_out for q in index.bank_questions], dtype=bool)
        whole = bool(kept.all())  # the bot's case: share the index's matrix, no copy
        self.bank_questions = index.bank_questions if whole else [q for q, k in zip(index.bank_questions, kept) if k]
        self.bank_codes = index.bank_codes if whole else index.bank_codes[kept]
        self.bank_positions = index.bank_positions if whole else index.bank_positions[kept]
        # the index's bank row → row here (-1: left out); None when nothing is left out
        self._bank_kept = None if whole else np.where(kept, np.cumsum(kept) - 1, -1)
        # Per entry position, its bank rows are [_bank_first, _bank_first + _bank_count).
        entries, first, count = np.unique(self.bank_positions, return_index=True, return_counts=True)
        self._bank_first = np.zeros(len(index.entry_ids), dtype=np.int64)
        self._bank_count = np.zeros(len(index.entry_ids), dtype=np.int64)
        self._bank_first[entries], self._bank_count[entries] = first, count
        self.n_docs = len(index.entries)
        self.spotter = TermSpotter(index.by_key)
        self.position = {int(e): i for i, e in enumerate(index.entry_ids.tolist())}
        # Stemmed words of each entry's names (term and aliases), as an inverted list.
        name_words: dict[str, set[int]] = {}
        term_words = np.zeros(len(index.entry_ids), dtype=np.float32)
        self._term_stems: list[frozenset[str]] = [frozenset()] * len(index.entry_ids)
        for entry_id, entry in index.entries.items():
            pos = self.position[entry_id]
            stems = frozenset(content_words(entry.term))
            self._term_stems[pos] = stems
            term_words[pos] = len(lookup_key(entry.term).split())
            for name in entry.aliases:
                for word in content_words(name):
                    name_words.setdefault(word, set()).add(pos)
        self._name_postings = {w: np.fromiter(p, dtype=np.int64, count=len(p)) for w, p in name_words.items()}
        term_stem_entries: dict[str, list[int]] = {}
        for pos, stems in enumerate(self._term_stems):
            for word in stems:
                term_stem_entries.setdefault(word, []).append(pos)
        self._term_stem_postings = {w: np.array(p, dtype=np.int64) for w, p in term_stem_entries.items()}
        self._term_stem_count = np.array([len(s) for s in self._term_stems], dtype=np.float32)
        self._term_words = term_words
        self._definition_chars = np.zeros(len(index.entry_ids), dtype=np.float32)
        for entry_id, entry in index.entries.items():
            self._definition_chars[self.position[entry_id]] = np.log(1 + len(entry.definition))
        linked_in = np.zeros(len(index.entry_ids), dtype=np.float32)
        for dst, links in index.links_to.items():
            linked_in[self.position[dst]] = len(links)
        self._linked_in = np.log1p(linked_in)
        # Per entry, the entries a "see"/mention link joins it to, either way.
        joined: list[set[int]] = [set() for _ in range(len(index.entry_ids))]
        for links in (index.links_from, index.links_to):
            for entry_id, entry_links in links.items():
                if entry_id in self.position:
                    joined[self.position[entry_id]].update(
                        self.position[link.entry_id] for link in entry_links if link.entry_id in self.position)
        self._linked = [np.array(sorted(j), dtype=np.int64) for j in joined]
        # Entries one name points to (an alias of one is the other's term) are twins: a question
        # answered by either is answered, so confidence counts them together (ranker.calibration_row).
        self._group = np.arange(len(index.entry_ids))
        for entry_ids in index.by_key.values():
            if len(entry_ids) > 1:
                rows = [self.position[e] for e in entry_ids]
                self._group[np.isin(self._group, self._group[rows])] = min(self._group[rows])

    def specificity(self, key: str, doc_freq: dict[str, int]) -> float:
        """How telling it is that a question names this: rare, multi-word names say more."""
        words = key.split()
        df = min((doc_freq.get(stem(w), 0) for w in words), default=0)
        idf = np.log((self.n_docs + 1) / (df + 1)) / np.log(self.n_docs + 1)
        return float(min(1.0, idf + 0.2 * (len(words) - 1)))

    def names_in(self, text: str) -> list[tuple[int, str, list[int]]]:
        """(word position, key, entry ids) of every glossary name in the text: names as the
        spotter finds them, and names written without their spaces or hyphens ("qformer" for
        Q-Former, "INFo-NCE" for InfoNCE): runs of up to three words whose letters together
        are a name's compact key."""
        found = [(m.start, m.key, self.index.by_key.get(m.key, [])) for m in self.spotter.spot(text)]
        words = lookup_key(text).split()
        by_compact = self.index.by_compact
        for n in range(1, 4):
            for i in range(len(words) - n + 1):
                joined = "".join(words[i : i + n])
                ids = by_compact.get(joined) if len(joined) >= 4 else None
                if ids:
                    key = " ".join(words[i : i + n])
                    if key not in self.spotter:
                        found.append((i, key, ids))
        return sorted(found)

    def names_standing(self, text: str) -> list[tuple[int, str, list[int], bool]]:
        """`names_in`, each with whether it stands alone: not a piece of an identifier, a flag or a path
        (`tensor_list`, `--scheduling-policy`; terms.standing_alone), nor a word inside a name run
        together ("attention" in "flash attention")."""
        alone = standing_alone(text)
        names = self.names_in(text)
        inside = {i for at, key, _ids in names if key not in self.spotter for i in range(at + 1, at + len(key.split()))}
        return [(at, key, ids, at not in inside and key in alone) for at, key, ids in names]

    def candidates(self, text: str, qvec: np.ndarray | None, *, skip: np.ndarray | None = None,
                   vocabulary: bool = True) -> Candidates:
        """`skip`: rows of the bank to ignore for this question (in training: itself, its own
        round of generated questions, and a random tenth of the entries'; see
        scripts/train_ranker.py, Fold.skip). `vocabulary`: False leaves the entries' vocabulary
        out for this question (a FeatureMaker made without it never reads it)."""
        index = self.index
        n = len(index.entry_ids)
        content = content_words(text)
        names = self.names_in(text)
        postings = index.postings(content + [stem(w) for _at, key, _ids in names for w in key.split()])
        doc_freq = {word: len(ids) for word, (ids, _w) in postings.items()}

        keyword = index.bm25({w: postings[w] for w in content if w in postings})
        keyword_top = top_k(keyword, KEYWORD_CANDIDATES)
        keyword_top = keyword_top[keyword[keyword_top] > 0]
        vocab = self._vocabulary_scores(content, n) if vocabulary else None

        quoted = {lookup_key(q) for q in _QUOTED.findall(text)}
        named: dict[int, float] = {}
        for _at, key, entry_ids in names:
            weight = 1.5 if key in quoted else self.specificity(key, doc_freq)
            for entry_id in entry_ids:
                pos = self.position[entry_id]
                named[pos] = max(named.get(pos, 0.0), weight)
        first = {self.position[e] for e in names[0][2]} if names else set()
        subject = framed_subject(text)
        subject_key = self.spotter.name_at_start(subject) if subject else None
        about = {self.position[e] for e in index.by_key.get(subject_key, ())} if subject_key else set()

        # Below the exact-search limit the question's cosine with every entry is one product;
        # it gives the nearest entries and the candidates' cosines alike.
        every = index.cosines(qvec) if qvec is not None else None
        if qvec is None:
            dense_top = np.array([], dtype=np.int64)
        else:
            dense_top = top_k(every, DENSE_CANDIDATES) if every is not None else index.nearest(qvec, DENSE_CANDIDATES)
        chosen = np.zeros(n, dtype=bool)  # a mask, not np.unique: a sort fewer on the /ask path
        chosen[dense_top] = True
        chosen[keyword_top] = True
        if vocab is not None:
            vocab_top = top_k(vocab, VOCABULARY_CANDIDATES)
            chosen[vocab_top[vocab[vocab_top] > 0]] = True
        chosen[np.fromiter(named, dtype=np.int64, count=len(named))] = True
        positions = np.flatnonzero(chosen)
        m = len(positions)
        X = np.zeros((m, len(FEATURES)), dtype=np.float32)
        if not m:
            return Candidates(positions, X, frozenset(), self._group[positions])
        slot = np.full(n, -1, dtype=np.int64)  # entry position → candidate row
        slot[positions] = np.arange(m)

        # Features that are ranks among the candidates, ranked together at the end: on the /ask path
        # each numpy call costs several times more right after the model has run than in a loop.
        ranked: list[tuple[str, np.ndarray]] = []  # (feature, the scores it ranks by)
        if qvec is not None:
            full = every[positions] if every is not None else index.vectors["full"][positions] @ qvec
            dense = np.stack([full, index.vectors["lead"][positions] @ qvec])
            X[:, _DENSE] = dense.T
            X[:, _DENSE_GAPS] = (dense - dense.max(axis=1, keepdims=True)).T
            ranked += [("dense_rank", dense[0]), ("lead_rank", dense[1])]
        bank_rows = self._bank_rows(positions)
        if qvec is not None:
            X[:, _F["bank_max"]] = self._bank_max(qvec, bank_rows, skip)
            X[:, _F["bank_gap"]] = X[:, _F["bank_max"]] - X[:, _F["bank_max"]].max()
        else:
            X[:, _F["bank_max"]] = -1.0
        words_best = self._bank_words(self._bank_word_scores(content, skip), bank_rows)
        if words_best.max() > 0:
            X[:, _F["bank_words"]] = words_best / words_best.max()
        X[:, _F["bank_words_bm25"]] = words_best
        ranked.append(("bank_words_rank", words_best))
        X[:, [_F[name] for name, _scores in ranked]] = np.log1p(_ranks(np.stack([sc for _n, sc in ranked]))).T

        X[:, _F["bm25_rank"]] = np.log1p(KEYWORD_CANDIDATES)
        if len(keyword_top):
            at = slot[keyword_top]
            X[at, _F["bm25_rank"]] = np.log1p(np.arange(len(keyword_top)))
            X[:, _F["bm25"]] = keyword[positions] / keyword[keyword_top[0]]

        named_positions = np.fromiter(named, dtype=np.int64, count=len(named))
        if len(named):
            at = slot[named_positions]
            X[at, _F["named"]] = [named[p] for p in named_positions]
            best_named = max(named.values())
            others = X[:, _F["named"]] == 0
            X[others, _F["named_other"]] = best_named
            linked = np.concatenate([self._linked[pos] for pos in named])
            for marked, feature in ((linked, "linked_named"), (list(first), "named_first"),
                                    (list(about), "named_subject")):
                rows = slot[np.asarray(marked, dtype=np.int64)]
                X[rows[rows >= 0], _F[feature]] = 1.0

        # Coverage: which of the question's words each candidate has, weighted by idf. One
        # bincount per measure over every word's postings: a loop of small numpy steps per
        # word took a tenth of this method.
        words = list(dict.fromkeys(content))
        idf = {w: math.log((n + 1) / (doc_freq.get(w, 0) + 0.5)) for w in words}
        total = sum(idf.values())
        in_entry, in_names, covered = self._posting_sums(slot, m, (
            [(postings[w][0], idf[w]) for w in words if w in postings] if total > 0 else [],
            [(self._name_postings[w], idf[w]) for w in words if w in self._name_postings] if total > 0 else [],
            [(self._term_stem_postings[w], 1.0) for w in words if w in self._term_stem_postings]))
        if total > 0:
            X[:, _F["query_in_entry"]] = in_entry / np.float32(total)
            X[:, _F["query_in_names"]] = in_names / np.float32(total)
        X[:, _F["name_cover"]] = covered / np.maximum(self._term_stem_count[positions], 1)

        focus = _focus_words(text, content)
        if focus is None:
            X[:, _F["bm25_focus"]] = X[:, _F["bm25"]]
            X[:, _F["focus_share"]] = 1.0
        else:
            focus_scores = index.bm25({w: postings[w] for w in focus if w in postings})[positions]
            if focus_scores.max() > 0:
                X[:, _F["bm25_focus"]] = focus_scores / focus_scores.max()
            X[:, _F["focus_share"]] = len(focus) / max(1, len(content))

        if vocab is not None:
            X[:, _F["vocabulary_bm25"]] = vocab[positions]
            if vocab[positions].max() > 0:
                X[:, _F["vocabulary"]] = vocab[positions] / vocab[positions].max()

        X[:, _F["term_words"]] = self._term_words[positions]
        X[:, _F["definition_chars"]] = self._definition_chars[positions]
        X[:, _F["linked_in"]] = self._linked_in[positions]
        unknown = sum(1 for t in content if t not in doc_freq)
        X[:, _F["unknown_share"]] = unknown / max(1, len(content))
        X[:, _F["query_words"]] = np.log1p(len(content))
        X[:, _F["named_count"]] = np.log1p(len(named))
        return Candidates(positions, X, frozenset(named), self._group[positions])

    def _vocabulary_scores(self, content: list[str], n: int) -> np.ndarray | None:
        """Per entry: BM25 of the question's words against its vocabulary (None: no word of any)."""
        postings = self.index.vocabulary_postings(content) if self.vocabulary else {}
        if not postings:
            return None
        at = np.concatenate([p[0] for p in postings.values()])
        weights = np.concatenate([p[1] for p in postings.values()])
        return np.bincount(at, weights=weights, minlength=n).astype(np.float32)

    @staticmethod
    def _posting_sums(slot: np.ndarray, m: int, measures: tuple[list[tuple[np.ndarray, float]], ...]) -> np.ndarray:
        """Per measure (a list of postings lists and their weights) and candidate row: the sum of the
        weights of the measure's lists the row is on; (measures, m), in one bincount for them all."""
        lists = [(ids, w, k) for k, postings in enumerate(measures) for ids, w in postings]
        if not lists:
            return np.zeros((len(measures), m), dtype=np.float32)
        sizes = [len(ids) for ids, _w, _k in lists]
        # Measure k's bins follow measure k-1's, each measure's first bin taking the entries off the
        # candidates (slot -1): no mask to filter them out with, two numpy calls fewer.
        rows = slot[np.concatenate([ids for ids, _w, _k in lists])]
        rows += np.repeat([k * (m + 1) + 1 for _ids, _w, k in lists], sizes)
        weights = np.repeat([w for _ids, w, _k in lists], sizes)
        sums = np.bincount(rows, weights=weights, minlength=len(measures) * (m + 1))
        return sums.reshape(len(measures), m + 1)[:, 1:].astype(np.float32)

    def _bank_rows(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The candidates' bank rows, grouped by candidate: (which candidates have any, their rows,
        where each one's rows start). Only these rows are compared with the question (several
        hundred of 8,135)."""
        count = self._bank_count[positions]
        asked = count > 0
        count = count[asked]
        ends = np.cumsum(count)
        starts = ends - count
        first = self._bank_first[positions][asked]
        rows = np.arange(ends[-1] if len(ends) else 0) - np.repeat(starts, count) + np.repeat(first, count)
        return asked, rows, starts

    def _bank_max(self, qvec: np.ndarray, bank_rows: tuple, skip: np.ndarray | None) -> np.ndarray:
        """Per candidate: the question's cosine with the nearest bank question about it, -1 if none."""
        asked, rows, starts = bank_rows
        best = np.full(len(asked), -1.0, dtype=np.float32)
        if not len(rows):
            return best
        # take: a fifth faster than [rows] here; the codes times the scaled question are the cosines
        sims = self.bank_codes.take(rows, axis=0).astype(np.float32) @ (qvec * self.index.bank_scale)
        if skip is not None and len(skip):
            sims[np.isin(rows, skip)] = -1.0
        best[asked] = np.maximum.reduceat(sims, starts)
        return best

    def _bank_word_scores(self, content: list[str], skip: np.ndarray | None) -> np.ndarray | None:
        """Per bank row: the BM25 of the question's words against that bank question (None when
        no bank question has any of them). Identifiers, flags and numbers ("enforce_eager",
        "num_generations", "stage3") are where words beat the embedding: cross-validated, this
        lifted real questions' hit@1 by 4 points and written ones' by 2 (docs/retrieval.md)."""
        postings = self.index.bank_postings(content)
        if not postings:
            return None
        at = np.concatenate([p[0] for p in postings.values()])
        weights = np.concatenate([p[1] for p in postings.values()])
        if self._bank_kept is not None:  # cross-validation: rows left out are not there
            at = self._bank_kept[at]
            weights = weights[at >= 0]
            at = at[at >= 0]
        score = np.bincount(at, weights=weights, minlength=len(self.bank_positions)).astype(np.float32)
        if skip is not None and len(skip):
            score[skip] = 0.0
        return score

    @staticmethod
    def _bank_words(scores: np.ndarray | None, bank_rows: tuple) -> np.ndarray:
        """Per candidate: the best of `scores` among the bank questions about it (0 if none)."""
        asked, rows, starts = bank_rows
        best = np.zeros(len(asked), dtype=np.float32)
        if scores is not None and len(rows):
            best[asked] = np.maximum.reduceat(scores[rows], starts)
        return best


# A sentence ends at ".", "!", "?" or "…" before a space, but not at "e.g." and its kind (whole words:
# "movie." and "jpeg." do end one).
_SENTENCE_BREAK = re.compile(r"(?<=\S[.!?…])\s+")  # "a ? b" in pasted code is no end
_NO_BREAK_AFTER = re.compile(r"(?:^|[\s(\[])(?:e\.g|eg|i\.e|ie|etc|vs|cf|approx|resp)\.$", re.IGNORECASE)
# A sentence asks when it ends in "?", closing quotes and brackets aside: a "?" inside pasted code
# ("x = a ? b : c") or a quotation mid-sentence asks nothing.
_ASKS = re.compile(r"\?[\s\"'’”`)\]]*$")


def _focus_words(text: str, content: list[str]) -> list[str] | None:
    """The content words of the sentences that ask (end in "?") in a question of several
    sentences, where the rest is context ("I compare embeddings with a raw dot product, but
    longer docs always win. What should I use instead?"); None when they are the whole question."""
    if "?" not in text:
        return None
    sentences: list[str] = []
    for part in _SENTENCE_BREAK.split(text):
        if sentences and _NO_BREAK_AFTER.search(sentences[-1]):
            sentences[-1] += " " + part
        else:
            sentences.append(part)
    asking = [s for s in sentences if _ASKS.search(s)]
    if not asking or len(asking) == len(sentences):
        return None
    words = content_words(" ".join(asking))
    return words if words and len(words) < len(content) else None


def _ranks(scores: np.ndarray) -> np.ndarray:
    """Per row of `scores`, each score's rank in it (0: the highest; ties in their order), as float32."""
    ranks = np.empty(scores.shape, dtype=np.float32)
    order = np.argsort(-scores, axis=1, kind="stable")
    ranks[np.arange(len(scores))[:, None], order] = np.arange(scores.shape[1], dtype=np.float32)
    return ranks
