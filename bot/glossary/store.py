"""The built index, loaded read-only for searching.

Names, links and vectors are held in memory, so lookups and dense search
never touch the disk; keyword search reads the postings of the query's few
words from SQLite, through a read-only connection per thread (model calls
run in worker threads, and sqlite3 connections are per-thread).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .earlier_names import build_stamp
from .index import SCHEMA_VERSION, VIEWS, IndexError_, read_only_uri
from .terms import content_words

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredEntry:
    id: int
    term: str
    definition: str
    line: int
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class Link:
    entry_id: int
    kind: str  # "see", "mentions", "mentioned by"


# Above this many entries, nearest() prefilters with binary codes (see there).
EXACT_SEARCH_LIMIT = 20_000
PREFILTER = 4_000


def _pack_signs(matrix: np.ndarray) -> np.ndarray:
    """Sign bits of each row packed into 64-bit words, word-major: shape (words, rows)."""
    bits = np.packbits(matrix > 0, axis=1)
    pad = (-bits.shape[1]) % 8
    if pad:
        bits = np.pad(bits, ((0, 0), (0, pad)))
    return np.ascontiguousarray(np.ascontiguousarray(bits).view(np.uint64).T)


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k highest scores, best first, without sorting them all."""
    if len(scores) <= k:
        return np.argsort(-scores, kind="stable")
    part = np.argpartition(-scores, k)[:k]
    return part[np.argsort(-scores[part], kind="stable")]


# Words whose postings stay in memory (with "not in the glossary" remembered too); at the
# 100× synthetic glossary the largest few thousand postings lists take a few tens of MB.
POSTINGS_CACHE_WORDS = 20_000


class GlossaryIndex:
    def __init__(self, path: Path):
        self.path = Path(path)
        if not self.path.is_file():
            raise IndexError_(f"index {self.path} not found: run `glossary-bot build`")
        self._local = threading.local()
        # per postings table: word → (rows, weights), None for a word it lacks
        self._postings_cache: dict[str, dict[str, tuple[np.ndarray, np.ndarray] | None]] = {
            "postings": {}, "bank_postings": {}, "vocabulary_postings": {}}
        self._postings_lock = threading.Lock()
        # word → (its postings' weights, the same times the word's idf), for bm25 (see there)
        self._bm25_weights: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        # True once a postings read found the file rebuilt since this loaded it (another process's
        # build rewrites it in place), or could not read it: words not read yet are then taken as
        # unknown, not read from a numbering these entries do not have, nor failing every question.
        # The bot opens the index again (GlossaryBot.reopen_if_rebuilt).
        self.stale = False
        try:
            conn = self._connection()
            conn.execute("BEGIN")  # one snapshot: a build that commits meanwhile is not half read
            try:
                self._load(conn)
            finally:
                if conn.in_transaction:  # (SQLite ends it by itself after some errors)
                    conn.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            raise IndexError_(
                f"index {self.path} is unreadable ({exc}); delete it and run `glossary-bot build`"
            ) from None

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(read_only_uri(self.path), uri=True, check_same_thread=False)
            self._local.conn = conn
        return conn

    def _load(self, conn: sqlite3.Connection) -> None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version != SCHEMA_VERSION:
            raise IndexError_(
                f"index {self.path} has schema {version}, expected {SCHEMA_VERSION}: run `glossary-bot build`"
            )
        meta = dict(conn.execute("SELECT key, value FROM meta"))
        self.model_id = meta.get("model", "")
        self.fingerprint = meta.get("fingerprint", "")
        self._stamp = meta.get("fingerprint")  # as a postings read sees it (None: a file without one)
        # the stamps of earlier builds that numbered the entries as this one does (earlier_names.numbered_alike)
        self.numbered_alike = frozenset(item.partition("@")[0] for item in meta.get("numbered_alike", "").split())
        self.build_warnings = [w for w in meta.get("warnings", "").split("\n") if w]
        self.dim = int(meta.get("dim") or 0)

        aliases: dict[int, list[str]] = defaultdict(list)
        self.alias_rows: list[tuple[int, str, str, str, str]] = []
        for entry_id, alias, key, compact, source in conn.execute(
            "SELECT entry_id, alias, key, compact, source FROM aliases ORDER BY rowid"
        ):
            aliases[entry_id].append(alias)
            self.alias_rows.append((entry_id, alias, key, compact, source))
        self.entries: dict[int, StoredEntry] = {
            row[0]: StoredEntry(row[0], row[1], row[2], row[3], tuple(aliases[row[0]]))
            for row in conn.execute("SELECT id, term, definition, line FROM entries ORDER BY id")
        }
        if not self.entries:
            raise IndexError_(f"index {self.path} is empty: run `glossary-bot build`")
        self.by_term: dict[str, StoredEntry] = {}
        for entry in self.entries.values():  # a term written twice (check calls it an error) is the first, as /define has it
            self.by_term.setdefault(entry.term, entry)

        self.by_key: dict[str, list[int]] = defaultdict(list)
        self.by_compact: dict[str, list[int]] = defaultdict(list)
        self.term_key: dict[int, str] = {}
        for entry_id, alias, key, compact, source in self.alias_rows:
            if entry_id not in self.by_key[key]:
                self.by_key[key].append(entry_id)
            if entry_id not in self.by_compact[compact]:
                self.by_compact[compact].append(entry_id)
            self.term_key.setdefault(entry_id, key)

        # the names earlier builds gave entries (earlier_names.py); their ids are read when asked for
        self.former: dict[str, str] = dict(conn.execute("SELECT key, term FROM former_names"))
        self._earlier_ids: list[tuple[str | None, dict[int, tuple[str, int | None]]]] | None = None

        self.links_from: dict[int, list[Link]] = defaultdict(list)
        self.links_to: dict[int, list[Link]] = defaultdict(list)
        for src, dst, kind in conn.execute("SELECT src_id, dst_id, kind FROM links ORDER BY rowid"):
            self.links_from[src].append(Link(dst, kind))
            self.links_to[dst].append(Link(src, kind))

        self._load_vectors(conn)

    @property
    def build_stamp(self) -> str | None:
        """This build's stamp (earlier_names.build_stamp), which a quiz button carries."""
        return build_stamp(self._stamp)

    def earlier_ids(self, stamp: str | None = None) -> list[dict[int, tuple[str, int | None]]]:
        """The ids of the builds before this one, the latest first: per id, the term it stood for then
        and the id of that entry in this build (None: gone); given a `stamp`, those of the builds so
        stamped only. Read once, when a quiz button asks: a button from before a rebuild is rare, and
        a large glossary's maps are not held for nothing."""
        if self._earlier_ids is None:
            generations: dict[int, dict[int, tuple[str, int | None]]] = defaultdict(dict)
            try:  # with the build's stamp, in the same statement: ids of a newer build would mislead
                rows = self._connection().execute(
                    "SELECT generation, id, term, now_id, stamp, (SELECT value FROM meta WHERE key = 'fingerprint') "
                    "FROM earlier_ids LEFT JOIN earlier_builds USING (generation)").fetchall()
            except sqlite3.DatabaseError as exc:
                self._rebuilt_under_us(f"it cannot be read now ({' '.join(str(exc).split())})")
                return []
            if any(fingerprint != self._stamp for *_row, fingerprint in rows):
                self._rebuilt_under_us("it was rebuilt since it was opened")
                return []
            stamps: dict[int, str | None] = {}
            for generation, entry_id, term, now_id, made, _fingerprint in rows:
                generations[generation][entry_id] = (term, now_id)
                stamps[generation] = made
            self._earlier_ids = [(stamps[g], generations[g]) for g in sorted(generations)]
        return [ids for made, ids in self._earlier_ids if stamp is None or stamp in (made or "").split()]

    def entry_named(self, term: str, *, cut: bool = False) -> StoredEntry | None:
        """The entry called exactly `term` (a review card's, a round's option), without searching.
        `cut`: `term` may be a name cut short (to fit a button's id); then the one entry whose
        name starts with it."""
        entry = self.by_term.get(term)
        if entry is None and cut and term:
            found = [e for name, e in self.by_term.items() if name.startswith(term)]
            entry = found[0] if len(found) == 1 else None
        return entry

    def _load_vectors(self, conn: sqlite3.Connection) -> None:
        self.entry_ids = np.array(sorted(self.entries), dtype=np.int64)
        # BM25's idf of a word on `count` entries, by count
        counts, n = np.arange(len(self.entry_ids) + 1), len(self.entry_ids)
        self._idf_by_count = np.maximum(np.log((n - counts + 0.5) / (counts + 0.5)), 1e-6).astype(np.float32)
        # entry id → row in the vector matrices (ids are 1..n, but do not rely on it)
        self._positions = np.zeros(int(self.entry_ids.max()) + 1, dtype=np.int64)
        self._positions[self.entry_ids] = np.arange(len(self.entry_ids))
        dim = self.dim
        n = len(self.entry_ids)
        # Rows go straight into preallocated matrices: no list of blobs, no
        # stacking copy (at 69,000 entries that halves the peak memory).
        self.vectors: dict[str, np.ndarray] = {view: np.empty((n, dim), dtype=np.float32) for view in VIEWS}
        filled = {view: np.zeros(n, dtype=bool) for view in VIEWS}
        rows = conn.execute(
            "SELECT v.entry_id, v.view, e.vector FROM entry_views v "
            "JOIN embeddings e ON e.content_hash = v.content_hash AND e.model = ?",
            [self.model_id],
        )
        for entry_id, view, blob in rows:
            if view in self.vectors and len(blob) == 4 * dim and entry_id in self.entries:
                pos = self._positions[entry_id]
                self.vectors[view][pos] = np.frombuffer(blob, dtype=np.float32)
                filled[view][pos] = True
        for view in VIEWS:
            if not filled[view].all():
                raise IndexError_(
                    f"index {self.path} lacks {view!r} vectors for some entries: run `glossary-bot build --force`"
                )
        self._codes = self._binary_codes() if n > EXACT_SEARCH_LIMIT else None
        self._load_bank(conn)

    def _load_bank(self, conn: sqlite3.Connection) -> None:
        """Questions with known answers (bank.py): one row per (question, entry it is about), grouped
        by entry (positions follow entry ids), as features.FeatureMaker reads them; packed by the
        build (index.pack_bank), so this is a few reads, not a row per question."""
        parts = dict(conn.execute("SELECT part, data FROM bank_matrix"))
        try:
            questions = json.loads(parts["questions"])
            if not isinstance(questions, list):
                raise ValueError("question ids that are no list")
            entry_ids = np.frombuffer(parts["entry_ids"], dtype=np.int64)
            rowids = np.frombuffer(parts["rowids"], dtype=np.int64)
            self.bank_scale = np.frombuffer(parts["scale"], dtype=np.float32)
            self.bank_codes = np.frombuffer(parts["codes"], dtype=np.int8).reshape(len(questions), self.dim)
            if len(self.bank_scale) != self.dim or not len(entry_ids) == len(rowids) == len(questions):
                raise ValueError("parts of different sizes")
            if len(entry_ids) and (entry_ids.min() < 1 or entry_ids.max() >= len(self._positions)):
                raise ValueError("an entry this index lacks")
            if len(rowids) and (rowids.min() < 1 or rowids.max() > 16 * len(rowids)):
                raise ValueError("rows out of the bank's range")
        except (KeyError, ValueError) as exc:
            # --force: the damage leaves the sources' fingerprint as it was, so a plain build finds nothing to do
            raise IndexError_(f"index {self.path} has a damaged question bank ({exc}): run `glossary-bot build --force`"
                              ) from None
        self.bank_questions = questions
        self.bank_positions = self._positions[entry_ids]
        # bank rowid → row here (-1: not loaded), for the bank's word postings
        self._bank_slot = np.full(int(rowids.max()) + 1 if len(rowids) else 1, -1, dtype=np.int64)
        self._bank_slot[rowids] = np.arange(len(rowids))

    def _binary_codes(self) -> tuple[np.ndarray, np.ndarray]:
        """One bit per dimension (above or below the mean) of every 'full' vector,
        packed into 64-bit words: a 48-byte code per entry for 384 dimensions."""
        matrix = self.vectors["full"]
        centre = matrix.mean(axis=0)
        return _pack_signs(matrix - centre), centre

    def cosines(self, query: np.ndarray) -> np.ndarray | None:
        """The query's cosine with every entry's 'full' vector, up to EXACT_SEARCH_LIMIT
        entries (None above it, where `nearest` prefilters instead)."""
        return self.vectors["full"] @ query if self._codes is None else None

    def nearest(self, query: np.ndarray, k: int) -> np.ndarray:
        """Positions of the k entries whose 'full' vector is closest to `query`, best first.

        Exact up to EXACT_SEARCH_LIMIT entries. Above it, the Hamming distance
        of binary codes picks PREFILTER candidates and those are scored exactly:
        at 69,000 entries a float32 product over all vectors costs 8–10 ms
        (memory-bound: two threads do not help), codes plus rescoring ~2.5 ms,
        and 98–99% of the exact top 5 are kept (`glossary-bot bench` reports both)."""
        matrix = self.vectors["full"]
        if self._codes is None:
            return top_k(matrix @ query, k)
        codes, centre = self._codes
        query_code = _pack_signs((query - centre)[None, :])[:, 0]
        distance = np.zeros(codes.shape[1], dtype=np.uint16)
        for word, query_word in zip(codes, query_code):  # one contiguous row of words at a time: fastest in numpy
            distance += np.bitwise_count(word ^ query_word)
        if len(distance) <= PREFILTER:
            candidates = np.arange(len(distance))
        else:
            candidates = np.argpartition(distance, PREFILTER)[:PREFILTER]
        return candidates[top_k(matrix[candidates] @ query, k)]

    def postings(self, words: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """word → (positions in entry_ids, field-weighted frequency), for words the glossary has.

        Words are read from SQLite once and then kept (the index never changes while it is
        open; a question's words are mostly the same few thousand): a query for them cost a
        sixth of a meaning search's own time."""
        return self._cached_postings("postings", "entry_ids", self._positions, words)

    def bank_postings(self, words: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """word → (rows of the bank as loaded here, BM25 weight with idf), for words bank
        questions have (index.bank_postings); kept in memory like `postings`."""
        return self._cached_postings("bank_postings", "rows", self._bank_slot, words)

    def vocabulary_postings(self, words: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """word → (positions in entry_ids, BM25 weight with idf), for words of the entries'
        vocabulary (vocabulary.py, index.vocabulary_postings); kept in memory like `postings`."""
        return self._cached_postings("vocabulary_postings", "entry_ids", self._positions, words)

    def _rebuilt_under_us(self, why: str) -> None:
        if not self.stale:
            self.stale = True
            log.warning("index %s: %s; serving the entries it was opened with, and keyword matches only "
                        "for the words already read, until it is opened again", self.path, why)

    def _cached_postings(self, table: str, column: str, slot: np.ndarray,
                         words: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        words = list(dict.fromkeys(words))
        cache = self._postings_cache[table]  # one snapshot: another thread may swap in a new dict meanwhile
        missing = [w for w in words if w not in cache]
        if missing:
            fetched: dict[str, tuple[np.ndarray, np.ndarray] | None] = dict.fromkeys(missing)
            for start in range(0, len(missing), 500):  # SQLite's limit on bound parameters
                chunk = missing[start : start + 500]
                # With the build's stamp, read in the same statement (one snapshot of the file)
                try:
                    rows = self._connection().execute(
                        f"SELECT token, {column}, weights, (SELECT value FROM meta WHERE key = 'fingerprint') "
                        f"FROM {table} WHERE token IN ({','.join('?' * len(chunk))})",
                        chunk,
                    ).fetchall()
                    changed = "it was rebuilt since it was opened" if any(
                        stamp != self._stamp for *_row, stamp in rows) else None
                except sqlite3.DatabaseError as exc:  # a build killed mid-write, a damaged copy put in its place
                    changed = f"it cannot be read now ({' '.join(str(exc).split())})"
                if changed:
                    self._rebuilt_under_us(changed)
                    return {w: cache[w] for w in words if cache.get(w) is not None}
                for token, ids, weights, _stamp in rows:
                    at = slot[np.frombuffer(ids, dtype=np.int32)]
                    weights = np.frombuffer(weights, dtype=np.float32)
                    loaded = at >= 0  # bank rows of entries this index lacks are not loaded
                    fetched[token] = (at, weights) if loaded.all() else (at[loaded], weights[loaded])
            with self._postings_lock:
                current = self._postings_cache[table]
                if len(current) + len(fetched) > POSTINGS_CACHE_WORDS:
                    # Full: start over (rare: a long-running bot meeting new words; cheaper than
                    # LRU bookkeeping), in a new dict, so a reader of the old one loses nothing.
                    self._postings_cache[table] = dict(fetched)
                else:
                    current.update(fetched)  # words are only ever added to a dict in use
            found = {w: fetched[w] if w in fetched else cache[w] for w in words}
        else:
            found = {w: cache[w] for w in words}
        return {w: p for w, p in found.items() if p is not None}

    def bm25(self, postings: dict[str, tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        """BM25 of every entry for these words' postings (aligned with entry_ids):
        the term-frequency parts were computed at build time, idf is added here."""
        n = len(self.entry_ids)
        if not postings:
            return np.zeros(n, dtype=np.float32)
        # One bincount over every word's postings, not an indexed add per word, and each word's
        # weights times its idf kept from its first question: on the /ask path each numpy call
        # costs several times more right after the model has run than in a loop.
        kept = self._bm25_weights
        if len(kept) > POSTINGS_CACHE_WORDS:
            kept.clear()  # as the postings cache does: rare, and cheaper than LRU bookkeeping
        weighted = []
        for word, (positions, weights) in postings.items():
            known = kept.get(word)
            if known is None or known[0] is not weights:  # (new postings after the cache started over)
                known = kept[word] = (weights, weights * self._idf_by_count[len(positions)])
            weighted.append(known[1])
        at = np.concatenate([positions for positions, _w in postings.values()])
        return np.bincount(at, weights=np.concatenate(weighted), minlength=n).astype(np.float32)

    def keyword_search(self, text: str, limit: int = 50) -> list[tuple[int, float]]:
        """(entry id, BM25 score > 0) for the query's content words, best first."""
        scores = self.bm25(self.postings(content_words(text)))
        top = np.argsort(-scores)[:limit]
        return [(int(self.entry_ids[i]), float(scores[i])) for i in top if scores[i] > 0]

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
