"""The field model: whether a question is about machine learning at all (bot/glossary/field.py)."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest

from bot.glossary.field import FORMAT, FieldModel, field_model_for
from bot.glossary.search import ANSWER, SUGGEST, Searcher
from bot.glossary.senses import read_senses
from bot.glossary.store import GlossaryIndex
from tests.conftest import GLOSSARY


def model_file(directory, name, model_id, **extra):
    data = {"format": FORMAT, "model_id": model_id, "coef": [0.0] * 384, "intercept": 0.0, "nearest_coef": 0.0,
            "outside_at": 0.5}
    (directory / f"{name}.json").write_text(json.dumps({**data, **extra}), encoding="utf-8")


def everything_outside(model_id: str, nearest_coef: float = 0.0) -> FieldModel:
    return FieldModel("test", model_id, np.zeros(384, dtype=np.float32), 10.0, nearest_coef, 0.5, {})


def test_the_field_model_of_the_embedding_model_in_use_is_found(tmp_path):
    model_file(tmp_path, "a", "model-a")
    model_file(tmp_path, "b", "model-b", intercept=-3.0)
    found = field_model_for("model-b", tmp_path)
    assert found is not None and found.name == "b" and found.outside(np.zeros(384), 0.0) < 0.5


def test_no_field_model_is_used_for_another_embedding_model(tmp_path):
    model_file(tmp_path, "a", "model-a")
    assert field_model_for("model-c", tmp_path) is None


def test_a_damaged_field_model_file_is_skipped_with_a_warning(tmp_path, caplog):
    (tmp_path / "broken.json").write_text("{not json", encoding="utf-8")
    model_file(tmp_path, "future", "model-a", format=FORMAT + 1)
    model_file(tmp_path, "usable", "model-a")
    with caplog.at_level(logging.WARNING):
        found = field_model_for("model-a", tmp_path)
    assert found is not None and found.name == "usable"
    assert "broken.json" in caplog.text and "future.json" in caplog.text


@pytest.fixture(scope="module")
def index(real_index_path):
    return GlossaryIndex(real_index_path)


def test_a_question_read_as_outside_the_field_is_offered_not_answered(index, real_embedder):
    question = "what is the difference between rmsnorm and layernorm"
    plain = Searcher(index, real_embedder, senses=read_senses(GLOSSARY, index), field=None).ranked(question)
    hedged = Searcher(index, real_embedder, senses=read_senses(GLOSSARY, index),
                      field=everything_outside(index.model_id)).ranked(question)
    assert plain.band == ANSWER and not plain.far
    assert hedged.band == SUGGEST and hedged.far
    assert [h.entry.id for h in hedged.hits[:3]] == [h.entry.id for h in plain.hits[:3]]


def test_an_entry_close_to_the_question_keeps_its_answer(index, real_embedder):
    question = "what is the difference between rmsnorm and layernorm"
    result = Searcher(index, real_embedder, senses=read_senses(GLOSSARY, index),
                      field=everything_outside(index.model_id, nearest_coef=-100.0)).ranked(question)
    assert result.band == ANSWER and not result.far


# Written for this test, not taken from the evaluation sets: an entry's name in another field's
# question, and the same names asked about as machine learning.
OTHER_FIELD = ("what is a seed in a tennis tournament draw", "how much momentum does a 2 kg ball at 3 m/s have",
               "how do i keep my sourdough starter temperature steady")
SAME_NAMES_IN_ML = ("how does momentum help sgd get through ravines",
                    "why does a higher sampling temperature make the model ramble",
                    "what random seed should i set for reproducible training")


def test_the_shipped_field_model_hedges_other_fields_and_not_machine_learning(index, real_embedder):
    searcher = Searcher(index, real_embedder, senses=read_senses(GLOSSARY, index))
    assert searcher.field is not None, "data/field/ has no field model for the bundled embedding model"
    for question in OTHER_FIELD:
        result = searcher.ranked(question)
        assert result.band == SUGGEST and result.far, question
    for question in SAME_NAMES_IN_ML:
        assert not searcher.ranked(question).far, question
