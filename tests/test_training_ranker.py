"""What scripts/train_ranker.py decides besides how well the trees rank: the features a model's
trees must not read."""

from __future__ import annotations

import json

from bot.glossary.features import FEATURES
from scripts.train_ranker import IGNORED_FEATURES, ROOT


def test_no_shipped_tree_reads_a_feature_its_model_ignores():
    for model, ignored in IGNORED_FEATURES.items():
        ranker = json.loads((ROOT / "data" / "ranker" / f"{model}.json").read_text())
        for forest in ("trees", "real_trees"):
            read = {FEATURES[f] for tree in ranker.get(forest) or [] for f in tree["feature"]}
            assert (read or forest == "real_trees") and not read & set(ignored), (model, forest)
