"""The index as a file: is it usable, can it be written, and who may build it.

The index is a cache of the glossary, so a damaged one can always be rebuilt;
but an index a build was interrupted in, or one another process is writing,
is not damaged, and a foreign SQLite file is never touched. Everything here
works on the path alone, before anything loads the index or the model.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

from .index import SCHEMA_VERSION, IndexError_, read_only_uri

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

    Renamed, not deleted: it may be worth a look, and the admin can delete it (only the
    newest KEEP_MOVED_ASIDE copies are kept). Its journal goes too, or SQLite would
    replay it into the fresh index."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    number = 1
    while target.exists():
        number += 1
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{number}")
    try:
        path.rename(target)
        for suffix in SIDE_FILES:
            side = path.with_name(path.name + suffix)
            if side.exists():
                side.rename(target.with_name(target.name + suffix))
    except OSError as exc:
        raise IndexError_(
            f"index {path} is unusable and cannot be moved aside ({exc.strerror}): delete it, or make its "
            "folder writable, then run `glossary-bot build`"
        ) from None
    _prune_moved_aside(path)
    return target


KEEP_MOVED_ASIDE = 3


def _prune_moved_aside(path: Path) -> None:
    """Keep the newest KEEP_MOVED_ASIDE moved-aside copies of an index (a few MB each), delete older ones."""
    copies = sorted((p for p in path.parent.glob(f"{path.name}.corrupt-*") if not p.name.endswith(SIDE_FILES)),
                    key=lambda p: (p.stat().st_mtime, p.name))
    for old in copies[:-KEEP_MOVED_ASIDE]:
        for victim in (old, *(old.with_name(old.name + s) for s in SIDE_FILES)):
            with contextlib.suppress(OSError):
                victim.unlink()


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


def lock_file(index_path: Path) -> Path:
    return index_path.with_name(index_path.name + ".lock")


SIDE_FILES = ("-journal", "-wal", "-shm")


@contextlib.contextmanager
def leave_nothing_behind(index_path: Path) -> Iterator[None]:
    """A build that fails removes the index file and its journal if it created them: a
    failed first build leaves the folder as it found it (build_lock does the same for
    its lock file, while it still holds the lock). One the user stopped (Ctrl-C) keeps the
    file if it holds vectors already embedded: the next build reuses them rather than
    embedding a minute or more again (index.py writes them a chunk at a time)."""
    paths = [index_path, *(index_path.with_name(index_path.name + s) for s in SIDE_FILES)]
    existed = {p for p in paths if p.exists()}
    try:
        yield
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt) and index_path not in existed and _holds_vectors(index_path):
            raise
        for p in paths:
            if p not in existed:
                with contextlib.suppress(OSError):
                    p.unlink()
        raise


def _holds_vectors(index_path: Path) -> bool:
    try:
        with closing(sqlite3.connect(read_only_uri(index_path), uri=True)) as conn:
            return conn.execute("SELECT 1 FROM embeddings LIMIT 1").fetchone() is not None
    except sqlite3.Error:
        return False


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
    lock_path = lock_file(index_path)
    lock_path.parent.mkdir(parents=True, exist_ok=True)  # the build creates the index's folder anyway
    created = not lock_path.exists()
    while True:
        handle = open(lock_path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"waiting for another build of {index_path} to finish…", file=sys.stderr)
            fcntl.flock(handle, fcntl.LOCK_EX)
        # A failed first build removes the lock file it made (before it lets go of it): the
        # lock we waited for may be on a file no longer there, and a newcomer would lock
        # another. Only a lock on the file at the path counts.
        with contextlib.suppress(OSError):
            if os.fstat(handle.fileno()).st_ino == os.stat(lock_path).st_ino:
                break
        handle.close()
        created = False
    try:
        yield
    except BaseException:
        if created:
            with contextlib.suppress(OSError):
                lock_path.unlink()
        raise
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()
