"""Quiz questions from the glossary (bot/glossary/quiz.py): plausible, never ambiguous
distractors from stored vectors, and definitions that do not give their answer away."""

from __future__ import annotations

import random
import re

import numpy as np
import pytest

from bot.glossary.quiz import (KINDS, MEANING, MIN_DEFINITION_CHARS, NEAR_DUPLICATE, OPTIONS, TERM, Question,
                               QuizMaker, kind_of_thing)
from bot.glossary.same_thing import read_same_things
from bot.glossary.store import GlossaryIndex
from bot.glossary.terms import TermSpotter
from tests.conftest import GLOSSARY


@pytest.fixture(scope="module")
def quiz(real_index_path) -> QuizMaker:
    index = GlossaryIndex(real_index_path)
    return QuizMaker(index, read_same_things(GLOSSARY, index))


def _cosine(quiz: QuizMaker, a: int, b: int) -> float:
    return float(quiz.vectors[quiz.position[a]] @ quiz.vectors[quiz.position[b]])


def test_two_hundred_questions_have_four_distinct_options_and_no_ambiguous_one(quiz):
    rng = random.Random(7)
    for _ in range(200):
        question = quiz.question(rng)
        assert len(question.options) == OPTIONS == len(set(question.options))
        assert question.options[question.correct] == question.answer
        banned = quiz.excluded(question.answer, question.kind)
        for option in question.options:
            if option == question.answer:
                continue
            assert option not in banned  # no shared name, no same thing, no "see" link, none the question names
            assert _cosine(quiz, question.answer, option) < NEAR_DUPLICATE


def test_distractors_are_much_closer_in_meaning_than_random_entries(quiz):
    rng = random.Random(11)
    close, chance = [], []
    for _ in range(200):
        question = quiz.question(rng)
        close += [_cosine(quiz, question.answer, o) for o in question.options if o != question.answer]
        chance += [_cosine(quiz, question.answer, rng.choice(quiz.ids)) for _ in range(3)]
    assert np.mean(close) > np.mean(chance) + 0.25, (np.mean(close), np.mean(chance))


def test_thin_entries_are_never_asked(quiz):
    asked = {quiz.question(random.Random(seed)).answer for seed in range(300)}
    assert all(len(quiz.index.entries[e].definition) >= MIN_DEFINITION_CHARS for e in asked)
    assert len(quiz.askable) < len(quiz.ids)  # the glossary has such stubs, and they are left out


def test_a_masked_definition_never_names_its_own_entry(quiz):
    for entry_id in quiz.askable:
        entry = quiz.index.entries[entry_id]
        masked = quiz.masked_definition(entry_id)
        for name in (entry.term, *entry.aliases):
            if len(name) >= 2:
                # a name in capitals is a name only as written ("ADD", not the verb "add")
                case = 0 if not any(c.islower() for c in name) else re.IGNORECASE
                assert not re.search(rf"(?<!\w){re.escape(name)}(?!\w)", masked, case), (name, masked)


def test_no_clue_shows_its_term_even_inside_another_word(quiz):
    # "StyleGAN2, StyleGAN3", "SwiGLU", "unfrozen", "torch_xla" once gave their answers away.
    shown = [quiz.index.entries[e].term for e in quiz.askable
             if quiz.index.entries[e].term.casefold() in quiz.masked_definition(e).casefold()]
    assert shown == []
    assert "torch_▁▁▁" in quiz.masked_definition(quiz.index.entry_named("XLA").id)


def test_a_short_name_or_one_word_of_a_name_inside_another_word_stays(quiz):
    # "fusion" is a word of CFG fusion's name, but "diffusion" is no clue to it.
    assert "diffusion" in quiz.masked_definition(quiz.index.entry_named("CFG fusion").id)


def test_a_name_in_capitals_does_not_blank_the_same_word_in_lower_case(quiz):
    add = quiz.index.entry_named("ADD (Adversarial Diffusion Distillation)")
    masked = quiz.masked_definition(add.id)
    assert "but add a GAN-style discriminator" in masked and "ADD" not in masked


def test_a_spelled_out_name_does_not_give_the_answer_away(quiz):
    # "Short for Heavy-Hitter Oracle" named H2O by its initials; "Short for ▁▁▁ —" said it is an abbreviation.
    for term in ("H2O", "DPM-Solver", "Real NVP"):
        masked = quiz.masked_definition(quiz.index.entry_named(term).id)
        assert "short for" not in masked.casefold() and masked[0].isupper(), masked
    assert "Heavy-Hitter" not in quiz.masked_definition(quiz.index.entry_named("H2O").id)
    raft = quiz.masked_definition(quiz.index.entry_named("RAFT").id)
    assert "Recurrent All-Pairs" not in raft and raft.startswith("▁▁▁ is a neural network")
    # a remark in parentheses is no name, and stays
    assert "(e.g. 0.2)" in quiz.masked_definition(quiz.index.entry_named("Temperature").id)


@pytest.mark.parametrize("term, hidden", [
    ("Perceiver IO", "Perceiver"), ("Media container", "containers"), ("Artifact", "artifacts"),
    ("FK / IK", "Forward / Inverse Kinematics"), ("rank", "LOCAL_RANK"), ("AWQ", "Activation-aware"),
    ("All-to-all token routing", "All-to-all"),
])
def test_a_clue_hides_the_words_that_would_name_its_answer(quiz, term, hidden):
    # From a QA pass: 9 of 56 "which term" clues named their answer one of these ways.
    entry = quiz.index.entry_named(term)
    assert hidden.casefold() in entry.definition.casefold()
    assert hidden.casefold() not in quiz.masked_definition(entry.id).casefold()


def test_a_clue_keeps_the_words_its_term_shares_with_many_entries(quiz):
    # "A modern, royalty-free video codec" spells no AV1, and GAN inversion's GAN is everyone's.
    assert "royalty-free video codec" in quiz.masked_definition(quiz.index.entry_named("AV1").id)
    assert "Running a GAN backwards" in quiz.masked_definition(quiz.index.entry_named("GAN inversion").id)


def test_both_kinds_are_asked_and_a_kind_can_be_chosen(quiz):
    kinds = {quiz.question(random.Random(seed)).kind for seed in range(40)}
    assert kinds == {TERM, MEANING}
    assert quiz.question(random.Random(1), kind=MEANING).kind == MEANING
    with pytest.raises(ValueError):
        quiz.question(random.Random(1), kind="essay")


def test_a_question_naming_entries_the_index_lacks_is_not_valid(quiz):
    good = quiz.question(random.Random(3))
    assert quiz.is_valid(good)
    assert not quiz.is_valid(Question(good.kind, good.answer, (*good.options[:-1], 10**9)))
    assert not quiz.is_valid(Question(good.kind, 10**9, good.options))


@pytest.mark.parametrize("term, giveaway", [
    ("Needle-in-a-haystack", "needle"),   # a piece of a hyphenated name
    ("Needle-in-a-haystack", "haystack"),
    ("N-gram", "gram"),
    ("Column-wise partitioning", "column"),
    ("Detokenization", "detokenizer"),    # the name in another form
    ("QLoRA", "LoRA"),                    # a linked entry's name inside the answer's, never an option
    ("StyleGAN2", "StyleGAN"),
    ("Frozen", "Freezing"),               # an irregular verb's other form
    ("Jailbreak", "jailbroken"),
])
def test_a_clue_hides_the_forms_and_pieces_of_its_answers_name(quiz, term, giveaway):
    entry = quiz.index.entry_named(term)
    assert re.search(rf"\b{re.escape(giveaway)}", entry.definition, re.IGNORECASE)  # it was there to give away
    assert not re.search(rf"\b{re.escape(giveaway)}\b", quiz.masked_definition(entry.id), re.IGNORECASE)


def test_a_clue_is_long_enough_to_recognise_once_its_names_are_hidden(quiz):
    # "Exponential moving average of model weights; samples better than the live weights" was asked as
    # "▁▁▁; samples better than the live weights"
    for entry_id in quiz.askable:
        visible = quiz.masked_definition(entry_id).replace("▁▁▁", "").strip(" —–-:;,.")
        assert len(visible) >= MIN_DEFINITION_CHARS, quiz.index.entries[entry_id].term
    assert quiz.index.entry_named("EMA weights").id not in quiz.askable


def test_terms_just_asked_are_not_asked_again(quiz):
    rng, recent = random.Random(5), []
    for _ in range(100):
        recent.append(quiz.question(rng, avoid=recent).answer)
    assert len(set(recent)) == 100
    # with every term avoided there is still a question
    assert quiz.question(rng, avoid=set(quiz.askable)).answer in quiz.askable


# -- what may share a question (QA59 P2, P3) -----------------------------------------------------

@pytest.mark.parametrize("a, b", [
    ("Function calling", "Tool call"),      # both: the model emits a structured request to run a function
    ("matmul", "GEMM"),                     # the same operation
    ("Gated", "Soft gate"),                 # "a gate near 0 shuts a value off … near 1 lets it through"
    ("Diffusion model", "DDPM"),            # "a generative model that learns to un-noise an image": DDPM is one
    ("Verifier", "Outcome reward model"),
    ("Memorization", "Overfitting"),
    ("Reward model", "Outcome reward model"),
    ("TTFT", "Latency"),
    ("Normalization", "L2 normalization"),
    ("Embedding", "Sentence embedding"),
    ("Embedding", "Image embedding"),
    ("Residual connection", "ResNet"),
    ("Prefix cache", "RadixAttention"),
    ("LoRA", "QLoRA"),
    ("Adam", "AdamW"),
])
def test_entries_for_the_same_thing_are_never_options_of_one_question(quiz, a, b):
    first, second = quiz.index.entry_named(a).id, quiz.index.entry_named(b).id
    asked = [e for e in (first, second) if e in quiz.askable]
    assert asked
    together = [(seed, kind) for seed in range(100) for kind in (TERM, MEANING) for answer in asked
                if {first, second} <= set(quiz.question(random.Random(seed), kind, answer).options)]
    assert together == []


def _names_shown(quiz: QuizMaker, text: str) -> set[int]:
    spotter = TermSpotter(quiz.index.by_key)
    return {e for mention in spotter.spot(text) for e in quiz.index.by_key[mention.key]}


def test_no_question_names_a_wrong_option_in_its_clue_or_its_answer_in_a_wrong_option(quiz):
    # A which-term clue naming an option rules it out; so does an option reading "Serving many
    # LoRA adapters…" when asked what LoRA means.
    for seed in range(400):
        question = quiz.question(random.Random(seed))
        wrong = set(question.options) - {question.answer}
        if question.kind == TERM:
            assert not _names_shown(quiz, quiz.masked_definition(question.answer)) & wrong, seed
        else:
            assert all(question.answer not in _names_shown(quiz, quiz.masked_definition(o)) for o in wrong), seed


def test_an_entry_mentioning_the_answer_may_be_a_distractor_where_the_question_does_not_show_it(quiz):
    # LoRA lost its whole neighbourhood (Adapter, Fine-tuning …) to their mentions of it, and was
    # asked beside Perceiver IO, Indexing and Reciprocal rank fusion.
    index = quiz.index
    lora = index.entry_named("LoRA").id
    mentioning = {link.entry_id for link in index.links_to[lora]}
    options = {o for seed in range(100) for o in quiz.question(random.Random(seed), TERM, lora).options}
    assert options & mentioning - quiz.same_things.too_close(lora)
    assert not options & {link.entry_id for link in index.links_from[lora]}


def test_every_askable_entry_has_three_distractors_in_both_kinds(quiz):
    for entry_id in quiz.askable:
        for kind in KINDS:
            assert len(set(quiz.distractors(entry_id, random.Random(0), kind=kind))) == OPTIONS - 1


@pytest.mark.parametrize("term, kind", [("vLLM", "software"), ("MMLU", "evaluation"), ("Perplexity", "metric")])
def test_distractors_of_the_answers_kind_of_thing_come_first(quiz, term, kind):
    entry = quiz.index.entry_named(term)
    assert kind_of_thing(entry.definition) == kind
    distractors = [o for seed in range(100) for o in quiz.distractors(entry.id, random.Random(seed))]
    alike = [o for o in distractors if kind_of_thing(quiz.index.entries[o].definition) == kind]
    nearest = np.argsort(-(quiz.vectors @ quiz.vectors[quiz.position[entry.id]]))[1:31]
    chance = np.mean([kind_of_thing(quiz.index.entries[quiz.ids[int(p)]].definition) == kind for p in nearest])
    assert len(alike) / len(distractors) > chance


def test_a_definition_says_what_kind_of_thing_its_entry_is_only_by_a_known_head_noun():
    assert kind_of_thing("A popular Python library for declaring the shape of your data.") == "software"
    assert kind_of_thing("NVIDIA's optimized library of GPU linear-algebra routines") == "software"
    assert kind_of_thing("A way to reuse computation across requests that share a prompt prefix") == ""
    assert kind_of_thing("Splitting a dataset into many smaller pieces") == ""
