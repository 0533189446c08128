"""The cross-validation folds the training scripts share (scripts/folds.py): no target term is
asked about in two folds, and the assignment never changes between runs."""

from __future__ import annotations

from collections import defaultdict

from bot.config import DEFAULT_DATA_DIR
from bot.glossary.evaluate import Case, load_cases
from scripts.folds import id_folds, term_folds

DEV = [c for name in ("dev2", "dev_real") for c in load_cases(DEFAULT_DATA_DIR / "eval" / f"{name}.jsonl")]


def test_no_term_is_in_two_folds_and_the_folds_are_balanced():
    folds = term_folds(DEV, 5)
    seen: dict[str, set[int]] = defaultdict(set)
    for case, fold in zip(DEV, folds):
        for term in case.expected:
            seen[term].add(fold)
    assert all(len(f) == 1 for f in seen.values())
    sizes = [sum(1 for c, f in zip(DEV, folds) if f == k and c.expected) for k in range(5)]
    assert min(sizes) > 0.8 * max(sizes)


def test_questions_expecting_two_terms_join_their_groups():
    cases = [Case("1", "q", "x", ("A", "B")), Case("2", "q", "y", ("B",)), Case("3", "q", "z", ("A",)),
             Case("4", "q", "w", ("C",)), Case("5", "negative", "v", ())]
    folds = term_folds(cases, 3)
    assert folds[0] == folds[1] == folds[2]


def test_folds_are_a_pure_function_of_the_cases():
    assert term_folds(DEV, 5) == term_folds(list(DEV), 5)
    generated = load_cases(DEFAULT_DATA_DIR / "train" / "generated.jsonl")
    assert id_folds(generated, 5) == id_folds(generated, 5) and set(id_folds(generated, 5)) == set(range(5))


def test_every_bank_question_names_glossary_entries_and_ids_are_unique():
    """A misspelt expected term would silently drop a bank question (bank.bank_rows), and two
    questions sharing an id would hide each other in training (Fold.skip hides by id). The third
    generated round is not in the bank but trains the model (finetune_model.py --more); the
    evaluation sets that are in neither share the id space, so a question is one id everywhere."""
    import json

    from bot.glossary.bank import BANK_FILES
    from bot.glossary.parse import parse_file

    terms = {e.term for e in parse_file(DEFAULT_DATA_DIR / "glossary.txt").entries}
    ids: list[str] = []
    never_trained_on = ("dev", "mentions", "short_mentions", "off_glossary", "reworded")
    for path in (*BANK_FILES, DEFAULT_DATA_DIR / "train" / "generated3.jsonl",
                 *(DEFAULT_DATA_DIR / "eval" / f"{name}.jsonl" for name in never_trained_on)):
        for line in path.read_text(encoding="utf-8").splitlines():
            question = json.loads(line)
            ids.append(question["id"])
            assert set(question["expected"]) <= terms, (path.name, question["id"])
            if path.name in ("mined.jsonl", "reworded.jsonl"):  # reworded from a public thread: it must say which
                assert question["source"], question["id"]
    assert len(ids) == len(set(ids))


def test_the_reworded_check_set_shares_no_thread_with_what_the_ranker_learnt_from():
    """data/eval/reworded.jsonl measures real questions the project never met: no thread of it
    may be one the bank's reworded questions (mined.jsonl) or dev_real came from."""
    import json

    def sources(name: str) -> list[str]:
        lines = (DEFAULT_DATA_DIR / name).read_text(encoding="utf-8").splitlines()
        return [json.loads(line)["source"] for line in lines]

    fresh = sources("eval/reworded.jsonl")
    assert len(fresh) == len(set(fresh))  # one question per thread
    assert not set(fresh) & set(sources("train/mined.jsonl") + sources("eval/dev_real.jsonl"))
