"""The bundled model as fastembed loads it for us (bot/glossary/embeddings.py)."""

from __future__ import annotations

import copy
import os
from pathlib import Path

import numpy as np
from fastembed.text.pooled_normalized_embedding import PooledNormalizedEmbedding

from bot.config import DEFAULT_DATA_DIR
from bot.glossary.embeddings import NO_SPINNING, assemble_model


def test_bundled_model_session_does_not_spin_and_still_embeds(real_embedder):
    session = real_embedder._model.model.model  # TextEmbedding → its ONNX model class → InferenceSession
    options = session.get_session_options()
    assert {key: options.get_session_config_entry(key) for key in NO_SPINNING} == NO_SPINNING
    vector = real_embedder.embed_query("what's the trick where you recompute activations to save memory?")
    assert vector.shape == (real_embedder.dim,) and np.isclose(np.linalg.norm(vector), 1.0, atol=1e-3)
    # the model class fastembed picks for the name, with its pooling (extended, not replaced)
    assert isinstance(real_embedder._model.model, PooledNormalizedEmbedding)


def test_a_query_embedded_without_fastembeds_batching_is_the_same_vector_bit_for_bit(real_embedder):
    assert real_embedder._one_query is not None  # the bundled model pools as the direct path does
    texts = [
        "what's the trick where you recompute activations to save memory?",
        "LoRA",
        "",
        "日本語のテキスト 🙂",
        "word " * 600,  # past the model's 256 tokens: truncated alike
    ]
    through_fastembed = copy.copy(real_embedder)
    through_fastembed._one_query = None
    for text in texts:
        assert np.array_equal(real_embedder.embed_query(text), through_fastembed.embed_query(text)), text


def test_a_copied_model_is_replaced_when_its_source_changes_even_at_the_same_size(tmp_path, monkeypatch):
    def no_symlinks(self, target):  # a filesystem without symlinks (some Windows and container set-ups)
        raise OSError("symlinks not allowed")

    monkeypatch.setattr(Path, "symlink_to", no_symlinks)
    onnx = tmp_path / "model-a.onnx"
    onnx.write_bytes(b"A" * 64)
    target = assemble_model(DEFAULT_DATA_DIR / "model", onnx, tmp_path / "assembled")
    assert (target / "model.onnx").read_bytes() == b"A" * 64
    onnx.write_bytes(b"B" * 64)  # retrained: same size, new content
    os.utime(onnx, ns=(onnx.stat().st_atime_ns, onnx.stat().st_mtime_ns + 10**9))
    assemble_model(DEFAULT_DATA_DIR / "model", onnx, tmp_path / "assembled")
    assert (target / "model.onnx").read_bytes() == b"B" * 64
