"""The bundled model as fastembed loads it for us (bot/glossary/embeddings.py)."""

from __future__ import annotations

import numpy as np
from fastembed.text.pooled_normalized_embedding import PooledNormalizedEmbedding

from bot.glossary.embeddings import NO_SPINNING


def test_bundled_model_session_does_not_spin_and_still_embeds(real_embedder):
    session = real_embedder._model.model.model  # TextEmbedding → its ONNX model class → InferenceSession
    options = session.get_session_options()
    assert {key: options.get_session_config_entry(key) for key in NO_SPINNING} == NO_SPINNING
    vector = real_embedder.embed_query("what's the trick where you recompute activations to save memory?")
    assert vector.shape == (real_embedder.dim,) and np.isclose(np.linalg.norm(vector), 1.0, atol=1e-3)
    # the model class fastembed picks for the name, with its pooling (extended, not replaced)
    assert isinstance(real_embedder._model.model, PooledNormalizedEmbedding)
