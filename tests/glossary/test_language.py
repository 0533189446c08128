"""Questions in another language: told the bot reads English, not that the glossary lacks them."""

import json

import pytest

from bot.config import DEFAULT_DATA_DIR
from bot.glossary.language import ENGLISH_NAMES_NOTE, ENGLISH_ONLY_NOTE, in_another_language
from bot.glossary.search import NOT_FOUND, SUGGEST
from bot.present import result_text
from tests.glossary.test_search import CountingEmbedder

ELSEWHERE = ["什么是注意力机制", "что такое внимание", "¿qué es el aprendizaje por refuerzo?",
             "qu'est-ce que la rétropropagation ?", "was ist ein Transformer und wie funktioniert er",
             "o que é aprendizado por reforço", "cos'è il dropout", "注意力機構とは何ですか",
             # another language around an English name (once read as English, "Lorax / S-LoRA" first)
             "was ist LoRA?", "什么是LoRA?", "что такое attention?", "qu’est-ce que LoRA ?"]
ENGLISH = ["what is β-VAE", "what does σ mean in the DDPM loss", "comment on the learning rate schedule",
           "die hard fans of adam", "was the model trained in fp16", "what is the KL term",
           "las vegas is not a term", "how do I use the transformer library",
           "why does the tokenizer split 你好 into 3 tokens?", "what does 注意力 mean in transformers"]


@pytest.mark.parametrize("text", ELSEWHERE)
def test_questions_in_other_languages_are_recognised(text):
    assert in_another_language(text)


@pytest.mark.parametrize("text", ENGLISH)
def test_english_with_foreign_letters_or_lookalike_words_is_english(text):
    assert not in_another_language(text)


def test_no_english_question_of_the_project_sets_reads_as_another_language():
    paths = sorted((DEFAULT_DATA_DIR / "eval").glob("*.jsonl")) + sorted((DEFAULT_DATA_DIR / "train").glob("*.jsonl"))
    read = [json.loads(line)["query"] for path in paths for line in path.open(encoding="utf-8")]
    assert len(read) > 10_000
    assert [q for q in read if in_another_language(q)] == []


def test_a_question_in_another_script_is_told_so_without_a_model_call(searcher, real_embedder):
    counting = CountingEmbedder(real_embedder)
    original, searcher.embedder = searcher.embedder, counting
    try:
        result = searcher.search("什么是注意力机制")
    finally:
        searcher.embedder = original
    assert result.band == NOT_FOUND and result.note == ENGLISH_ONLY_NOTE and counting.calls == 0
    assert result_text(result, searcher).startswith("I can only read questions in English")


def test_an_entry_named_in_another_language_leads_the_offer(searcher):
    for text in ("LoRA微调是什么原理", "was ist ein Transformer und wie funktioniert er", "was ist LoRA?",
                 "什么是LoRA?"):
        result = searcher.search(text)
        assert result.band == SUGGEST and result.note == ENGLISH_NAMES_NOTE, text
        assert result.best.entry.term in {"LoRA", "Transformer"}, text
        assert result_text(result, searcher).startswith("I read questions in English only, so this is a guess"), text
