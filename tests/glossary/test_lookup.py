"""Name lookups (bot/glossary/lookup.py) on the real glossary with the real bundled model."""

import pytest

from bot.glossary.search import ANSWER, SUGGEST


def test_a_name_placed_without_what_is_is_read_as_if_asked(searcher):
    # Without "what is", these went to the ranker alone: LoRA was refused behind "Lorax / S-LoRA",
    # and ResNet answered for its residual connections.
    for typed, term in (("lora for sdxl fine-tuning", "LoRA"), ("residual connections in resnet-50",
                        "Residual connection"), ("kv cache in llama inference", "KV cache")):
        result = searcher.search(typed)
        assert result.band == ANSWER and result.best.entry.term == term, typed
        assert result.query == typed


def test_a_name_placed_without_what_is_in_another_field_is_offered_as_if_asked(searcher):
    for typed in ("pan for frying eggs", "headroom in a car for tall drivers"):
        framed = searcher.search(f"what is {typed}")
        result = searcher.search(typed)
        assert result.band == framed.band == SUGGEST, typed
        assert result.best.entry.term == framed.best.entry.term, typed


def test_a_comparison_without_what_is_is_left_to_the_ranker(searcher):
    result = searcher.search("base model vs instruct model difference")
    assert len(result.hits) > 1  # the ranker's candidates, not the first name alone


def test_a_clause_after_a_framed_name_does_not_place_it(searcher):
    # "and would it help" is near no entry, so it once read as another field and the name was offered.
    for typed, term in (("what is gradient checkpointing and would it help?", "Gradient checkpointing"),
                        ("what is lora and why is it so cheap", "LoRA")):
        result = searcher.search(typed)
        assert result.band == ANSWER and result.best.entry.term == term, typed


def test_autocomplete_fills_with_names_spelled_near_what_is_typed_only(searcher):
    assert [e.term for e in searcher.complete("kv")] == ["KV cache"]  # not Distillation, FK / IK …
    assert searcher.complete("spec dec")[0].term == "Speculative decoding"
    assert "LoRA" in [e.term for e in searcher.complete("lroa")][:1]
    assert len(searcher.complete("")) == 25  # nothing typed yet: a page of entries to browse


def test_several_questions_in_one_message_show_a_row_of_entries(searcher):
    # Four was the most: Tokenizer and Embedding were dropped without a word.
    result = searcher.search("what is a transformer and what is attention and what is softmax and what is a "
                             "tokenizer and what is a kv cache")
    assert [h.entry.term for h in result.asked] == ["Transformer", "Attention", "softmax", "Tokenizer", "KV cache"]


def test_a_stored_name_follows_only_where_the_glossary_says(searcher):
    """entry_now_named (a review card's term after a rebuild): the entry of that name, else the one
    entry with it as an alias; nothing for a name that several entries share, or that is merely
    spelled like one, framed, or said of its kind (`named` accepts those from a user typing)."""
    index, names = searcher.index, searcher.names
    lora = index.entry_named("LoRA")
    assert searcher.entry_now_named("LoRA") is lora
    old = next(a for a in lora.aliases if index.entry_named(a) is None and names.exactly(a) == [lora.id])
    assert searcher.entry_now_named(old) is lora
    shared = next(alias for entry_id, alias, *_ in index.alias_rows
                  if index.entry_named(alias) is None and len(set(names.exactly(alias))) > 1)
    assert searcher.entry_now_named(shared) is None
    for text in ("Phlogiston", "what is LoRA", "LoRA technique", "LoRAA"):
        assert searcher.entry_now_named(text) is None, text


@pytest.mark.parametrize("question, name", [
    ("what is machine learning", "machine learning"),
    ("what is a gpu", "gpu"),
    ("what is rnn", "rnn"),
    ("what is gpt", "gpt"),  # offered GPTQ by its spelling, which is no GPT
])
def test_an_unsure_reply_to_a_name_no_entry_has_says_so(searcher, question, name):
    result = searcher.search(question)
    assert result.band == SUGGEST and result.hits
    assert result.note == f"The glossary has no entry named “{name}”." and result.lacking == (name,)


@pytest.mark.parametrize("question", [
    "what is kv caching",  # KV cache under its own name
    "what is the best optimizer",  # words of a question, not a name
    "what is gradient descent",  # holds the name of Gradients
    "with the official config the response length keeps shrinking during training, so what's happening",
])
def test_a_framed_phrase_that_is_no_bare_missing_name_is_not_said_to_be_missing(searcher, question):
    assert "no entry named" not in searcher.search(question).note


@pytest.mark.parametrize("question", ["what is lora alpha", "lora dropout"])
def test_a_short_question_naming_a_coined_name_offers_it_rather_than_refusing(searcher, question):
    # "lora" is in forty definitions, so not telling by how rare it is; written "LoRA", it is a name.
    result = searcher.search(question)
    assert result.band == SUGGEST and result.best.entry.term == "LoRA"
