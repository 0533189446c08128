"""What scripts/train_ranker.py decides besides how well the trees rank: the features a model's
trees must not read, and which thresholds a ranker keeping another's general part sets."""

from __future__ import annotations

import json

import numpy as np

from bot.glossary.evaluate import Case
from bot.glossary.features import FEATURES
from scripts import train_ranker
from scripts.train_ranker import IGNORED_FEATURES, ROOT, OutOfFold, Questions, fit_confidence


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


def _question(n: int, real: bool, right: bool) -> tuple[Case, OutOfFold]:
    """A development question and its out-of-fold tuple (cross_validate): two candidates, the
    first scored higher, right or not; a real one scored as the real trees would."""
    X = np.zeros((2, len(FEATURES)), dtype=np.float32)
    X[:, FEATURES.index("dense_full")] = [0.9, 0.2]
    rows = (X, np.array([right, not right], dtype=np.int8), np.arange(2))
    scores = np.array([1.0 + n / 10, 0.0])
    share = 0.9 if real else 0.0  # over REAL_SHARE_MIN or not
    return Case(f"q{n}", "real" if real else "question", "q", ("E",)), OutOfFold(scores, rows, share, scores, rows)


def test_keeping_a_general_part_keeps_its_calibration_and_bands_and_sets_the_real_threshold(monkeypatch):
    monkeypatch.setattr(train_ranker, "REAL_TREES", True)
    made = [_question(n, real=n % 2 == 0, right=n % 7 != 0) for n in range(40)]
    cases, oof = [c for c, _o in made], [o for _c, o in made]
    q = Questions(cases, np.zeros(40, dtype=int), np.array(["dev_real"] * 40), [], [], [])
    kept = {"calibration": {"coef": [0.5] + [0.0] * 11, "intercept": -0.2},
            "bands": {"answer_at": 0.7, "suggest_at": 0.3, "close_share": 0.08}}
    coef, intercept, bands, close = fit_confidence(q, oof, np.ones(40, dtype=bool), kept)
    assert (coef, intercept, close) == ([0.5] + [0.0] * 11, -0.2, 0.08)
    assert bands[:2] == (0.7, 0.3) and len(bands) == 3  # the general ones kept, a real one set
    assert 0.0 < bands[2] <= 1.01
