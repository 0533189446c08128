"""`make train-folds` resumes (scripts/finetune_model.py --keep-done): a fold model is kept only
when its manifest names the same recipe, pairs included, and the file is the one exported."""

from __future__ import annotations

import hashlib
import json

from scripts.finetune_model import _done

NAME = "glossary-minilm-int8.onnx"
RECIPE = {"pairs": 2, "pairs_sha256": "abc", "hold_out_fold": 1, "seed": 13, "max_length": 256}


def _exported(folder, recipe: dict, data: bytes = b"onnx bytes") -> None:
    (folder / NAME).write_bytes(data)
    manifest = {"file": NAME, "sha256": hashlib.sha256(data).hexdigest(), **recipe, "minutes": 29.0}
    (folder / "glossary-minilm-int8.json").write_text(json.dumps(manifest))


def test_a_model_from_the_same_recipe_is_kept(tmp_path):
    _exported(tmp_path, RECIPE)
    assert _done(tmp_path, NAME, RECIPE)


def test_other_pairs_or_settings_train_again(tmp_path):
    _exported(tmp_path, RECIPE)
    assert not _done(tmp_path, NAME, {**RECIPE, "pairs_sha256": "abd"})
    assert not _done(tmp_path, NAME, {**RECIPE, "seed": 14})
    # a manifest written before the pairs were hashed names no pairs: trained again
    _exported(tmp_path, {k: v for k, v in RECIPE.items() if k != "pairs_sha256"})
    assert not _done(tmp_path, NAME, RECIPE)


def test_a_missing_altered_or_unreadable_model_trains_again(tmp_path):
    assert not _done(tmp_path, NAME, RECIPE)
    _exported(tmp_path, RECIPE)
    (tmp_path / NAME).write_bytes(b"half a file")
    assert not _done(tmp_path, NAME, RECIPE)
    _exported(tmp_path, RECIPE)
    (tmp_path / "glossary-minilm-int8.json").write_text("{not json")
    assert not _done(tmp_path, NAME, RECIPE)
