"""A synthetic glossary N times the size of the real one, for scale benchmarks.

Copy 0 is the real glossary; copy k renames every term with a made-up
codename ("Attention Kavo") and appends the lead sentence of another entry,
so keyword statistics and names stay realistic. Multi-line definitions are
flattened in the copies so the file parses the same way for any N.

Embedding ~110,000 texts with the bundled model would take about an hour on
two cores, so `ScaleEmbedder` reuses real vectors where a text is real
(copy 0) and gives synthetic texts a deterministic random unit vector: the
cost of searching N×690 vectors does not depend on what they contain.
"""

from __future__ import annotations

import hashlib
import random
import sqlite3
from collections.abc import Callable, Sequence
from contextlib import closing
from pathlib import Path

import numpy as np

from ..glossary.index import content_hash, lead_sentence, read_only_uri
from ..glossary.parse import parse_file

_CONSONANTS = "bdfgklmnprstvz"
_VOWELS = "aeiou"


def codename(k: int) -> str:
    """A distinct pronounceable word per k ≥ 1: 1 → "Bab", 2 → "Bad", …"""
    syllables = []
    n = k
    while True:
        n, r = divmod(n, len(_CONSONANTS) * len(_VOWELS))
        syllables.append(_CONSONANTS[r // len(_VOWELS)] + _VOWELS[r % len(_VOWELS)])
        if n == 0:
            break
    word = "".join(reversed(syllables))
    return (word + _CONSONANTS[k % len(_CONSONANTS)]).capitalize()


def write_synthetic_glossary(source: Path, target: Path, copies: int = 100, seed: int = 0) -> int:
    """Write `copies` × the entries of `source` to `target`; returns the entry count."""
    parsed = parse_file(source)
    rng = random.Random(seed)
    leads = [lead_sentence(e.definition) for e in parsed.entries]
    blocks: list[tuple[str, str]] = [(e.term, e.definition) for e in parsed.entries]
    for k in range(1, copies):
        name = codename(k)
        for entry in parsed.entries:
            flat = " ".join(entry.definition.split())
            blocks.append((f"{entry.term} {name}", f"{flat} {rng.choice(leads)}"))
    blocks.sort(key=lambda b: b[0].casefold())
    lines = [*parsed.header]
    for term, definition in blocks:
        lines += [term, definition]
    lines += parsed.footer
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(blocks)


class ScaleEmbedder:
    """Real vectors for texts the real index already holds, random ones otherwise."""

    def __init__(self, real_index: Path, model_id: str, dim: int):
        self.model_id = model_id
        self.dim = dim
        with closing(sqlite3.connect(read_only_uri(real_index), uri=True)) as conn:
            self._known = {
                h: np.frombuffer(v, dtype=np.float32)
                for h, v in conn.execute("SELECT content_hash, vector FROM embeddings WHERE model = ?",
                                         [model_id])
            }

    def _vector(self, text: str) -> np.ndarray:
        known = self._known.get(content_hash(text))
        if known is not None:
            return known
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
        vec = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
        return vec / np.linalg.norm(vec)

    def embed_documents(self, texts: Sequence[str], progress: Callable[[int], None] | None = None):
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i] = self._vector(text)
        if progress:
            progress(len(texts))
        return out

    def embed_query(self, text: str) -> np.ndarray:  # pragma: no cover - queries use the real model
        raise NotImplementedError("ScaleEmbedder only stands in for building")
