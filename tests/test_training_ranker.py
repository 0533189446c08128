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


def test_the_shipped_general_trees_leave_the_vocabulary_to_the_real_questions_trees():
    # A written question is searched without the vocabulary (Ranker.vocabulary_for), so trees
    # that score it must not have learnt from the vocabulary's features.
    ranker = json.loads((ROOT / "data" / "ranker" / "bundled.json").read_text())
    assert ranker["vocabulary_only_real"]
    general = {FEATURES[f] for tree in ranker["trees"] for f in tree["feature"]}
    real = {FEATURES[f] for tree in ranker["real_trees"] for f in tree["feature"]}
    assert not general & {"vocabulary", "vocabulary_bm25"}
    assert real & {"vocabulary", "vocabulary_bm25"}
