"""The learned ranker as shipped (bot/glossary/ranker.py): the trees score in numpy as a
tree is read, the calibration is a probability, and every shipped file loads for the features
this version computes."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from bot.glossary.errors import IndexError_
from bot.glossary.features import FEATURES
from bot.glossary.ranker import (CALIBRATION_FEATURES, CODE_SHARE, FORMAT, RANKER_DIR, REAL_ANSWER_SHARE_MIN, REAL_SHARE_MIN,
                                 Ranker, Trees, ranker_for)
from bot.glossary.style import DIM as STYLE_DIM, SHAPES as STYLE_SHAPES, Style


def _walk(tree: dict, x: np.ndarray) -> float:
    node = 0
    while node >= 0:
        node = tree["left"][node] if x[tree["feature"][node]] <= tree["threshold"][node] else tree["right"][node]
    return tree["leaf_value"][~node]


def test_trees_score_every_row_as_walking_each_tree_would():
    rng = np.random.default_rng(3)
    trees = [
        # x0 <= 0.5 ? (x1 <= 0 ? leaf0 : leaf1) : leaf2
        {"feature": [0, 1], "threshold": [0.5, 0.0], "left": [1, ~0], "right": [~2, ~1],
         "leaf_value": [1.0, 2.0, 3.0], "depth": 2},
        {"feature": [2], "threshold": [-0.25], "left": [~0], "right": [~1], "leaf_value": [-1.0, 0.5], "depth": 1},
        {"feature": [], "threshold": [], "left": [], "right": [], "leaf_value": [0.25], "depth": 0},
    ]
    X = rng.normal(size=(50, 3)).astype(np.float32)
    want = np.array([sum(_walk(t, x) if t["feature"] else t["leaf_value"][0] for t in trees) for x in X])
    assert np.allclose(Trees.from_json(trees).predict(X), want)


def test_a_forest_of_lone_leaves_scores_their_sum():
    trees = [{"feature": [], "threshold": [], "left": [], "right": [], "leaf_value": [v], "depth": 0}
             for v in (1.0, 2.0, 0.5)]
    X = np.zeros((4, 3), dtype=np.float32)
    assert np.allclose(Trees.from_json(trees).predict(X), 3.5)


def test_the_shipped_forests_score_as_walking_each_tree_would():
    for path in sorted(RANKER_DIR.glob("*.json")):
        trees = json.loads(path.read_text())["trees"]
        X = np.random.default_rng(1).normal(size=(30, len(FEATURES))).astype(np.float32)
        want = np.array([sum(_walk(t, x) if t["feature"] else t["leaf_value"][0] for t in trees) for x in X])
        assert np.allclose(Trees.from_json(trees).predict(X), want, atol=1e-4), path.name


def test_every_shipped_ranker_loads_and_scores_a_candidate_list():
    paths = sorted(RANKER_DIR.glob("*.json"))
    assert paths, "data/ranker/ holds the shipped rankers"
    for path in paths:
        ranker = Ranker.load(path)
        X = np.random.default_rng(0).normal(size=(40, len(FEATURES))).astype(np.float32)
        scores = ranker.scores(X)
        assert scores.shape == (40,) and np.isfinite(scores).all()
        assert 0.0 <= ranker.confidence(scores, X, np.arange(40)) <= 1.0
        assert 0.0 < ranker.suggest_at <= ranker.answer_at


def test_one_shipped_ranker_is_the_default_for_other_models():
    ranker, matches = ranker_for("some/other-model")
    assert not matches and ranker.info.get("default")


def test_a_ranker_for_other_features_is_refused(tmp_path):
    data = {"format": FORMAT, "model_id": "m", "features": [*FEATURES, "new_feature"], "trees": [],
            "calibration": {"features": list(CALIBRATION_FEATURES), "coef": [], "intercept": 0.0},
            "bands": {"answer_at": 0.9, "suggest_at": 0.2, "close_share": 0.1}}
    path = tmp_path / "old.json"
    path.write_text(json.dumps(data))
    with pytest.raises(IndexError_, match="other features"):
        Ranker.load(path)


def _ranker_file(tmp_path, fmt: int, features: list[str], trees: list[dict]):
    data = {"format": fmt, "model_id": "m", "features": features, "trees": trees,
            "calibration": {"features": list(CALIBRATION_FEATURES), "coef": [0.0] * len(CALIBRATION_FEATURES),
                            "intercept": 0.0},
            "bands": {"answer_at": 0.9, "suggest_at": 0.2, "close_share": 0.1}}
    path = tmp_path / "ranker.json"
    path.write_text(json.dumps(data))
    return path


def _stump(feature: int) -> dict:
    return {"feature": [feature], "threshold": [0.0], "left": [~0], "right": [~1], "leaf_value": [-1.0, 1.0],
            "depth": 1}


def test_a_ranker_of_the_format_before_the_asking_sentences_scores_with_the_features_it_knows(tmp_path):
    known = list(FEATURES[: FEATURES.index("bm25_focus")])
    path = _ranker_file(tmp_path, 3, known, [_stump(len(known) - 1)])
    X = np.zeros((2, len(FEATURES)), dtype=np.float32)
    X[1, len(known) - 1] = 1.0
    X[:, len(known):] = 5.0  # the columns appended since change nothing for it
    assert Ranker.load(path).scores(X).tolist() == [-1.0, 1.0]


def test_a_ranker_of_the_format_before_the_vocabulary_scores_with_the_features_it_knows(tmp_path):
    known = list(FEATURES[: FEATURES.index("vocabulary")])
    path = _ranker_file(tmp_path, 4, known, [_stump(len(known) - 1)])
    X = np.zeros((2, len(FEATURES)), dtype=np.float32)
    X[1, len(known) - 1] = 1.0
    X[:, len(known):] = 5.0
    assert Ranker.load(path).scores(X).tolist() == [-1.0, 1.0]


@pytest.mark.parametrize("fmt, features", [
    (FORMAT, [FEATURES[1], FEATURES[0], *FEATURES[2:]]),  # another order
    (FORMAT, list(FEATURES[:-2])),                          # this format's, short of the last ones
    (3, list(FEATURES[: FEATURES.index("bm25_focus") - 2])),  # an earlier format's, but not its features
    (4, list(FEATURES)),                                    # format 4 knew nothing of the vocabulary
])
def test_a_ranker_for_other_features_than_its_format_names_is_refused(tmp_path, fmt, features):
    with pytest.raises(IndexError_, match="other features"):
        Ranker.load(_ranker_file(tmp_path, fmt, features, []))


def test_a_ranker_whose_trees_read_a_feature_it_does_not_name_is_refused(tmp_path):
    known = list(FEATURES[: FEATURES.index("bm25_focus")])
    with pytest.raises(IndexError_, match="does not name"):
        Ranker.load(_ranker_file(tmp_path, 3, known, [_stump(len(known))]))


def _mixing_ranker(tmp_path, style_weight: float) -> Ranker:
    """General trees that prefer feature 0, real trees that prefer feature 1, and a style whose
    only weight is on the shape "the text has a line break" (style.py)."""
    path = _ranker_file(tmp_path, FORMAT, list(FEATURES), [_stump(0)])
    data = json.loads(path.read_text())
    data["real_trees"] = [_stump(1)]
    data["style"] = {"dim": STYLE_DIM, "shapes": STYLE_SHAPES, "buckets": [STYLE_DIM + 6], "weights": [style_weight],
                     "intercept": -style_weight / 2}
    path.write_text(json.dumps(data))
    return Ranker.load(path)


def test_a_question_reading_as_a_real_one_is_ranked_by_the_real_questions_trees(tmp_path):
    ranker = _mixing_ranker(tmp_path, style_weight=20.0)
    X = np.zeros((2, len(FEATURES)), dtype=np.float32)
    X[0, 0] = 1.0  # what the general trees like
    X[1, 1] = 1.0  # what the real trees like
    written, real = "what is the trick that saves memory?", "I tried this\nand it fails"
    assert ranker.real_share(written) < REAL_SHARE_MIN <= ranker.real_share(real)
    assert np.argmax(ranker.scores(X, ranker.real_share(written))) == 0
    assert np.argmax(ranker.scores(X, ranker.real_share(real))) == 1
    # a written question is scored as the general trees alone score it
    assert ranker.scores(X, ranker.real_share(written)).tolist() == [1.0, -1.0]
    assert np.argmax(ranker.scores(X)) == 0  # no share: the general trees alone


def test_only_a_question_reading_as_a_real_one_gets_the_vocabulary_when_only_real_trees_read_it(tmp_path):
    ranker = _mixing_ranker(tmp_path, style_weight=20.0)
    written, real = "what is the trick that saves memory?", "I tried this\nand it fails"
    assert ranker.vocabulary_for(ranker.real_share(written)) and ranker.vocabulary_for(ranker.real_share(real))
    gated = replace(ranker, vocabulary_only_real=True)
    assert not gated.vocabulary_for(gated.real_share(written))
    assert gated.vocabulary_for(gated.real_share(real))


def test_a_ranker_whose_real_trees_read_a_feature_it_does_not_name_is_refused(tmp_path):
    known = list(FEATURES[: FEATURES.index("bm25_focus")])
    path = _ranker_file(tmp_path, 3, known, [_stump(0)])
    data = json.loads(path.read_text())
    data["real_trees"] = [_stump(len(known))]
    data["style"] = {"dim": STYLE_DIM, "shapes": STYLE_SHAPES, "buckets": [], "weights": [], "intercept": 0.0}
    path.write_text(json.dumps(data))
    with pytest.raises(IndexError_, match="does not name"):
        Ranker.load(path)


def test_the_default_rankers_style_tells_a_pasted_issue_from_a_written_question():
    ranker, _ = ranker_for("some/other-model")
    assert ranker.style is not None and ranker.real_trees is not None
    issue = "why the value of k is fixed to 60?  in RRF."
    written = "what do you call combining several ranked lists by summing one over each item's rank plus a constant?"
    assert ranker.style.real_share(issue) > ranker.style.real_share(written)
    # only the pasted issue is searched with the entries' vocabulary and its own answer threshold
    assert ranker.vocabulary_for(ranker.real_share(issue)) and not ranker.vocabulary_for(ranker.real_share(written))
    assert ranker.answer_at_for(ranker.real_share(issue)) == ranker.answer_at_real
    assert ranker.answer_at_for(ranker.real_share(written)) == ranker.answer_at


@pytest.mark.parametrize("question", ["HeunDiscreteScheduler is 2x slower per step, why",
                                      "num_key_value_heads=8 but num_attention_heads=32",
                                      "llama.cpp --ctx-size what does it do", "torch.compile(mode='max-autotune') vs default"])
def test_a_short_question_that_types_code_reads_at_least_half_real(question):
    ranker, _ = ranker_for("some/other-model")
    assert ranker.style.real_share(question) < CODE_SHARE <= ranker.real_share(question)


@pytest.mark.parametrize("question", [
    "what is the difference between heun's method and euler's method for diffusion sampling",
    # code inside a longer story keeps the style's own share
    "I set pin_memory=True in my DataLoader but host-to-device transfers still stall my training loop, what else",
])
def test_a_question_without_code_or_a_long_one_keeps_the_styles_share(question):
    ranker, _ = ranker_for("some/other-model")
    assert ranker.real_share(question) == ranker.style.real_share(question)


def test_a_question_that_reads_a_little_real_gets_the_real_trees_but_the_general_threshold():
    """Between REAL_SHARE_MIN and REAL_ANSWER_SHARE_MIN sit mostly written questions that name an
    entry with digits or brackets: the real trees and the vocabulary are weighed in for them, and
    they are answered from the general threshold, which kept their answers right (ranker.py)."""
    ranker, _ = ranker_for("some/other-model")
    assert ranker.answer_at_real != ranker.answer_at
    middle = (REAL_SHARE_MIN + REAL_ANSWER_SHARE_MIN) / 2
    assert ranker.vocabulary_for(middle)
    assert ranker.answer_at_for(middle) == ranker.answer_at
    assert ranker.answer_at_for(REAL_ANSWER_SHARE_MIN) == ranker.answer_at_real


def test_a_style_written_and_read_back_rates_questions_alike():
    ranker, _ = ranker_for("some/other-model")
    again = Style.from_dict(json.loads(json.dumps(ranker.style.to_dict())))
    for text in ("why the value of k is fixed to 60?  in RRF.", "what is the trick that saves memory?"):
        assert again.real_share(text) == pytest.approx(ranker.style.real_share(text), abs=1e-6)


def test_a_ranker_whose_style_weights_are_cut_short_is_refused(tmp_path):
    path = _ranker_file(tmp_path, FORMAT, list(FEATURES), [_stump(0)])
    data = json.loads(path.read_text())
    data["real_trees"] = [_stump(1)]
    data["style"] = {"dim": STYLE_DIM, "shapes": STYLE_SHAPES, "weights_f32": "AAAAAA==", "intercept": 0.0}
    path.write_text(json.dumps(data))
    with pytest.raises(IndexError_, match="style weights"):
        Ranker.load(path)
