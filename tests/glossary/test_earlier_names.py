"""What a rebuilt index remembers of the builds before it (QA71): a name fixed, changed or dropped in
the glossary still finds its entry for what was stored under it, and the ids a question on screen
carries are read as the build of its day numbered them, each to the same entry now."""

from bot.glossary import earlier_names
from bot.glossary.earlier_names import KEEP_IDS_SECONDS, earlier_ids, entry_map, former_names
from bot.glossary.index import build_index
from bot.glossary.search import Searcher
from bot.glossary.store import GlossaryIndex
from bot.glossary.terms import lookup_key
from tests.conftest import FakeEmbedder

ATTENTION = "Token mixing by softmax weights."
ENTRIES = [("Atention", ATTENTION),
           ("LoRA (Low-Rank Adaptation)", "A cheap way to fine-tune with low-rank matrices."),
           ("softmax", "Turns scores into probabilities.")]


def _build(tmp_path, entries) -> Searcher:
    path = tmp_path / "glossary.txt"
    path.write_text("\n".join(["Glossary", "Terms from a test.", *(line for pair in entries for line in pair)]),
                    encoding="utf-8")
    build_index(tmp_path / "index.db", path, FakeEmbedder())
    return Searcher(GlossaryIndex(tmp_path / "index.db"), None)


def _term(searcher: Searcher, name: str) -> str | None:
    entry = searcher.entry_now_named(name)
    return None if entry is None else entry.term


def _then(searcher: Searcher, generation: int = 0) -> dict[str, str | None]:
    """A build's terms then → the term of that entry now."""
    entries = searcher.index.entries
    return {term: None if now is None else entries[now].term
            for term, now in searcher.index.earlier_ids()[generation].values()}


def test_a_typo_fixed_in_a_term_still_finds_its_entry_through_later_builds(tmp_path) -> None:
    _build(tmp_path, ENTRIES)
    fixed = [("AdaGrad", "Per-parameter learning rates."), ("Attention", ATTENTION), *ENTRIES[1:]]
    searcher = _build(tmp_path, fixed)
    assert _term(searcher, "Atention") == "Attention"
    assert _then(searcher) == {"Atention": "Attention", "LoRA (Low-Rank Adaptation)": "LoRA (Low-Rank Adaptation)",
                               "softmax": "softmax"}

    renamed = [fixed[0], ("Self-attention", ATTENTION), *ENTRIES[1:]]  # renamed again, old name not kept
    searcher = _build(tmp_path, renamed)
    assert _term(searcher, "Atention") == _term(searcher, "Attention") == "Self-attention"
    assert _then(searcher, 1)["Atention"] == "Self-attention"  # the first build's ids, carried over

    # a name the glossary gives an entry again is that entry's, not a former name of another
    back = [*renamed, ("Atention", "A misspelling kept as an entry of its own.")]
    searcher = _build(tmp_path, back)
    assert _term(searcher, "Atention") == "Atention" and _term(searcher, "Attention") == "Self-attention"


def test_a_typo_fixed_then_renamed_keeping_the_name_and_then_dropping_it_is_followed(tmp_path) -> None:
    """Review 54: "KV cach" → "KV cache" → "Key-value cache (KV cache)" stranded what was stored under
    "KV cach"; dropping the "(KV cache)" later stranded what was stored under "KV cache"."""
    kv = "Keys and values of earlier tokens, kept for the next one."
    _build(tmp_path, [("KV cach", kv), *ENTRIES[1:]])
    _build(tmp_path, [("KV cache", kv), *ENTRIES[1:]])
    searcher = _build(tmp_path, [("Key-value cache (KV cache)", kv), *ENTRIES[1:]])
    assert _term(searcher, "KV cach") == _term(searcher, "KV cache") == "Key-value cache (KV cache)"
    searcher = _build(tmp_path, [("Key-value cache", kv + " "), *ENTRIES[1:]])  # the definition touched too
    assert _term(searcher, "KV cach") == _term(searcher, "KV cache") == "Key-value cache"


def test_ids_follow_the_entry_not_the_name_when_names_move_between_entries(tmp_path) -> None:
    """Review 54: an option renamed to another option's former name, a swap of two names, an old name
    given to a new entry: each old id stands for the entry with its definition now."""
    one, two = "The first thing of the set.", "The second thing of the set."
    _build(tmp_path, [("Alpha", one), ("Beta", two), *ENTRIES[1:]])
    swapped = _build(tmp_path, [("Aardvark", "Added on top."), ("Alpha", two), ("Beta", one), *ENTRIES[1:]])
    assert _then(swapped)["Alpha"] == "Beta" and _then(swapped)["Beta"] == "Alpha"
    shifted = _build(tmp_path, [("Alpha", "Something else entirely."), ("Alpha two", two), ("Beta", one),
                                *ENTRIES[1:]])
    assert _then(shifted)["Alpha"] == "Alpha two" and _then(shifted, 1)["Alpha"] == "Beta"


def test_a_term_renamed_while_its_definition_changed_is_not_guessed(tmp_path) -> None:
    _build(tmp_path, ENTRIES)
    searcher = _build(tmp_path, [("Attention", ATTENTION[:-1] + " over all positions."), *ENTRIES[1:]])
    assert _term(searcher, "Atention") is None  # as for an entry dropped: said to have left
    assert _then(searcher)["Atention"] is None


def test_a_definition_two_entries_had_or_have_is_nobodys_evidence() -> None:
    old = {1: ("Atention", "Same words."), 2: ("Other", "Same words.")}
    assert entry_map(old, {1: ("Attention", "Same words.")}) == {}
    assert entry_map({1: ("Atention", "Same words.")}, {1: ("Attention", "Same words."), 2: ("B", "Same words.")}) == {}
    same = entry_map({1: ("A", "x")}, {1: ("B", "x")})
    assert former_names({1: ["A", "the a"]}, same, {1: "B"}, {lookup_key("B"): {1}}, {}) == {
        "a": ("A", "B"), "the a": ("the a", "B")}


def test_earlier_ids_keep_the_builds_of_the_last_days() -> None:
    builds = [{1: "A", 2: "B"}]
    kept: list = []
    for step in range(earlier_names.MAX_ID_GENERATIONS + 2):  # an entry added on top each time: every id moves
        builds.append({1: f"new{step}", **{i + 1: t for i, t in builds[-1].items()}})
        same = {i: i + 1 for i in builds[-2]}
        kept = earlier_ids(builds[-2], same, builds[-1], kept, now=1000.0 + step, old_stamps=f"{step:04x}")
    assert len(kept) == earlier_names.MAX_ID_GENERATIONS
    latest = builds[-1]
    for (_, stamp, ids), then, step in zip(kept, builds[-2::-1], range(len(builds) - 2, -1, -1)):
        assert {term: latest[now] for term, now in ids.values()} == {t: t for t in then.values()}
        assert stamp == f"{step:04x}"  # each build's ids with the stamp of the build they were
    unmoved = earlier_ids(latest, {i: i for i in latest}, dict(latest), kept, now=1030.0)
    assert unmoved == kept  # nothing moved: nothing new to keep
    assert earlier_ids(latest, {i: i for i in latest}, dict(latest), kept, now=1030.0 + KEEP_IDS_SECONDS) == []


def test_two_old_entries_never_become_one_and_a_name_taken_by_a_new_entry_is_not_followed(tmp_path) -> None:
    """Review 54b: definitions moved over between two entries (one reworded) sent both old ids to one
    entry; and a kept former name followed its target's name onto a new entry that took it."""
    one, two = "The first thing of the set.", "The second thing of the set."
    # B's words went to A, A's (reworded) to B: B is A now, and A is nobody sure
    assert entry_map({1: ("A", one), 2: ("B", two)}, {1: ("A", two), 2: ("B", one + " Reworded.")}) == {2: 1}
    assert entry_map({1: ("A", "x"), 2: ("B", "y")}, {1: ("A", "x2"), 2: ("A", "y2")}) == {1: 1}  # first A by term
    kv = "Keys and values of earlier tokens, kept for the next one."
    _build(tmp_path, [("KV cach", kv), *ENTRIES[1:]])
    _build(tmp_path, [("KV cache", kv), *ENTRIES[1:]])
    _build(tmp_path, [("Key-value cache", kv), *ENTRIES[1:]])
    searcher = _build(tmp_path, [("KV cache", "A new entry that took the name."), ("Key-value cache", kv),
                                 *ENTRIES[1:]])
    assert _term(searcher, "KV cach") == "Key-value cache"


def test_a_button_of_a_build_a_quiet_rebuild_replaced_is_still_read_with_its_ids_after_a_swap(tmp_path) -> None:
    """Review 55: a build's stamp was kept only when the next build moved ids; a definition reworded
    (nothing moved), then two names swapped, left a question of the first build read with the ids
    now, which name the other entry."""
    one, two = "The first thing of the set.", "The second thing of the set."
    first = _build(tmp_path, [("Alpha", one), ("Beta", two), ("Gamma", "The third.")]).index
    stamp, alpha = first.build_stamp, next(i for i, e in first.entries.items() if e.term == "Alpha")
    reworded = _build(tmp_path, [("Alpha", one), ("Beta", two), ("Gamma", "The third, reworded.")]).index
    assert stamp in reworded.numbered_alike and not reworded.earlier_ids()  # numbered as before: no ids kept
    swapped = _build(tmp_path, [("Alpha", two), ("Beta", one), ("Gamma", "The third, reworded.")]).index
    assert stamp not in swapped.numbered_alike
    [ids] = swapped.earlier_ids(stamp)  # the generation the quiet rebuild's numbering ended with
    term_then, now_id = ids[alpha]
    assert term_then == "Alpha" and swapped.entries[now_id].definition == one
    assert swapped.earlier_ids(reworded.build_stamp) == [ids]
