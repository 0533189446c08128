"""The built index, loaded read-only for searching.

Names, links and vectors are small enough to hold in memory (a few MB for
690 entries), so lookups and dense search never touch the disk; only FTS5
keyword queries go to SQLite, through a read-only connection per thread
(model calls run in worker threads, and sqlite3 connections are per-thread).
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .index import SCHEMA_VERSION, VIEWS, IndexError_
from .terms import tokens


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


STOPWORDS = frozenset(
    """a about an and are as at be been but by can could did do does doing for from had has have how i if
    in into is it its me my of on or so than that the their them then there these they this to up us was
    we were what when where which who why will with would you your yours just also any some very really
    thing things called call name named explain someone anyone tell mean means""".split()
)


class GlossaryIndex:
    def __init__(self, path: Path):
        self.path = Path(path)
        if not self.path.is_file():
            raise IndexError_(f"index {self.path} not found: run `glossary-bot build`")
        self._local = threading.local()
        try:
            self._load(self._connection())
        except sqlite3.DatabaseError as exc:
            raise IndexError_(
                f"index {self.path} is unreadable ({exc}); delete it and run `glossary-bot build`"
            ) from None

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
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
        self.build_warnings = [w for w in meta.get("warnings", "").split("\n") if w]

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

        self.by_key: dict[str, list[int]] = defaultdict(list)
        self.by_compact: dict[str, list[int]] = defaultdict(list)
        self.term_key: dict[int, str] = {}
        for entry_id, alias, key, compact, source in self.alias_rows:
            if entry_id not in self.by_key[key]:
                self.by_key[key].append(entry_id)
            if entry_id not in self.by_compact[compact]:
                self.by_compact[compact].append(entry_id)
            self.term_key.setdefault(entry_id, key)

        self.links_from: dict[int, list[Link]] = defaultdict(list)
        self.links_to: dict[int, list[Link]] = defaultdict(list)
        for src, dst, kind in conn.execute("SELECT src_id, dst_id, kind FROM links ORDER BY rowid"):
            self.links_from[src].append(Link(dst, kind))
            self.links_to[dst].append(Link(src, kind))

        self._load_vectors(conn)
        self._load_vocabulary()

    def _load_vectors(self, conn: sqlite3.Connection) -> None:
        rows = conn.execute(
            "SELECT v.entry_id, v.view, e.vector FROM entry_views v "
            "JOIN embeddings e ON e.content_hash = v.content_hash AND e.model = ? "
            "ORDER BY v.entry_id, v.view",
            [self.model_id],
        ).fetchall()
        by_view: dict[str, dict[int, np.ndarray]] = {view: {} for view in VIEWS}
        for entry_id, view, blob in rows:
            by_view[view][entry_id] = np.frombuffer(blob, dtype=np.float32)
        self.entry_ids = np.array(sorted(self.entries), dtype=np.int64)
        self.vectors: dict[str, np.ndarray] = {}
        for view in VIEWS:
            vecs = by_view[view]
            if len(vecs) != len(self.entries):
                raise IndexError_(
                    f"index {self.path} lacks {view!r} vectors for some entries: run `glossary-bot build`"
                )
            self.vectors[view] = np.vstack([vecs[i] for i in self.entry_ids.tolist()])
        self.dim = self.vectors["full"].shape[1]

    def _load_vocabulary(self) -> None:
        """Document frequency of every word, to tell a query's rare words from common ones."""
        df: dict[str, int] = defaultdict(int)
        for entry in self.entries.values():
            for tok in set(tokens(" ".join((entry.term, *entry.aliases, entry.definition)))):
                df[tok] += 1
        self.doc_freq = dict(df)

    def keyword_search(self, text: str, limit: int = 50) -> list[tuple[int, float]]:
        """FTS5 BM25 over term, aliases and definition: (entry id, score ≥ 0), best first."""
        words = [t for t in tokens(text) if t not in STOPWORDS and len(t) > 1]
        if not words:
            return []
        # Every word is quoted, so user text can never be read as FTS5 syntax.
        query = " OR ".join('"' + re.sub(r'"', '""', w) + '"' for w in dict.fromkeys(words))
        rows = self._connection().execute(
            "SELECT rowid, -bm25(entries_fts, 10.0, 6.0, 1.0) FROM entries_fts "
            "WHERE entries_fts MATCH ? ORDER BY bm25(entries_fts, 10.0, 6.0, 1.0) LIMIT ?",
            [query, limit],
        ).fetchall()
        return [(int(r[0]), float(r[1])) for r in rows]

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
