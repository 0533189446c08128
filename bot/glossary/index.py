"""Build the SQLite index: entries, aliases, links, FTS5 and vectors.

The tables other than `embeddings` are cheap to derive, so every build
rewrites them in one transaction. Embeddings are the expensive part and are
keyed, as simonw/llm does, by (model, content hash) of the exact text embedded:
an unchanged entry is never embedded twice, a new model id embeds everything,
and vectors no entry refers to any more are deleted.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import sqlite3
import time
from collections import Counter
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import numpy as np

if TYPE_CHECKING:
    import sqlite_utils

from . import earlier_names, short_names, vocabulary
from .bank import BANK_FILES, BankQuestion, bank_digest, bank_rows, load_bank
from .embeddings import Embedder
from .errors import GlossaryEmptyError, GlossaryFormatError, GlossaryShrinkError, IndexError_
from .parse import Entry, ParsedGlossary, parse_text
from .terms import TermSpotter, aliases_for, coined, compact_key, content_words, keyword_tokens, lookup_key

SCHEMA_VERSION = 8  # = len(MIGRATIONS)
VOCABULARY_SCHEME = 2  # 2: an item naming another entry is left out (vocabulary.entry_vocabulary)
VIEWS = ("lead", "full")


def _m001_initial(db: sqlite_utils.Database) -> None:
    db["meta"].create({"key": str, "value": str}, pk="key")
    db["entries"].create(
        {"id": int, "term": str, "definition": str, "line": int, "key": str, "aliases_text": str},
        pk="id",
    )
    db["entries"].create_index(["key"])
    db["aliases"].create(
        {"entry_id": int, "alias": str, "key": str, "compact": str, "source": str},
        pk=("entry_id", "key"),
        foreign_keys=[("entry_id", "entries", "id")],
    )
    db["aliases"].create_index(["key"])
    db["aliases"].create_index(["compact"])
    db["links"].create(
        {"src_id": int, "dst_id": int, "kind": str},
        pk=("src_id", "dst_id", "kind"),
        foreign_keys=[("src_id", "entries", "id"), ("dst_id", "entries", "id")],
    )
    db["links"].create_index(["dst_id"])
    db["entry_views"].create(
        {"entry_id": int, "view": str, "content_hash": str},
        pk=("entry_id", "view"),
        foreign_keys=[("entry_id", "entries", "id")],
    )
    db["embeddings"].create(
        {"model": str, "content_hash": str, "vector": bytes}, pk=("model", "content_hash")
    )
    db["entries"].enable_fts(["term", "aliases_text", "definition"], tokenize="porter", create_triggers=False)


def _m002_postings(db: sqlite_utils.Database) -> None:
    """Keyword postings scored with BM25 in numpy: FTS5's own ranking matched
    46,000 rows per question at 69,000 entries (88 ms a query; see `glossary-bot bench`)."""
    db["postings"].create({"token": str, "df": int, "entry_ids": bytes, "weights": bytes}, pk="token",
                          if_not_exists=True)


def _m003_bank(db: sqlite_utils.Database) -> None:
    """Questions with known answers (bank.py), embedded like entry views."""
    db["bank"].create({"question_id": str, "entry_id": int, "content_hash": str},
                      pk=("question_id", "entry_id"), foreign_keys=[("entry_id", "entries", "id")],
                      if_not_exists=True)


def _m004_bank_postings(db: sqlite_utils.Database) -> None:
    """The bank's words, scored with BM25 like the entries' (features.py: identifiers and flags
    such as "enforce_eager" or "num_generations" that the embedding smears). `rows` are rowids
    of `bank`, which the build numbers itself."""
    db["bank_postings"].create({"token": str, "rows": bytes, "weights": bytes}, pk="token",
                               if_not_exists=True)


def _m005_vocabulary_postings(db: sqlite_utils.Database) -> None:
    """The words practitioners use for an entry that its text never writes (vocabulary.py), scored
    with BM25 apart from the entry's own words, idf included like the bank's."""
    db["vocabulary_postings"].create({"token": str, "entry_ids": bytes, "weights": bytes}, pk="token",
                                     if_not_exists=True)


def _m006_bank_matrix(db: sqlite_utils.Database) -> None:
    """The bank as the searcher holds it (pack_bank), written by every build: reading 8,000
    vectors row by row and packing them took half of every start's index opening (~45 ms of
    Python that nothing else could run beside). Packed here too for an index that has a bank
    already: a build that fails after this step (a glossary cut short, refused by check_size)
    leaves the previous index to serve, and it must be whole."""
    db["bank_matrix"].create({"part": str, "data": bytes}, pk="part", if_not_exists=True)
    meta = dict(db.execute("SELECT key, value FROM meta").fetchall()) if db["meta"].exists() else {}
    if meta.get("model") and meta.get("dim") and db["bank"].exists():
        _insert(db, "bank_matrix", pack_bank(db, meta["model"], int(meta["dim"])), verb="INSERT OR REPLACE")


def _m007_earlier_names(db: sqlite_utils.Database) -> None:
    """What the builds before remembered (earlier_names.py): names an entry had, and the ids of
    the last few builds. Filled by the next build, from the entries this one leaves."""
    db["former_names"].create({"key": str, "name": str, "term": str}, pk="key", if_not_exists=True)
    db["earlier_builds"].create({"generation": int, "replaced_at": float}, pk="generation", if_not_exists=True)
    db["earlier_ids"].create({"generation": int, "id": int, "term": str, "now_id": int}, pk=("generation", "id"),
                             if_not_exists=True)


def _m008_build_stamps(db: sqlite_utils.Database) -> None:
    """Which build each kept generation of ids was (earlier_names.build_stamp): two entries that
    swapped names leave every id in its place and every terms hash matching, so only the stamp on a
    quiz button tells the build it was made in (review 54b). None for generations kept before."""
    if "stamp" not in db["earlier_builds"].columns_dict:
        db.execute("ALTER TABLE earlier_builds ADD COLUMN stamp TEXT")


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    _m001_initial, _m002_postings, _m003_bank, _m004_bank_postings, _m005_vocabulary_postings,
    _m006_bank_matrix, _m007_earlier_names, _m008_build_stamps,
]


def schema_version(db: sqlite_utils.Database) -> int:
    return db.execute("PRAGMA user_version").fetchone()[0]


def migrate(db: sqlite_utils.Database) -> None:
    """Apply the migrations this database has not seen, each in its own transaction.

    The explicit BEGIN matters: Python's sqlite3 opens no transaction for
    CREATE or PRAGMA, so a failed step would otherwise leave half a schema.
    (sqlite-utils runs m001's FTS setup as a script, which commits early; that
    step only ever runs on a new, empty file.)"""
    version = schema_version(db)
    if version > len(MIGRATIONS):
        raise IndexError_(
            f"index {db.conn} was written by a newer version (schema {version}); "
            "delete it and run `glossary-bot build`"
        )
    for number, step in enumerate(MIGRATIONS[version:], start=version + 1):
        with db.conn:
            db.conn.execute("BEGIN")
            step(db)
            db.execute(f"PRAGMA user_version = {number}")


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def pack_bank(db: sqlite_utils.Database, model: str, dim: int) -> list[dict]:
    """The `bank_matrix` rows for the bank as stored now: its rows grouped by entry (in entry id
    order, then in the order written), as features.FeatureMaker reads them, and their vectors as
    int8 codes with one scale per dimension (cosines within 0.002 of float32's, which the ranker
    is trained on; a quarter of the memory). GlossaryIndex._load_bank reads them back."""
    # Sorted here, not by an ORDER BY: SQLite's sorter would copy every vector.
    rows = db.execute(
        "SELECT b.question_id, b.entry_id, e.vector, b.rowid FROM bank b "
        "JOIN embeddings e ON e.content_hash = b.content_hash AND e.model = ? "
        "JOIN entries n ON n.id = b.entry_id",
        [model],
    ).fetchall()
    rows = [r for r in rows if len(r[2]) == 4 * dim]
    entry_ids = np.array([r[1] for r in rows], dtype=np.int64)
    rowids = np.array([r[3] for r in rows], dtype=np.int64)
    order = np.lexsort((rowids, entry_ids))
    vectors = np.frombuffer(b"".join(r[2] for r in rows), dtype=np.float32).reshape(len(rows), dim)
    vectors = vectors[order]  # a copy, scaled and rounded in place: no temporaries of the bank's size
    peak = np.maximum(vectors.max(axis=0), -vectors.min(axis=0)) if len(vectors) else np.ones(dim)
    scale = np.where(peak > 0, peak / 127, 1.0).astype(np.float32)
    np.divide(vectors, scale, out=vectors)
    codes = np.rint(vectors, out=vectors).astype(np.int8)
    questions = [rows[i][0] for i in order.tolist()]
    parts = {"questions": json.dumps(questions).encode("utf-8"), "entry_ids": entry_ids[order].tobytes(),
             "rowids": rowids[order].tobytes(), "scale": scale.tobytes(), "codes": codes.tobytes()}
    return [{"part": part, "data": data} for part, data in parts.items()]


_FIRST_SENTENCE = re.compile(r"(.+?[.!?])(?:\s|$)", re.DOTALL)


def lead_sentence(definition: str) -> str:
    """The first sentence of a definition's first line (all of that line if it has no full stop)."""
    first_line = definition.split("\n", 1)[0]
    match = _FIRST_SENTENCE.match(first_line)
    return match.group(1) if match else first_line


def entry_views(entry: Entry) -> dict[str, str]:
    """The texts embedded for an entry: its lead sentence and all of it.

    (A view of the names alone was tried and dropped: name matches are
    already exact, alias and spelling lookups, and it did not help ranking.)"""
    return {
        "lead": f"{entry.term}: {lead_sentence(entry.definition)}",
        "full": f"{entry.term}: {entry.definition}",
    }


@dataclass
class BuildReport:
    entries: int = 0
    multiline: int = 0
    warnings: list[str] = field(default_factory=list)
    embedded: int = 0
    reused: int = 0
    removed: int = 0
    up_to_date: bool = False
    seconds: float = 0.0

    def summary(self) -> str:
        # (said so a newcomer whose first run reports the bundled glossary's own warnings knows they
        # need do nothing about them)
        count = len(self.warnings)
        warnings = (f"{count} warning{'s' * (count != 1)} on the glossary file's layout, none stopping the bot "
                    "(`glossary-bot check` explains each, and looks for more)" if self.warnings else "no warnings")
        if self.up_to_date:
            return f"index up to date: {self.entries} entries, {warnings}"
        return (
            f"{self.entries} entries ({self.multiline} multi-line), {warnings}; "
            f"embedded {self.embedded} texts, reused {self.reused}, removed {self.removed} "
            f"in {self.seconds:.1f}s"
        )


def open_db(path: Path) -> sqlite_utils.Database:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA journal_mode").fetchone()
    except sqlite3.DatabaseError as exc:
        raise IndexError_(f"cannot open index {path}: {exc}; delete it and run `glossary-bot build`") from None
    import sqlite_utils  # here, not at the top: the bot only reads the index and starts faster without it

    db = sqlite_utils.Database(conn)
    try:
        migrate(db)
    except sqlite3.DatabaseError as exc:
        raise IndexError_(f"index {path} is unusable ({exc}); delete it and run `glossary-bot build`") from None
    return db


MULTILINE_SQL = "SELECT count(*) FROM entries WHERE instr(definition, char(10)) > 0"


def _stored_warnings(db: sqlite_utils.Database) -> list[str]:
    return [w for w in (_get_meta(db, "warnings") or "").split("\n") if w]


def _get_meta(db: sqlite_utils.Database, key: str) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def glossary_fingerprint(glossary_path: Path, text: str, model_id: str,
                         bank_files: tuple[Path, ...] = BANK_FILES) -> str:
    """What an index built now from the glossary at `glossary_path` (its `text` as read) would be
    stamped with: the glossary, the files beside it and the bank. The one place that knows which
    files those are, for the build and for the check that skips it."""
    return source_fingerprint(text, model_id, bank_digest(bank_files), short_names.read(glossary_path)[0],
                              vocabulary.read(glossary_path)[0])


def source_fingerprint(text: str, model_id: str, bank: str = "", names: str = "", vocab: str = "") -> str:
    # VIEWS, the keyword and link schemes, the bank (bank.bank_digest), the short names and the
    # vocabulary are part of it so that changing what is embedded, looked up, linked or how postings
    # are tokenised forces a rebuild.
    return content_hash(
        f"schema={SCHEMA_VERSION}\nviews={','.join(VIEWS)}\nkeywords={KEYWORD_SCHEME}\nlinks={LINK_SCHEME}\n"
        f"model={model_id}\n"
        f"bank={bank}\n{text}" + (f"\nshort-names={content_hash(names)}" if names else "")
        + (f"\nvocabulary={VOCABULARY_SCHEME}:{content_hash(vocab)}" if vocab else "")
    )


def read_only_uri(path: Path) -> str:
    """SQLite URI opening `path` read-only; quoted, or a '?', '#' or '%' in it would be read as URI syntax."""
    return f"file:{quote(str(Path(path).absolute()))}?mode=ro"


def _stored_meta(db_path: Path, key: str) -> str | None:
    try:
        with closing(sqlite3.connect(read_only_uri(db_path), uri=True)) as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    except sqlite3.DatabaseError:
        return None
    return row[0] if row else None


def stored_schema(db_path: Path) -> int | None:
    """The schema version an index file is at (None when missing or unreadable)."""
    try:
        with closing(sqlite3.connect(read_only_uri(db_path), uri=True)) as conn:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.DatabaseError:
        return None


def stored_fingerprint(db_path: Path) -> str | None:
    """The fingerprint an index was built with, read without loading the index;
    None when the file is missing or unreadable (then it needs a build)."""
    return _stored_meta(db_path, "fingerprint")


def stored_model(db_path: Path) -> str | None:
    """The embedding model id an index was built with (None when missing or unreadable)."""
    return _stored_meta(db_path, "model")


def build_index(
    db_path: Path,
    glossary_path: Path,
    embedder: Embedder,
    *,
    force: bool = False,
    allow_shrink: bool = False,
    progress: Callable[[int, int], Callable[[int], None]] | None = None,
    bank_files: tuple[Path, ...] = BANK_FILES,
) -> BuildReport:
    """Create or update the index at `db_path` from `glossary_path`.

    `progress(total, already_done)` returns a per-item callback; it is only
    called when there is something to embed. `bank_files`: questions with known answers
    (bank.py; by default the project's own).
    """
    started = time.perf_counter()
    text = glossary_path.read_text(encoding="utf-8")
    short_text, short_problem = short_names.read(glossary_path)
    vocab_text, vocab_problem = vocabulary.read(glossary_path)
    fingerprint = glossary_fingerprint(glossary_path, text, embedder.model_id, bank_files)
    db = open_db(db_path)
    try:
        if not force and _get_meta(db, "fingerprint") == fingerprint:
            return BuildReport(entries=db["entries"].count, multiline=db.execute(MULTILINE_SQL).fetchone()[0],
                               up_to_date=True, warnings=_stored_warnings(db), seconds=time.perf_counter() - started)
        try:
            parsed = parse_text(text)
        except GlossaryEmptyError:  # cut to nothing: check_size keeps an index that has entries
            parsed = ParsedGlossary(entries=[])
        check_size(glossary_path, len(parsed.entries), db["entries"].count, allow_shrink=allow_shrink)
        aliases_of, warnings = _with_short_names(parsed, short_text, short_problem,
                                                 short_names.short_names_path(glossary_path).name)
        names: dict[str, set[str]] = {}
        for entry, aliases in zip(parsed.entries, aliases_of):
            for alias, _source in aliases:
                names.setdefault(lookup_key(alias), set()).add(entry.term)
        vocab_of, vocab_problems = vocabulary.entry_vocabulary(parsed.entries, vocab_text, names)
        vocab_name = vocabulary.vocabulary_path(glossary_path).name
        warnings += [f"{vocab_name} {problem}" for problem in [vocab_problem] * bool(vocab_problem) + vocab_problems]
        return _rebuild(db, parsed, embedder, fingerprint, progress, started, load_bank(bank_files),
                        (aliases_of, warnings), vocab_of)
    finally:
        db.close()


# A rebuild may drop at most this share of the index's entries without --allow-shrink; deleting
# a single entry is always an edit, never damage, even in a glossary of three.
MAX_SHRINK = 0.10


def check_size(glossary_path: Path, entries: int, indexed: int, *, allow_shrink: bool = False) -> None:
    """Refuse a glossary that parses to nothing, or to far fewer entries than the index has."""
    if entries == 0 and indexed:
        # A file cut to nothing (a full disk while saving, `> glossary.txt`) is the worst shrink of all.
        raise GlossaryShrinkError(
            f"glossary file {glossary_path} has no entries (it is empty, or no term line is followed by a "
            f"definition line), the index {indexed}, so the index was kept: restore the file, or run "
            "`glossary-bot check` to see how each line was read"
        )
    if entries == 0:
        raise GlossaryFormatError(
            f"glossary file {glossary_path} has no entries: no term line is followed by a definition line "
            "(run `glossary-bot check` to see how each line was read)"
        )
    lost = indexed - entries
    if not allow_shrink and lost > 1 and lost > indexed * MAX_SHRINK:
        raise GlossaryShrinkError(
            f"glossary file {glossary_path} has {entries} entries, the index {indexed}: a rebuild would drop "
            f"{indexed - entries} ({(indexed - entries) / indexed:.0%}), so the index was kept. If the file "
            "was cut or damaged, restore it; if the entries were removed on purpose, run "
            "`glossary-bot build --allow-shrink`"
        )


def _with_short_names(parsed: ParsedGlossary, text: str, unreadable: str | None,
                      file_name: str) -> tuple[list[list[tuple[str, str]]], list[str]]:
    """Each entry's (alias, source) pairs, the glossary's own then its short names
    (short_names.py), and the build's warnings: the parser's, then the short-name file's."""
    aliases_of = [aliases_for(entry.term, entry.definition) for entry in parsed.entries]
    extra, problems = short_names.extra_aliases(parsed.entries, aliases_of, text)
    for entry, aliases in zip(parsed.entries, aliases_of):
        aliases.extend((name, "short name") for name in extra.get(entry.term, ()))
    problems = [unreadable] * bool(unreadable) + problems
    return aliases_of, parsed.warnings + [f"{file_name} {problem}" for problem in problems]


def _rebuild(
    db: sqlite_utils.Database,
    parsed: ParsedGlossary,
    embedder: Embedder,
    fingerprint: str,
    progress: Callable[[int, int], Callable[[int], None]] | None,
    started: float,
    bank: list[BankQuestion],
    aliases_and_warnings: tuple[list[list[tuple[str, str]]], list[str]],
    vocab_of: dict[str, str],
) -> BuildReport:
    aliases_of, warnings = aliases_and_warnings
    report = BuildReport(entries=len(parsed.entries), multiline=len(parsed.multiline_entries), warnings=warnings)
    alias_rows, view_rows, texts_by_hash = [], [], {}
    entry_rows = []
    for entry_id, (entry, aliases) in enumerate(zip(parsed.entries, aliases_of), start=1):
        names = [a for a, _ in aliases]
        entry_rows.append(
            {
                "id": entry_id,
                "term": entry.term,
                "definition": entry.definition,
                "line": entry.line,
                "key": lookup_key(entry.term),
                "aliases_text": "; ".join(names[1:]),
            }
        )
        for alias, source in aliases:
            alias_rows.append(
                {"entry_id": entry_id, "alias": alias, "key": lookup_key(alias),
                 "compact": compact_key(alias), "source": source}
            )
        for view, view_text in entry_views(entry).items():
            digest = content_hash(view_text)
            texts_by_hash[digest] = view_text
            view_rows.append({"entry_id": entry_id, "view": view, "content_hash": digest})

    term_ids: dict[str, int] = {}
    for row in entry_rows:
        term_ids.setdefault(row["key"], row["id"])
    bank_rows_, bank_texts, seen = [], [], set()
    for question_id, question, entry_id in bank_rows(bank, term_ids):
        if (question_id, entry_id) in seen:
            continue  # the table's key: a question id listed twice keeps its first text
        seen.add((question_id, entry_id))
        digest = content_hash(question)
        texts_by_hash[digest] = question
        bank_rows_.append({"rowid": len(bank_rows_) + 1, "question_id": question_id, "entry_id": entry_id,
                           "content_hash": digest})
        bank_texts.append(question)

    link_rows = _links(parsed.entries, alias_rows)
    posting_rows = keyword_postings(entry_rows)
    vocab_posting_rows = vocabulary_postings(
        [(row["id"], vocab_of.get(row["term"], "")) for row in entry_rows], len(entry_rows))
    bank_posting_rows = bank_postings(bank_texts)

    model = embedder.model_id
    have = {row[0] for row in db.execute("SELECT content_hash FROM embeddings WHERE model = ?", [model])}
    missing = [h for h in texts_by_hash if h not in have]
    report.reused = len(texts_by_hash) - len(missing)
    tick = progress(len(missing), 0) if (progress and missing) else None
    _embed_and_keep(db, embedder, [(h, texts_by_hash[h]) for h in missing], tick)
    report.embedded = len(missing)

    former_rows, earlier_rows, alike = _remembered(db, entry_rows, alias_rows)

    # One transaction for all tables. Plain executemany, not sqlite-utils'
    # insert_all: that commits after every chunk, which both breaks this
    # all-or-nothing rewrite and costs an fsync per chunk (minutes at 69k entries).
    with db.conn:
        db.execute("DELETE FROM entry_views")
        db.execute("DELETE FROM bank")
        db.execute("DELETE FROM links")
        db.execute("DELETE FROM aliases")
        db.execute("DELETE FROM entries")
        db.execute("DELETE FROM postings")
        db.execute("DELETE FROM bank_postings")
        db.execute("DELETE FROM vocabulary_postings")
        db.execute("DELETE FROM bank_matrix")
        db.execute("DELETE FROM former_names")
        db.execute("DELETE FROM earlier_builds")
        db.execute("DELETE FROM earlier_ids")
        _insert(db, "entries", entry_rows)
        _insert(db, "former_names", former_rows)
        _insert(db, "earlier_builds", earlier_rows[0])
        _insert(db, "earlier_ids", earlier_rows[1])
        _insert(db, "postings", posting_rows)
        _insert(db, "bank_postings", bank_posting_rows)
        _insert(db, "vocabulary_postings", vocab_posting_rows)
        _insert(db, "aliases", alias_rows, verb="INSERT OR IGNORE")
        _insert(db, "links", link_rows, verb="INSERT OR IGNORE")
        _insert(db, "entry_views", view_rows)
        _insert(db, "bank", bank_rows_, verb="INSERT OR IGNORE")
        removed = db.execute(
            "DELETE FROM embeddings WHERE model != ? OR content_hash NOT IN "
            "(SELECT content_hash FROM entry_views UNION SELECT content_hash FROM bank)",
            [model],
        ).rowcount
        report.removed = removed
        _insert(db, "bank_matrix", pack_bank(db, model, embedder.dim))
        db["entries"].rebuild_fts()
        _insert(
            db, "meta",
            [
                {"key": "fingerprint", "value": fingerprint},
                {"key": "model", "value": model},
                {"key": "dim", "value": str(embedder.dim)},
                {"key": "warnings", "value": "\n".join(warnings)},
                {"key": "numbered_alike", "value": alike},
            ],
            verb="INSERT OR REPLACE",
        )
    report.seconds = time.perf_counter() - started
    return report


def _remembered(db: sqlite_utils.Database, entry_rows: list[dict],
                alias_rows: list[dict]) -> tuple[list[dict], tuple[list[dict], list[dict]], str]:
    """The rows of former_names, earlier_builds and earlier_ids for this build, from the build it
    replaces, and the stamps of the builds numbered as this one (earlier_names.py)."""
    old = {i: (term, definition) for i, term, definition in db.execute("SELECT id, term, definition FROM entries")}
    old_names: dict[int, list[str]] = {i: [term] for i, (term, _) in old.items()}
    for entry_id, alias in db.execute("SELECT entry_id, alias FROM aliases ORDER BY rowid"):
        old_names.setdefault(entry_id, []).append(alias)
    kept_former = {key: (name, term) for key, name, term in db.execute("SELECT key, name, term FROM former_names")}
    kept_ids: dict[int, earlier_names.IdGeneration] = {}
    for generation, entry_id, term, now_id in db.execute("SELECT generation, id, term, now_id FROM earlier_ids"):
        kept_ids.setdefault(generation, {})[entry_id] = (term, now_id)
    replaced = {g: (when, stamp) for g, when, stamp in db.execute(
        "SELECT generation, replaced_at, stamp FROM earlier_builds")}
    old_stamp = earlier_names.build_stamp(_get_meta(db, "fingerprint"))
    old_alike = [(stamp, float(when)) for stamp, _at, when in
                 (item.partition("@") for item in (_get_meta(db, "numbered_alike") or "").split())]

    new = {row["id"]: (row["term"], row["definition"]) for row in entry_rows}
    new_terms = {i: term for i, (term, _) in new.items()}
    live: dict[str, set[int]] = {}
    for row in alias_rows:
        live.setdefault(row["key"], set()).add(row["entry_id"])
    for row in entry_rows:
        live.setdefault(row["key"], set()).add(row["id"])
    same = earlier_names.entry_map(old, new)
    former = earlier_names.former_names(old_names, same, new_terms, live, kept_former)
    old_terms, now = {i: term for i, (term, _) in old.items()}, time.time()
    stamps_then = " ".join(dict.fromkeys(s for s in (old_stamp, *(s for s, _ in old_alike)) if s)) or None
    generations = earlier_names.earlier_ids(
        old_terms, same, new_terms,
        [(*replaced.get(g, (0.0, None)), kept_ids[g]) for g in sorted(kept_ids)], now, stamps_then)
    alike = earlier_names.numbered_alike(earlier_names.ids_moved(old_terms, same, new_terms) or not old,
                                         old_stamp, old_alike, now)
    return ([{"key": key, "name": name, "term": term} for key, (name, term) in former.items()],
            ([{"generation": g, "replaced_at": when, "stamp": stamp}
              for g, (when, stamp, _) in enumerate(generations, start=1)],
             [{"generation": g, "id": i, "term": term, "now_id": now_id}
              for g, (_, _, ids) in enumerate(generations, start=1) for i, (term, now_id) in ids.items()]),
            " ".join(f"{stamp}@{when:.0f}" for stamp, when in alike))


# Texts embedded between two writes of their vectors: what an interrupted build loses at most
# (about 10 s of a 2-core machine's embedding).
EMBED_CHUNK = 1024


def _embed_and_keep(db: sqlite_utils.Database, embedder: Embedder, texts: list[tuple[str, str]],
                    tick: Callable[[int], None] | None) -> None:
    """Embed (content hash, text) pairs, writing their vectors a chunk at a time, before any table
    the index is read from is touched: an interrupted build leaves the old index intact, and the
    next build reuses what was embedded (a first build stopped by Ctrl-C after a minute had
    started again from zero). Vectors are keyed by model and content, so ones no entry uses yet
    are harmless until the finished build removes them."""
    texts = sorted(texts, key=lambda pair: len(pair[1]))  # the chunks keep embed_documents' batching
    for start in range(0, len(texts), EMBED_CHUNK):
        chunk = texts[start:start + EMBED_CHUNK]
        vectors = embedder.embed_documents([text for _h, text in chunk], progress=tick)
        with db.conn:
            _insert(db, "embeddings",
                    [{"model": embedder.model_id, "content_hash": h, "vector": v.astype(np.float32).tobytes()}
                     for (h, _text), v in zip(chunk, vectors)],
                    verb="INSERT OR REPLACE")


# Field weights for keyword scoring: a word in the term says far more than one
# in the definition (the weights FTS5's bm25() was given before, kept).
FIELD_WEIGHTS = {"term": 10.0, "aliases_text": 6.0, "definition": 1.0}
# "stop-singular": stopwords are also dropped in their singularised form ("does" → "doe").
KEYWORD_SCHEME = "porter;identifier-parts;stop-singular;bm25=1.2,0.75;" + ",".join(f"{k}={v}" for k, v in FIELD_WEIGHTS.items())


def keyword_postings(entry_rows: list[dict], k1: float = 1.2, b: float = 0.75) -> list[dict]:
    """Per token: the entries containing it and the BM25 term-frequency part of
    its score there (field-weighted, length-normalised; k1 and b as FTS5), so a
    query only adds idf × weight over a few postings."""
    docs = []
    for row in entry_rows:
        counts: dict[str, float] = {}
        length = 0
        for field_name, weight in FIELD_WEIGHTS.items():
            words = keyword_tokens(row[field_name])
            length += len(words)
            for word in words:
                counts[word] = counts.get(word, 0.0) + weight
        docs.append((row["id"], counts, length))
    ids, weights = _term_weights(docs, k1, b)
    return [
        {"token": word, "df": len(entry_ids),
         "entry_ids": np.asarray(entry_ids, dtype=np.int32).tobytes(),
         "weights": np.asarray(weights[word], dtype=np.float32).tobytes()}
        for word, entry_ids in ids.items()
    ]


def _term_weights(docs: list[tuple[int, dict[str, float], int]], k1: float,
                  b: float) -> tuple[dict[str, list[int]], dict[str, list[float]]]:
    """BM25's term-frequency part for documents given as (id, word counts, length): per word,
    the ids of the documents that have it and its weight in each."""
    mean_length = (sum(length for _id, _counts, length in docs) / len(docs)) if docs else 1.0
    ids: dict[str, list[int]] = {}
    weights: dict[str, list[float]] = {}
    for doc_id, counts, length in docs:
        norm = k1 * (1 - b + b * length / (mean_length or 1.0))
        for word, freq in counts.items():
            ids.setdefault(word, []).append(doc_id)
            weights.setdefault(word, []).append(freq * (k1 + 1) / (freq + norm))
    return ids, weights


def bank_postings(texts: list[str], k1: float = 1.2, b: float = 0.75) -> list[dict]:
    """Per word: the bank rows (rowid i + 1 for texts[i]) whose question has it, and its whole
    BM25 weight there (idf included: the bank is fixed once built), over content words only."""
    docs = [(row, Counter(words), len(words)) for row, words in enumerate(map(content_words, texts), start=1)]
    rows, weights = _term_weights(docs, k1, b)
    return _with_idf(rows, weights, len(docs), "rows")


def vocabulary_postings(texts: list[tuple[int, str]], entries: int, k1: float = 1.2,
                        b: float = 0.75) -> list[dict]:
    """Per word: the entries (ids) whose vocabulary has it, and its whole BM25 weight there, idf
    over all `entries` included; over content words, as a question's are read."""
    docs = [(entry_id, Counter(words), len(words))
            for entry_id, words in ((entry_id, content_words(text)) for entry_id, text in texts) if words]
    ids, weights = _term_weights(docs, k1, b)
    return _with_idf(ids, weights, entries, "entry_ids")


def _with_idf(holders: dict[str, list[int]], weights: dict[str, list[float]], n: int, column: str) -> list[dict]:
    """Posting rows whose weights hold the word's idf over `n` documents as well."""
    out = []
    for word, held_by in holders.items():
        idf = max(math.log((n - len(held_by) + 0.5) / (len(held_by) + 0.5)), 1e-6)
        out.append({"token": word, column: np.asarray(held_by, dtype=np.int32).tobytes(),
                    "weights": (np.asarray(weights[word], dtype=np.float32) * np.float32(idf)).tobytes()})
    return out


def _insert(db: sqlite_utils.Database, table: str, rows: list[dict], verb: str = "INSERT") -> None:
    if not rows:
        return
    columns = list(rows[0])
    sql = (f"{verb} INTO [{table}] ({', '.join(f'[{c}]' for c in columns)}) "
           f"VALUES ({', '.join('?' for _ in columns)})")
    db.conn.executemany(sql, ([row[c] for c in columns] for row in rows))


# How a definition's mentions become links: "as-written" takes a name its capitals make (ADD,
# ZeRO) only as written (`_mentioned_as_written`).
LINK_SCHEME = "as-written-or-called"


def _mentioned_as_written(names: list[str], definition: str) -> bool:
    """Whether a definition names an entry by a one-word name its capitals make (ADD, ZeRO, CLIP) as
    written, or by any other: "add the temporal half", "near zero" and "a video clip" mention none."""
    cased = [name for name in names if " " not in name and coined(name) and any(ch.isupper() for ch in name)]
    if len(cased) < len(names):
        return True
    # … or as code calls it, in any case: ".cuda()" is CUDA's
    return any(re.search(rf"(?<![A-Za-z0-9]){re.escape(name)}s?(?![A-Za-z0-9])", definition)
               or re.search(rf"\.{re.escape(name)}\(", definition, re.IGNORECASE) for name in cased)


def _links(entries: list[Entry], alias_rows: list[dict]) -> list[dict]:
    """Explicit "see X" references, and other glossary names mentioned in a definition."""
    by_key: dict[str, set[int]] = {}
    written: dict[tuple[int, str], list[str]] = {}
    for row in alias_rows:
        by_key.setdefault(row["key"], set()).add(row["entry_id"])
        written.setdefault((row["entry_id"], row["key"]), []).append(row["alias"])
    spotter = TermSpotter(by_key)
    rows = []
    for entry_id, entry in enumerate(entries, start=1):
        seen = set()
        for key in spotter.see_references(entry.definition):
            for dst in sorted(by_key.get(key, ())):
                if dst != entry_id and (dst, "see") not in seen:
                    seen.add((dst, "see"))
                    rows.append({"src_id": entry_id, "dst_id": dst, "kind": "see"})
        for mention in spotter.spot(entry.definition):
            for dst in sorted(by_key.get(mention.key, ())):
                if not _mentioned_as_written(written[(dst, mention.key)], entry.definition):
                    continue
                if dst != entry_id and (dst, "see") not in seen and (dst, "mentions") not in seen:
                    seen.add((dst, "mentions"))
                    rows.append({"src_id": entry_id, "dst_id": dst, "kind": "mentions"})
    return rows
