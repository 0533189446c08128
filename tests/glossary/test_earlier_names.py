"""What a rebuilt index remembers of the builds before it (QA71): a name fixed or changed in the
glossary still finds its entry for what was stored under it, and the ids a question on screen
carries are read as the build of its day numbered them."""

from bot.glossary.earlier_names import ID_GENERATIONS, earlier_ids, former_names
from bot.glossary.index import build_index
from bot.glossary.search import Searcher
from bot.glossary.store import GlossaryIndex
from bot.glossary.terms import lookup_key

ENTRIES = [("Atention", "Token mixing by softmax weights."),
           ("LoRA (Low-Rank Adaptation)", "A cheap way to fine-tune with low-rank matrices."),
           ("softmax", "Turns scores into probabilities.")]


def _build(tmp_path, entries) -> Searcher:
    path = tmp_path / "glossary.txt"
    path.write_text("\n".join(["Glossary", "Terms from a test.", *(line for pair in entries for line in pair)]),
                    encoding="utf-8")
    from tests.conftest import FakeEmbedder

    build_index(tmp_path / "index.db", path, FakeEmbedder())
    return Searcher(GlossaryIndex(tmp_path / "index.db"), None)


def _term(searcher: Searcher, name: str) -> str | None:
    entry = searcher.entry_now_named(name)
    return None if entry is None else entry.term


def test_a_typo_fixed_in_a_term_still_finds_its_entry_through_later_builds(tmp_path) -> None:
    _build(tmp_path, ENTRIES)
    fixed = [("AdaGrad", "Per-parameter learning rates."), ("Attention", ENTRIES[0][1]), *ENTRIES[1:]]
    searcher = _build(tmp_path, fixed)
    assert _term(searcher, "Atention") == "Attention"
    assert searcher.index.earlier_ids[0] == {1: "Atention", 2: "LoRA (Low-Rank Adaptation)", 3: "softmax"}

    renamed = [fixed[0], ("Self-attention", ENTRIES[0][1]), *ENTRIES[1:]]  # renamed again, old name not kept
    searcher = _build(tmp_path, renamed)
    assert _term(searcher, "Atention") == _term(searcher, "Attention") == "Self-attention"
    # id 2 names another term now: a question showing "Attention" is read as the build before numbered it
    assert [ids[2] for ids in searcher.index.earlier_ids] == ["Attention", "LoRA (Low-Rank Adaptation)"]

    # a name the glossary gives an entry again is that entry's, not a former name of another
    back = [*renamed, ("Atention", "A misspelling kept as an entry of its own.")]
    searcher = _build(tmp_path, back)
    assert _term(searcher, "Atention") == "Atention" and _term(searcher, "Attention") == "Self-attention"


def test_a_term_renamed_while_its_definition_changed_is_not_guessed(tmp_path) -> None:
    _build(tmp_path, ENTRIES)
    searcher = _build(tmp_path, [("Attention", "Token mixing by softmax weights over all positions."), *ENTRIES[1:]])
    assert _term(searcher, "Atention") is None  # as for an entry dropped: said to have left


def test_former_names_follow_only_a_definition_one_entry_has() -> None:
    old = {1: ("Atention", "Same words."), 2: ("Other", "Same words.")}
    new = [("Attention", "Same words."), ("Another", "Same words.")]
    assert former_names(old, new, {lookup_key(t) for t, _ in new}, {}) == {}


def test_earlier_ids_keep_the_last_few_builds_whose_ids_moved() -> None:
    kept: list[dict[int, str]] = []
    builds = [{1: "A", 2: "B"}]
    for step in range(ID_GENERATIONS + 2):  # an entry added on top each time: every id moves
        builds.append({1: f"new{step}", **{i + 1: t for i, t in builds[-1].items()}})
        kept = earlier_ids(builds[-2], builds[-1], kept)
    assert kept == builds[-2:-2 - ID_GENERATIONS:-1]  # the latest first
    assert earlier_ids(builds[-1], dict(builds[-1]), kept) == kept  # nothing moved: nothing new to keep
