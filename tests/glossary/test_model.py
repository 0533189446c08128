"""The shared model and its background load: the bot starts it first and waits for it before it connects."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from bot.config import DEFAULT_DATA_DIR, Settings
from bot.glossary.embeddings import FastEmbedEmbedder, ModelLoadError
from bot.glossary.model import ModelLoader
from bot.glossary.service import Glossary


def settings_for(tmp_path: Path, **environ: str) -> Settings:
    return Settings.load(environ={"GLOSSARY_CACHE_DIR": str(tmp_path / "cache"), **environ},
                         dotenv=Path("/nonexistent"))


def loader_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "model-loader"]


def test_background_load_gives_the_real_model_warm_and_loads_it_once(tmp_path, monkeypatch):
    loads = []
    real_load = FastEmbedEmbedder.load
    monkeypatch.setattr(FastEmbedEmbedder, "load",
                        classmethod(lambda cls, *args, **kwargs: loads.append(1) or real_load(*args, **kwargs)))
    settings = settings_for(tmp_path, GLOSSARY_MODEL_DIR=str(DEFAULT_DATA_DIR / "model"))
    loader = ModelLoader.for_settings(settings)
    glossary = Glossary(settings, model=loader)
    loader.start_in_background()
    loader.start_in_background()  # asked twice: still one load
    model = loader.ready()
    loader.ready()
    assert model is glossary.embedder  # the same instance everyone else gets
    vector = model.embed_query("what is attention?")
    assert vector.shape == (model.dim,)
    assert np.isclose(np.linalg.norm(vector), 1.0, atol=1e-3)
    assert not loader_threads()
    assert loads == [1]


def test_ready_raises_what_loading_raised(tmp_path):
    empty = tmp_path / "model"
    empty.mkdir()
    loader = ModelLoader.for_settings(settings_for(tmp_path, GLOSSARY_MODEL_DIR=str(empty)))
    loader.start_in_background()
    with pytest.raises(ModelLoadError, match="model files missing"):
        loader.ready()
    with pytest.raises(ModelLoadError, match="model files missing"):  # again, not a hang or None
        loader.ready()


def test_ready_without_a_background_load_gives_the_model_there(tmp_path, fake_embedder):
    glossary = Glossary(settings_for(tmp_path), embedder=fake_embedder)
    assert glossary.model.ready() is fake_embedder and glossary.embedder is fake_embedder
