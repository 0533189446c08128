"""The embedding model: loaded once per process, shared by everyone who asks.

Loading it is most of a start (importing fastembed, then onnxruntime building
its session), so who loads it when differs. The CLI and the local console load
it on first use: exact and alias lookups never need it. The Discord bot needs it
for its first free-form question, so `glossary-bot run` starts the load before
it imports anything else of its own (cli.cmd_run) and waits for it just before
it connects (GlossaryBot.setup_hook).

This module imports only what loading the model needs, so that the load can
start before the search stack and discord.py are imported.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from ..config import Settings
from .embeddings import Embedder, FastEmbedEmbedder, import_runtime


class ModelLoader:
    """One embedding model, loaded on first use or on a thread started early."""

    def __init__(self, load: Callable[[], Embedder], embedder: Embedder | None = None):
        self._load = load
        self._embedder = embedder
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._error: Exception | None = None

    @classmethod
    def for_settings(cls, settings: Settings, embedder: Embedder | None = None) -> ModelLoader:
        """The configured model (GLOSSARY_MODEL and friends); `embedder`, if given, instead."""
        return cls(lambda: FastEmbedEmbedder.load(
            settings.model,
            tokenizer_dir=settings.model_dir,
            cache_dir=settings.cache_dir,
            batch_size=settings.batch_size,
        ), embedder)

    @property
    def loaded(self) -> Embedder | None:
        """The model if it is loaded (or was given), without loading it."""
        return self._embedder

    def load(self) -> Embedder:
        """The model, loaded here and now if nobody has yet (or waiting for whoever is loading it)."""
        with self._lock:
            if self._embedder is None:
                self._embedder = self._load()
            return self._embedder

    def start_in_background(self) -> None:
        """Load the model on a thread; `ready()` waits for it. Once only, however often asked.

        Importing fastembed happens here, on the caller's thread: it is pure
        Python, so no thread could run beside it. onnxruntime then releases the
        GIL while it builds its session (most of the rest), so whatever the
        caller does next (importing, opening the index, logging in) runs alongside."""
        with self._lock:
            if self._thread is not None:
                return
            if self._embedder is None:
                import_runtime()
            # Not a daemon: a process that exits mid-load must wait for it, or
            # onnxruntime's own threads abort with "terminate called…".
            self._thread = threading.Thread(target=self._load_on_thread, name="model-loader")
            self._thread.start()

    def _load_on_thread(self) -> None:
        try:
            self.load()  # FastEmbedEmbedder embeds a probe text as it loads: the model is warm after it
        except Exception as exc:  # handed to whoever calls ready()
            self._error = exc

    def wait(self) -> None:
        """Wait until a background load has ended, however it ended (why: cli._let_the_model_load_end)."""
        # Joined in short waits: a Ctrl-C the kernel hands to another thread (the loader's, say)
        # only flags the main thread, which an untimed join would not notice until the load ends.
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(0.1)

    def ready(self) -> Embedder:
        """The loaded model; raises what loading it raised (ModelLoadError, say)."""
        self.start_in_background()
        self.wait()
        if self._error is not None:
            raise self._error
        return self.load()
