"""Open everything a front end needs once: settings → model → index → searcher.

The CLI, the local console and the Discord bot all start here, so they answer
identically. The model is loaded lazily: exact and alias lookups (`/define`,
autocomplete) never need it, and a build that is up to date does not either.
The Discord bot is the exception: it will need the model for its first free-form
question, so it loads it from the start, on a thread (model.py).

The index is a cache of the glossary file, so a damaged one can always be
rebuilt (index_file.py tells damage from an interrupted or busy index). The
CLI reports it and names the fix (`glossary-bot build --force`); the Discord
bot (`open(recover=True)`) moves it aside and rebuilds it itself, because an
admin would rather find a log line than a bot that is down.
"""

from __future__ import annotations

import logging
import sqlite3
import sys
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from ..config import Settings
from .bank import bank_files
from .embeddings import BUNDLED, BUNDLED_BASE, Embedder, bundled_model_id
from .index import (MULTILINE_SQL, SCHEMA_VERSION, BuildReport, IndexError_, build_index, glossary_fingerprint,
                    read_only_uri, stored_fingerprint, stored_model, stored_schema)
from .errors import GlossaryShrinkError, ModelLoadError
from .index_file import CorruptIndexError, build_lock, check_index, leave_nothing_behind, move_aside, write_problem
from .model import ModelLoader
from .parse import GlossaryFormatError
from .search import Searcher
from .same_thing import read_same_things
from .senses import read_senses
from .store import GlossaryIndex

log = logging.getLogger(__name__)


class Glossary:
    """A built index plus a searcher, with the embedding model loaded on demand."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None, *, model: ModelLoader | None = None):
        if model is not None and embedder is not None:
            raise TypeError("Glossary takes an embedder or a model loader, not both")
        self.settings = settings
        self.model = model or ModelLoader.for_settings(settings, embedder)
        self.index: GlossaryIndex | None = None
        self.searcher: Searcher | None = None
        self.built_index = False  # open() had to build or rebuild it

    @property
    def embedder(self) -> Embedder:
        return self.model.load()

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
        return stored_schema(path) != SCHEMA_VERSION or stored_fingerprint(path) != glossary_fingerprint(
            self.settings.glossary_path, text, self.configured_model_id, self.bank_files)

    @property
    def bank_files(self) -> tuple[Path, ...]:
        """The bank (bank.py): the project's questions and any in `<data dir>/bank/*.jsonl`."""
        return bank_files(self.settings.data_dir / "bank")

    @property
    def configured_model_id(self) -> str:
        """The model id an index must have been built with to serve the configured model."""
        if self.model.loaded is not None:
            return self.model.loaded.model_id
        if self.settings.model in (BUNDLED, BUNDLED_BASE):
            try:
                return bundled_model_id(self.settings.model, self.settings.model_dir)
            except ModelLoadError:
                # The model's files are missing: name lookups still work from the index as it is,
                # and the first question that needs the model reports what is missing.
                return stored_model(self.settings.index_path) or ""
        return self.settings.model

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

    def build(self, *, force: bool = False, allow_shrink: bool = False,
              progress: Callable | None = None) -> BuildReport:
        """Create or update the index; `force` rewrites it, moving a damaged one aside first;
        `allow_shrink` accepts a glossary with far fewer entries than the index (see index.check_size)."""
        self.read_glossary()
        self.check_index(recover=force)
        path = self.settings.index_path
        if not force and not self.needs_build():  # answered without loading the model or writing anything
            started = time.perf_counter()
            with closing(sqlite3.connect(read_only_uri(path), uri=True)) as conn:
                count = conn.execute("SELECT count(*) FROM entries").fetchone()[0]
                multiline = conn.execute(MULTILINE_SQL).fetchone()[0]
                stored = conn.execute("SELECT value FROM meta WHERE key = 'warnings'").fetchone()
            warnings = [w for w in (stored[0] if stored else "").split("\n") if w]
            return BuildReport(entries=count, multiline=multiline, up_to_date=True, warnings=warnings,
                               seconds=time.perf_counter() - started)
        problem = write_problem(path)
        if problem:
            raise IndexError_(
                f"cannot write index {path}: {problem}; make it writable, or set GLOSSARY_INDEX to a "
                "writable path, then run `glossary-bot build`"
            )
        try:
            with leave_nothing_behind(path), build_lock(path):
                return build_index(
                    path, self.settings.glossary_path, self.embedder,
                    force=force, allow_shrink=allow_shrink, progress=progress or terminal_progress,
                    bank_files=self.bank_files,
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
                schema = stored_schema(path) if path.exists() else None
                state = ("is missing" if not path.exists()
                         else f"was built by an earlier glossary-bot (index schema {schema}, this one reads "
                              f"{SCHEMA_VERSION})" if schema is not None and 0 < schema < SCHEMA_VERSION
                         else "is out of date (the glossary or GLOSSARY_MODEL changed)")
                raise IndexError_(
                    f"index {path} {state} and cannot be rebuilt: {problem}; make it writable, or run "
                    "`glossary-bot build` as a user who can write it"
                )
            try:
                report = self.build()
            except GlossaryShrinkError as exc:
                if stored_model(path) != self.configured_model_id:
                    raise  # the previous index is another model's: it cannot serve this one
                print(f"glossary-bot: {exc}; serving the previous index meanwhile", file=sys.stderr)
            else:
                self.built_index = True
                print(f"index: {report.summary()}", file=sys.stderr)
        self.index = GlossaryIndex(path)
        senses = read_senses(self.settings.glossary_path, self.index)
        same_things = read_same_things(self.settings.glossary_path, self.index)
        self.searcher = Searcher(self.index, _LazyEmbedder(self), senses=senses, same_things=same_things)
        return self.searcher


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

    @property
    def whole_words(self) -> frozenset[str]:
        return getattr(self._glossary.embedder, "whole_words", frozenset())

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

