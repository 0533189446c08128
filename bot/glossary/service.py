"""Open everything a front end needs once: settings → model → index → searcher.

The CLI, the local console and the Discord bot all start here, so they answer
identically. The model is loaded lazily: exact and alias lookups (`/define`,
autocomplete) never need it, and a build that is up to date does not either.

The index is a cache of the glossary file, so a damaged one can always be
rebuilt. The CLI reports it and names the fix (`glossary-bot build --force`);
the Discord bot (`open(recover=True)`) moves it aside and rebuilds it itself,
because an admin would rather find a log line than a bot that is down.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

from ..config import Settings
from .embeddings import BUNDLED, BUNDLED_MODEL_ID, Embedder, FastEmbedEmbedder
from .index import (
    SCHEMA_VERSION,
    BuildReport,
    IndexError_,
    build_index,
    read_only_uri,
    source_fingerprint,
    stored_fingerprint,
)
from .parse import GlossaryFormatError
from .search import Searcher
from .store import GlossaryIndex

log = logging.getLogger(__name__)

_SQLITE_HEADER = b"SQLite format 3\x00"
# Tables every schema version of the index has; a SQLite file with none of
# them is somebody else's database and is never moved or written.
_INDEX_TABLES = frozenset({"meta", "entries", "aliases", "links", "entry_views", "embeddings"})


class CorruptIndexError(IndexError_):
    """The index file is damaged, half-built or from another schema version.

    It is derived from the glossary, so moving it aside and rebuilding fixes
    it; `path` and `problem` let the bot log what it moved and why."""

    def __init__(self, path: Path, problem: str):
        super().__init__(
            f"index {path} {problem}: run `glossary-bot build --force` to move it aside and rebuild it"
        )
        self.path = path
        self.problem = problem


def check_index(path: Path) -> None:
    """Raise unless `path` is missing, empty or a readable, intact index this version can use.

    The header, the table names, the schema version and SQLite's quick_check,
    which catches truncated files and damaged pages that would otherwise only
    fail later, in the middle of a query. quick_check reads every page: ~6 ms
    for the real glossary's index, ~0.4 s at 69,000 entries."""
    try:
        if not path.exists():
            return
        if path.is_dir():
            raise IndexError_(f"index path {path} is a folder: set GLOSSARY_INDEX to a file path")
        with path.open("rb") as handle:
            header = handle.read(len(_SQLITE_HEADER))
    except PermissionError:
        raise IndexError_(
            f"cannot read index {path}: permission denied; make it readable (chmod a+r) or set GLOSSARY_INDEX"
        ) from None
    except OSError as exc:
        raise IndexError_(f"cannot read index {path} ({exc.strerror}): set GLOSSARY_INDEX to a readable file") from None
    if not header:
        return  # an empty file is an empty database: the next build fills it
    if header != _SQLITE_HEADER:
        raise CorruptIndexError(path, "is not a SQLite database (damaged or overwritten)")
    _roll_back_unfinished_write(path)
    try:
        with closing(sqlite3.connect(read_only_uri(path), uri=True)) as conn:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        _raise_if_busy(path, exc)
        raise CorruptIndexError(path, f"is damaged ({exc})") from None
    if tables and not tables & _INDEX_TABLES:
        names = ", ".join(sorted(tables)[:5])
        raise IndexError_(
            f"{path} is a SQLite database of something else (tables: {names}), not a glossary index: "
            "set GLOSSARY_INDEX to another file (it will not be touched)"
        )
    if verdict != "ok":
        raise CorruptIndexError(path, f"is damaged ({' '.join(str(verdict).split())[:120]})")
    if version > SCHEMA_VERSION:
        raise CorruptIndexError(
            path, f"was written by a newer glossary-bot (schema {version}; this one reads {SCHEMA_VERSION})"
        )
    if tables and (version == 0 or not _INDEX_TABLES <= tables):
        raise CorruptIndexError(path, "is incomplete (an interrupted build)")


def _roll_back_unfinished_write(path: Path) -> None:
    """A build killed mid-write leaves a "hot" journal that only a writable
    connection can roll back; a read-only one reports an error that looks like
    damage. Roll it back (the index is then as before that build) when we may write."""
    journal = path.with_name(path.name + "-journal")
    try:
        if not journal.is_file() or journal.stat().st_size == 0 or write_problem(path):
            return
        with closing(sqlite3.connect(path)) as conn:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        _raise_if_busy(path, exc)
        # anything else: the read-only check that follows reports it
    except OSError:
        pass


def _raise_if_busy(path: Path, exc: sqlite3.DatabaseError) -> None:
    """Another process holding a write lock is not damage: say so, and touch nothing."""
    if getattr(exc, "sqlite_errorname", "") in ("SQLITE_BUSY", "SQLITE_LOCKED") or "locked" in str(exc):
        raise IndexError_(
            f"index {path} is busy: another glossary-bot is writing it (a build?); try again when it has finished"
        ) from None
    if "readonly" in str(exc):
        raise IndexError_(
            f"index {path} has an unfinished write (a build was interrupted) that only a user who can write "
            "the file and its folder can roll back: run `glossary-bot build` as that user"
        ) from None


def move_aside(path: Path) -> Path:
    """Rename a damaged index (and any journal beside it) to `<name>.corrupt-<time>`; returns the new path.

    Renamed, not deleted: it may be worth a look, and the admin can delete it.
    Its journal goes too, or SQLite would replay it into the fresh index."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    number = 1
    while target.exists():
        number += 1
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{number}")
    try:
        path.rename(target)
        for suffix in ("-journal", "-wal", "-shm"):
            side = path.with_name(path.name + suffix)
            if side.exists():
                side.rename(target.with_name(target.name + suffix))
    except OSError as exc:
        raise IndexError_(
            f"index {path} is unusable and cannot be moved aside ({exc.strerror}): delete it, or make its "
            "folder writable, then run `glossary-bot build`"
        ) from None
    return target


def write_problem(path: Path) -> str | None:
    """Why the index at `path` cannot be (re)written, or None if it can.

    Asked before a build loads the model and embeds for minutes, so a
    read-only index fails at once with the reason."""
    if path.exists() and not os.access(path, os.W_OK):
        return "the file is read-only"
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent  # the build creates missing folders: the nearest existing one decides
    # SQLite writes a journal file next to the index, so the folder must be writable too.
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"the folder {folder} is not writable"
    return None


class Glossary:
    """A built index plus a searcher, with the embedding model loaded on demand."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None):
        self.settings = settings
        self._embedder = embedder
        self._lock = threading.Lock()
        self.index: GlossaryIndex | None = None
        self.searcher: Searcher | None = None

    @property
    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                self._embedder = FastEmbedEmbedder.load(
                    self.settings.model,
                    tokenizer_dir=self.settings.model_dir,
                    cache_dir=self.settings.cache_dir,
                    batch_size=self.settings.batch_size,
                )
            return self._embedder

    def read_glossary(self) -> str:
        """The glossary text, or a GlossaryFormatError that says how to fix the file."""
        path = self.settings.glossary_path
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise GlossaryFormatError(
                f"glossary file not found: {path} (set GLOSSARY_FILE, or restore data/glossary.txt)"
            ) from None
        except UnicodeDecodeError as exc:
            raise GlossaryFormatError(
                f"glossary file {path} is not UTF-8 text (bad byte at offset {exc.start}): save it as UTF-8"
            ) from None
        except OSError as exc:
            raise GlossaryFormatError(
                f"cannot read glossary file {path} ({exc.strerror}): check its permissions or set GLOSSARY_FILE"
            ) from None

    def needs_build(self) -> bool:
        path = self.settings.index_path
        text = self.read_glossary()
        if not path.is_file():
            return True
        return stored_fingerprint(path) != source_fingerprint(text, self.configured_model_id)

    @property
    def configured_model_id(self) -> str:
        """The model id an index must have been built with to serve the configured model."""
        if self._embedder is not None:
            return self._embedder.model_id
        return BUNDLED_MODEL_ID if self.settings.model == BUNDLED else self.settings.model

    def check_index(self, *, recover: bool = False) -> None:
        """Raise if the index file is unusable; with `recover`, move a damaged one aside instead."""
        try:
            check_index(self.settings.index_path)
        except CorruptIndexError as exc:
            if not recover:
                raise
            moved = move_aside(exc.path)
            log.warning("index %s %s: moved it to %s; rebuilding it from %s",
                        exc.path, exc.problem, moved, self.settings.glossary_path)

    def build(self, *, force: bool = False, progress: Callable | None = None) -> BuildReport:
        """Create or update the index; `force` rewrites it, moving a damaged one aside first."""
        self.read_glossary()
        self.check_index(recover=force)
        path = self.settings.index_path
        if not force and not self.needs_build():  # answered without loading the model or writing anything
            started = time.perf_counter()
            with closing(sqlite3.connect(read_only_uri(path), uri=True)) as conn:
                count = conn.execute("SELECT count(*) FROM entries").fetchone()[0]
            return BuildReport(entries=count, up_to_date=True, seconds=time.perf_counter() - started)
        problem = write_problem(path)
        if problem:
            raise IndexError_(
                f"cannot write index {path}: {problem}; make it writable, or set GLOSSARY_INDEX to a "
                "writable path, then run `glossary-bot build`"
            )
        try:
            with build_lock(path):
                return build_index(
                    path, self.settings.glossary_path, self.embedder,
                    force=force, progress=progress or terminal_progress,
                )
        except sqlite3.OperationalError as exc:  # e.g. the disk filled up while writing
            raise IndexError_(
                f"cannot write index {path} ({exc}): free some disk space or fix its permissions, then run "
                "`glossary-bot build`"
            ) from None

    def open(self, *, build_if_needed: bool = True, recover: bool = False) -> Searcher:
        """Load the index (building it first if missing or stale) and the searcher.

        `recover` (the Discord bot) moves a damaged index aside and rebuilds it;
        without it (the CLI and console) a damaged index is an error that names the fix."""
        path = self.settings.index_path
        self.check_index(recover=recover)
        if build_if_needed and self.needs_build():
            problem = write_problem(path)
            if problem:
                state = "is out of date (the glossary or GLOSSARY_MODEL changed)" if path.exists() else "is missing"
                raise IndexError_(
                    f"index {path} {state} and cannot be rebuilt: {problem}; make it writable, or run "
                    "`glossary-bot build` as a user who can write it"
                )
            report = self.build()
            print(f"index: {report.summary()}", file=sys.stderr)
        self.index = GlossaryIndex(path)
        self.searcher = Searcher(self.index, _LazyEmbedder(self))
        return self.searcher
@contextlib.contextmanager
def build_lock(index_path: Path) -> Iterator[None]:
    """One build of an index at a time, across processes (the bot, a CLI build, the
    Docker health check): a second builder waits here, before it loads the model,
    and then finds the index up to date instead of embedding everything again."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no cross-process lock
        yield
        return
    lock_path = index_path.with_name(index_path.name + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)  # the build creates the index's folder anyway
    with open(lock_path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"waiting for another build of {index_path} to finish…", file=sys.stderr)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class _LazyEmbedder:
    """Stands in for the model until a query actually needs a vector."""

    def __init__(self, glossary: Glossary):
        self._glossary = glossary

    @property
    def model_id(self) -> str:
        return self._glossary.embedder.model_id

    @property
    def dim(self) -> int:
        return self._glossary.embedder.dim

    def embed_query(self, text: str):
        return self._glossary.embedder.embed_query(text)

    def embed_documents(self, texts, progress=None):
        return self._glossary.embedder.embed_documents(texts, progress)


def terminal_progress(total: int, done: int = 0) -> Callable[[int], None]:
    """A one-line progress bar on stderr (plain counts when not a terminal)."""
    state = {"done": done}
    tty = sys.stderr.isatty()
    width = 30

    def tick(n: int = 1) -> None:
        state["done"] += n
        finished = state["done"] >= total
        if tty:
            filled = int(width * state["done"] / max(total, 1))
            sys.stderr.write(f"\rembedding [{'#' * filled}{'.' * (width - filled)}] {state['done']}/{total}")
            if finished:
                sys.stderr.write("\n")
            sys.stderr.flush()
        elif finished or state["done"] % 250 == 0:
            print(f"embedding {state['done']}/{total}", file=sys.stderr)

    return tick

