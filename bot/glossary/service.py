"""Open everything a front end needs once: settings → model → index → searcher.

The CLI, the local console and the Discord bot all start here, so they answer
identically. The model is loaded lazily: exact and alias lookups (`/define`,
autocomplete) never need it, and a build that is up to date does not either.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable

from ..config import Settings
from .embeddings import BUNDLED, BUNDLED_MODEL_ID, Embedder, FastEmbedEmbedder
from .index import BuildReport, build_index, source_fingerprint, stored_fingerprint
from .parse import GlossaryFormatError
from .search import Searcher
from .store import GlossaryIndex


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

    def needs_build(self) -> bool:
        path = self.settings.index_path
        if not path.is_file():
            return True
        text = self.settings.glossary_path.read_text(encoding="utf-8")
        return stored_fingerprint(path) != source_fingerprint(text, self.configured_model_id)

    @property
    def configured_model_id(self) -> str:
        """The model id an index must have been built with to serve the configured model."""
        if self._embedder is not None:
            return self._embedder.model_id
        return BUNDLED_MODEL_ID if self.settings.model == BUNDLED else self.settings.model

    def build(self, *, force: bool = False, progress: Callable | None = None) -> BuildReport:
        if not self.settings.glossary_path.is_file():
            raise GlossaryFormatError(
                f"glossary file not found: {self.settings.glossary_path} (set GLOSSARY_FILE)"
            )
        return build_index(
            self.settings.index_path, self.settings.glossary_path, self.embedder,
            force=force, progress=progress or terminal_progress,
        )

    def open(self, *, build_if_needed: bool = True) -> Searcher:
        """Load the index (building it first if missing or stale) and the searcher."""
        if build_if_needed and self.needs_build():
            report = self.build()
            print(f"index: {report.summary()}", file=sys.stderr)
        self.index = GlossaryIndex(self.settings.index_path)
        self.searcher = Searcher(self.index, _LazyEmbedder(self))
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

