"""Shared fixtures: the real bundled model and a real index, built once per run."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from bot.config import DEFAULT_DATA_DIR, Settings
from bot.glossary.embeddings import FastEmbedEmbedder
from bot.glossary.index import build_index
from bot.glossary.same_thing import read_same_things
from bot.glossary.search import Searcher
from bot.glossary.senses import read_senses
from bot.glossary.store import GlossaryIndex

GLOSSARY = DEFAULT_DATA_DIR / "glossary.txt"


class FakeEmbedder:
    """Deterministic stand-in for storage tests: a vector from the text's hash."""

    def __init__(self, model_id: str = "fake-model", dim: int = 8):
        self.model_id = model_id
        self.dim = dim
        self.embedded: list[str] = []

    def _vector(self, text: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
        vec = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
        return vec / np.linalg.norm(vec)

    def embed_documents(self, texts, progress=None):
        self.embedded.extend(texts)
        return np.array([self._vector(t) for t in texts], dtype=np.float32).reshape(len(texts), self.dim)

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)


class OpenedGlossary:
    """Stands in for Glossary (the class or an instance) and hands out an already open searcher,
    so front-end tests share the session's index instead of opening it again."""

    def __init__(self, searcher: Searcher):
        self.searcher = searcher

    def __call__(self, settings) -> OpenedGlossary:
        return self

    def open(self, **kwargs) -> Searcher:
        return self.searcher


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture(scope="session")
def real_embedder() -> FastEmbedEmbedder:
    settings = Settings.load(environ={}, dotenv=Path("/nonexistent"))
    return FastEmbedEmbedder.load(tokenizer_dir=settings.model_dir, cache_dir=settings.cache_dir)


@pytest.fixture(scope="session")
def real_index_path(tmp_path_factory, real_embedder) -> Path:
    """The real glossary indexed with the real model (about a minute, once)."""
    path = tmp_path_factory.mktemp("index") / "index.db"
    build_index(path, GLOSSARY, real_embedder)
    return path


@pytest.fixture(scope="session")
def searcher(real_index_path, real_embedder) -> Searcher:
    index = GlossaryIndex(real_index_path)
    return Searcher(index, real_embedder, senses=read_senses(GLOSSARY, index),
                    same_things=read_same_things(GLOSSARY, index))


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL server for the session (Debian's binaries; `make test` installs them)."""
    from bot.benchmark.postgres import PostgresServer

    server = PostgresServer().start()
    yield server
    server.stop()
