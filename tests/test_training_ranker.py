"""What scripts/train_ranker.py decides besides the trees: the answer threshold (choose_bands),
where off-glossary questions answered cost NEGATIVE_COST wrong answers per development one, read
from every off-glossary question; and the features a model's trees must not read."""

from __future__ import annotations

import numpy as np

from scripts.train_ranker import ANSWER_PRECISION, NEGATIVE_COST, choose_bands, off_glossary_cost


def _questions(dev_negatives: list[float], generated_negatives: list[float]):
    """100 answerable development questions scored 0.99 … 0.50, the 80 surest right, then the
    off-glossary ones."""
    answerable_probs = np.linspace(0.99, 0.50, 100)
    prob = np.concatenate([answerable_probs, dev_negatives, generated_negatives])
    answerable = np.array([True] * 100 + [False] * (len(dev_negatives) + len(generated_negatives)))
    source = np.array(["dev2"] * 100 + ["dev2"] * len(dev_negatives) + ["generated"] * len(generated_negatives))
    correct = answerable.copy()
    correct[80:100] = False
    return prob, correct, answerable, source


def test_the_off_glossary_questions_together_weigh_what_the_development_ones_would():
    _prob, _correct, answerable, source = _questions([0.1] * 8, [0.1] * 56)
    assert off_glossary_cost(answerable, source) * 64 == NEGATIVE_COST * 8


def test_without_generated_ones_each_costs_negative_cost():
    _prob, _correct, answerable, source = _questions([0.1] * 8, [])
    assert off_glossary_cost(answerable, source) == NEGATIVE_COST


def test_one_sure_off_glossary_question_moves_the_threshold_less_when_many_are_read():
    alone = choose_bands(*_questions([0.9] + [0.1] * 7, []))[0]
    among_many = choose_bands(*_questions([0.9] + [0.1] * 7, [0.1] * 56))[0]
    # Alone, it costs as much as four wrong answers and only the answers scored above it are
    # right often enough; read among 56 more, it costs an eighth of that.
    assert alone > 0.9 > among_many > 0.5


def test_the_answers_let_through_are_right_as_often_as_asked():
    prob, correct, answerable, source = _questions([0.1] * 8, [0.1] * 56)
    answer_at, suggest_at = choose_bands(prob, correct, answerable, source)
    answered = answerable & (prob >= answer_at)
    assert 80 <= answered.sum() < 100
    assert correct[answered].mean() >= ANSWER_PRECISION
    assert suggest_at <= answer_at


def test_no_shipped_tree_reads_a_feature_its_model_ignores():
    import json

    from bot.glossary.features import FEATURES
    from scripts.train_ranker import IGNORED_FEATURES, ROOT

    for model, ignored in IGNORED_FEATURES.items():
        ranker = json.loads((ROOT / "data" / "ranker" / f"{model}.json").read_text())
        read = {FEATURES[f] for tree in ranker["trees"] for f in tree["feature"]}
        assert read and not read & set(ignored), model
