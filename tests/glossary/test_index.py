import sqlite3

import numpy as np
import pytest

from bot.glossary.index import SCHEMA_VERSION, BuildReport, IndexError_, build_index, open_db
from bot.glossary.store import GlossaryIndex
from bot.glossary.terms import stem
from tests.conftest import FakeEmbedder

SMALL = "\n".join(
    [
        "Glossary",
        "Terms from a test.",
        "Attention",
        "Token mixing by softmax weights. See also softmax.",
        "LoRA (Low-Rank Adaptation)",
        "A cheap way to fine-tune with low-rank matrices; used with attention.",
        "softmax",
        "Turns scores into probabilities.",
        "License",
        "MIT License.",
    ]
)


@pytest.fixture
def small(tmp_path):
    path = tmp_path / "glossary.txt"
    path.write_text(SMALL, encoding="utf-8")
    return path


def test_a_one_word_name_its_capitals_make_is_mentioned_only_as_written(tmp_path, fake_embedder):
    # "add noise" and "near zero" once linked every such definition to ADD and ZeRO.
    path = tmp_path / "glossary.txt"
    path.write_text("\n".join([
        "ADD", "Adversarial Diffusion Distillation.",
        "ZeRO", "DeepSpeed's sharding.",
        "DDPM", "Add a little noise at each step until the image is near zero signal.",
        "SDXL Turbo", "Distilled with ADD; see ZeRO for nothing.",
    ]), encoding="utf-8")
    build_index(tmp_path / "index.db", path, fake_embedder)
    index = GlossaryIndex(tmp_path / "index.db")
    linked = {index.entries[src].term: {index.entries[l.entry_id].term for l in links}
              for src, links in index.links_from.items()}
    assert "DDPM" not in linked
    assert linked["SDXL Turbo"] == {"ADD", "ZeRO"}


def test_build_writes_entries_aliases_links_fts_and_vectors(tmp_path, small, fake_embedder):
    db_path = tmp_path / "index.db"
    report = build_index(db_path, small, fake_embedder)
    assert report.entries == 3 and report.embedded > 0
    index = GlossaryIndex(db_path)
    terms = {e.term for e in index.entries.values()}
    assert terms == {"Attention", "LoRA (Low-Rank Adaptation)", "softmax"}
    assert set(index.by_key["low rank adaptation"]) == {2}
    assert [(l.entry_id, l.kind) for l in index.links_from[1]] == [(3, "see")]
    assert any(l.entry_id == 1 and l.kind == "mentions" for l in index.links_from[2])
    assert [eid for eid, _ in index.keyword_search("probabilities")] == [3]
    assert index.vectors["full"].shape == (3, fake_embedder.dim)
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        row = conn.execute("SELECT model, length(content_hash), length(vector) FROM embeddings").fetchone()
        assert row == ("fake-model", 64, 4 * fake_embedder.dim)


def test_unchanged_rebuild_embeds_nothing(tmp_path, small):
    db_path = tmp_path / "index.db"
    build_index(db_path, small, FakeEmbedder())
    again = FakeEmbedder()
    report = build_index(db_path, small, again)
    assert report.up_to_date and again.embedded == []
    forced = build_index(db_path, small, again, force=True)
    assert forced.embedded == 0 and forced.reused > 0


def test_changed_entry_is_the_only_one_reembedded_and_removed_entries_disappear(tmp_path, small):
    db_path = tmp_path / "index.db"
    build_index(db_path, small, FakeEmbedder())
    small.write_text(
        SMALL.replace("Turns scores into probabilities.", "Maps scores to a distribution.").replace(
            "Attention\nToken mixing by softmax weights. See also softmax.\n", ""
        ),
        encoding="utf-8",
    )
    embedder = FakeEmbedder()
    report = build_index(db_path, small, embedder)
    assert report.entries == 2
    assert embedder.embedded and all("softmax" in t for t in embedder.embedded)
    assert report.removed > 0
    index = GlossaryIndex(db_path)
    assert {e.term for e in index.entries.values()} == {"LoRA (Low-Rank Adaptation)", "softmax"}
    with sqlite3.connect(db_path) as conn:
        orphans = conn.execute(
            "SELECT count(*) FROM embeddings WHERE content_hash NOT IN "
            "(SELECT content_hash FROM entry_views UNION SELECT content_hash FROM bank)"
        ).fetchone()[0]
    assert orphans == 0


def test_model_change_reembeds_everything(tmp_path, small):
    db_path = tmp_path / "index.db"
    first = build_index(db_path, small, FakeEmbedder("model-a"))
    other = FakeEmbedder("model-b")
    second = build_index(db_path, small, other)
    assert second.embedded == first.embedded and second.reused == 0
    assert GlossaryIndex(db_path).model_id == "model-b"


def test_corrupt_or_missing_index_gives_a_clear_error(tmp_path):
    with pytest.raises(IndexError_, match="glossary-bot build"):
        GlossaryIndex(tmp_path / "missing.db")
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(IndexError_, match="glossary-bot build"):
        GlossaryIndex(bad)
    with pytest.raises(IndexError_, match="glossary-bot build"):
        open_db(bad)


def test_keyword_search_treats_fts_syntax_as_text(tmp_path, small, fake_embedder):
    db_path = tmp_path / "index.db"
    build_index(db_path, small, fake_embedder)
    index = GlossaryIndex(db_path)
    for hostile in ['"', "NEAR(", "AND OR NOT", "*", "^softmax", "'; DROP TABLE entries; --", "\x00"]:
        index.keyword_search(hostile)  # must not raise
    assert len(GlossaryIndex(db_path).entries) == 3


def test_a_pasted_identifier_finds_the_entry_its_words_name(tmp_path, small, fake_embedder):
    # `low_rank_adapter` is no word of the glossary, but its parts are LoRA's.
    build_index(tmp_path / "index.db", small, fake_embedder)
    index = GlossaryIndex(tmp_path / "index.db")
    assert [eid for eid, _ in index.keyword_search("low_rank_adapter")][:1] == [2]
    assert [eid for eid, _ in index.keyword_search("SoftmaxScores")][:1] == [3]


def test_postings_read_once_are_served_the_same_from_memory(tmp_path, small, fake_embedder, monkeypatch):
    from bot.glossary import store

    db_path = tmp_path / "index.db"
    build_index(db_path, small, fake_embedder)
    index = GlossaryIndex(db_path)
    words = [stem("attention"), stem("matrices"), "nosuchword"]
    first = index.postings(words)
    assert first and "nosuchword" not in first
    monkeypatch.setattr(index, "_connection", lambda: pytest.fail("cached words went back to SQLite"))
    again = index.postings(words)
    assert again.keys() == first.keys()
    for word, (positions, weights) in first.items():
        assert (again[word][0] == positions).all() and (again[word][1] == weights).all()
    # a full cache starts over instead of growing without bound
    monkeypatch.undo()
    monkeypatch.setattr(store, "POSTINGS_CACHE_WORDS", 2)
    newer = [stem("softmax"), stem("probabilities"), stem("cheap")]
    assert index.postings(newer)
    assert set(index._postings_cache["postings"]) == set(newer)  # only the last question's words are kept


def _bank_file(path, lines):
    import json
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    return path


def test_bank_questions_are_stored_for_the_entries_this_glossary_has(tmp_path, small, fake_embedder):
    bank = _bank_file(tmp_path / "bank.jsonl", [
        {"id": "q1", "query": "**how do i fine-tune cheaply?**", "expected": ["LoRA (Low-Rank Adaptation)"]},
        {"id": "q2", "query": "what mixes tokens?", "expected": ["Attention", "Nowhere in this glossary"]},
        {"id": "q3", "query": "what is bagging?", "expected": []},
        {"id": "q4", "query": "what is bagging?", "expected": ["Bagging"]},
        "not an object",
    ])
    db_path = tmp_path / "index.db"
    build_index(db_path, small, fake_embedder, bank_files=(bank, tmp_path / "missing.jsonl"))
    index = GlossaryIndex(db_path)
    terms = [index.entries[int(index.entry_ids[p])].term for p in index.bank_positions]
    assert sorted(zip(index.bank_questions, terms)) == [("q1", "LoRA (Low-Rank Adaptation)"), ("q2", "Attention")]
    assert index.bank_codes.shape == (2, fake_embedder.dim) and index.bank_codes.dtype == np.int8
    # The int8 codes times their scales give back each question's cosine with itself, within a step.
    asked = {"q1": "how do i fine-tune cheaply?", "q2": "what mixes tokens?"}
    for row, question_id in enumerate(index.bank_questions):
        vector = fake_embedder.embed_query(asked[question_id])
        vector = vector / np.linalg.norm(vector)
        assert abs(float((index.bank_codes[row] * index.bank_scale) @ vector) - 1.0) < 0.01
    # Embedded as searched: without the Discord decoration.
    assert "how do i fine-tune cheaply?" in fake_embedder.embedded


def test_a_damaged_bank_matrix_names_the_rebuild_instead_of_failing_mid_search(tmp_path, small, fake_embedder):
    bank = _bank_file(tmp_path / "bank.jsonl", [
        {"id": "q1", "query": "how do i fine-tune cheaply?", "expected": ["LoRA (Low-Rank Adaptation)"]},
        {"id": "q2", "query": "what mixes tokens?", "expected": ["Attention"]},
    ])
    db_path = tmp_path / "index.db"
    build_index(db_path, small, fake_embedder, bank_files=(bank,))
    with sqlite3.connect(db_path) as conn:  # one question's codes lost, as a hand edit might leave it
        conn.execute("UPDATE bank_matrix SET data = substr(data, 1, length(data) / 2) WHERE part = 'codes'")
    with pytest.raises(IndexError_, match="question bank.*glossary-bot build"):
        GlossaryIndex(db_path)
    build_index(db_path, small, fake_embedder, bank_files=(bank,), force=True)
    assert len(GlossaryIndex(db_path).bank_questions) == 2


def test_bank_words_point_at_the_loaded_bank_rows_of_the_questions_that_use_them(tmp_path, small, fake_embedder):
    from bot.glossary.terms import content_words

    bank = _bank_file(tmp_path / "bank.jsonl", [
        {"id": "q1", "query": "what does enforce_eager do to my finetune run?",
         "expected": ["LoRA (Low-Rank Adaptation)"]},
        {"id": "q2", "query": "does enforce_eager mix tokens?", "expected": ["Attention", "softmax"]},
        {"id": "q3", "query": "enforce_eager in a glossary that lacks the entry", "expected": ["Nowhere"]},
    ])
    db_path = tmp_path / "index.db"
    build_index(db_path, small, fake_embedder, bank_files=(bank,))
    index = GlossaryIndex(db_path)
    flag, tokens = content_words("enforce_eager")[0], content_words("tokens")[0]
    found = index.bank_postings([flag, tokens, "nosuchword"])
    assert set(found) == {flag, tokens}
    rows, weights = found[flag]
    assert sorted(index.bank_questions[r] for r in rows) == ["q1", "q2", "q2"]  # q2 answers two entries
    assert (weights > 0).all()
    rows, _ = found[tokens]
    assert sorted(index.entries[int(index.entry_ids[index.bank_positions[r]])].term for r in rows) \
        == ["Attention", "softmax"]


def test_a_changed_bank_rebuilds_and_embeds_only_its_new_questions(tmp_path, small):
    bank = _bank_file(tmp_path / "bank.jsonl", [{"id": "q1", "query": "what mixes tokens?", "expected": ["Attention"]}])
    db_path = tmp_path / "index.db"
    build_index(db_path, small, FakeEmbedder(), bank_files=(bank,))
    _bank_file(bank, [{"id": "q1", "query": "what mixes tokens?", "expected": ["Attention"]},
                      {"id": "q2", "query": "what turns scores into probabilities?", "expected": ["softmax"]}])
    again = FakeEmbedder()
    report = build_index(db_path, small, again, bank_files=(bank,))
    assert not report.up_to_date and again.embedded == ["what turns scores into probabilities?"]
    assert sorted(GlossaryIndex(db_path).bank_questions) == ["q1", "q2"]


def test_a_deployments_own_questions_join_the_bank_at_the_next_build(tmp_path):
    from pathlib import Path

    from bot.config import Settings
    from bot.glossary.service import Glossary

    (tmp_path / "glossary.txt").write_text(SMALL, encoding="utf-8")
    settings = Settings.load(environ={"GLOSSARY_DATA_DIR": str(tmp_path), "GLOSSARY_CACHE_DIR": str(tmp_path / "c")},
                             dotenv=Path("/nonexistent"))
    Glossary(settings, embedder=FakeEmbedder()).build()
    assert "ours-1" not in GlossaryIndex(settings.index_path).bank_questions

    # what `glossary-bot feedback export --out <data dir>/bank/feedback.jsonl` writes
    (tmp_path / "bank").mkdir()
    _bank_file(tmp_path / "bank" / "feedback.jsonl",
               [{"id": "ours-1", "kind": "feedback-confirmed", "query": "how do scores become odds?",
                 "expected": ["softmax"]}])
    embedder = FakeEmbedder()
    glossary = Glossary(settings, embedder=embedder)
    assert glossary.needs_build()
    glossary.build()
    assert "ours-1" in GlossaryIndex(settings.index_path).bank_questions
    assert embedder.embedded == ["how do scores become odds?"]  # everything else came from the cache
    assert not glossary.needs_build()


def test_a_term_written_twice_is_the_first_by_name_as_define_answers_it(tmp_path, fake_embedder):
    # check calls it an error, but a build goes on; a review card or quiz option named "Epoch"
    # once showed the second definition while /define showed the first.
    path = tmp_path / "glossary.txt"
    path.write_text("Epoch\nOne full pass over the data.\nLoss\nA number.\nEpoch\nA point in time.\n",
                    encoding="utf-8")
    build_index(tmp_path / "index.db", path, fake_embedder)
    assert GlossaryIndex(tmp_path / "index.db").entry_named("Epoch").definition == "One full pass over the data."


def test_a_build_report_says_its_warnings_do_not_stop_the_bot():
    # A newcomer's first run reports the bundled glossary's own warnings; they need do nothing.
    summary = BuildReport(entries=690, multiline=9, warnings=["w"] * 12).summary()
    assert "12 warnings" in summary and "none stopping the bot" in summary and "glossary-bot check" in summary
    assert "no warnings" in BuildReport(entries=3).summary()


class _StoppedAfter(FakeEmbedder):
    """Ctrl-C while the model embeds its second chunk."""

    def __init__(self, calls: int):
        super().__init__()
        self.calls = calls

    def embed_documents(self, texts, progress=None):
        self.calls -= 1
        if self.calls < 0:
            raise KeyboardInterrupt
        return super().embed_documents(texts, progress)


def test_an_interrupted_first_build_resumes_from_what_it_embedded(tmp_path, small, monkeypatch):
    monkeypatch.setattr("bot.glossary.index.EMBED_CHUNK", 2)
    db_path = tmp_path / "index.db"
    stopped = _StoppedAfter(calls=1)
    with pytest.raises(KeyboardInterrupt):
        build_index(db_path, small, stopped)
    assert len(stopped.embedded) == 2
    resumed = FakeEmbedder()
    report = build_index(db_path, small, resumed)
    assert report.reused == 2 and report.embedded == len(resumed.embedded) > 0
    assert not set(resumed.embedded) & set(stopped.embedded)
    whole = build_index(tmp_path / "whole.db", small, FakeEmbedder())
    assert report.entries == whole.entries and report.embedded + report.reused == whole.embedded
    index = GlossaryIndex(db_path)
    assert len(index.entries) == whole.entries and "Attention" in {e.term for e in index.entries.values()}


def test_an_interrupted_rebuild_leaves_the_old_index_serving(tmp_path, small, monkeypatch):
    monkeypatch.setattr("bot.glossary.index.EMBED_CHUNK", 1)
    db_path = tmp_path / "index.db"
    build_index(db_path, small, FakeEmbedder())
    small.write_text(SMALL.replace("Turns scores into probabilities.", "Turns scores into a distribution.")
                     + "\nDropout\nZeroes random activations while training.\nWarmup\nA slow start.", encoding="utf-8")
    with pytest.raises(KeyboardInterrupt):
        build_index(db_path, small, _StoppedAfter(calls=1))
    index = GlossaryIndex(db_path)
    assert "Dropout" not in {e.term for e in index.entries.values()}
    assert "Turns scores into probabilities." in {e.definition for e in index.entries.values()}


def test_an_index_rebuilt_under_an_open_one_is_not_read_with_the_old_numbering(small, fake_embedder):
    # The bot keeps its entries in memory and reads keyword postings lazily: after another process's
    # build (an entry inserted before the others) those came numbered for the new entries, and scored
    # a neighbour, or an id past the end failed (QA65).
    db_path = small.parent / "index.db"
    build_index(db_path, small, fake_embedder, bank_files=())
    index = GlossaryIndex(db_path)
    assert set(index.postings([stem("softmax")])) == {stem("softmax")}  # read before the rebuild: kept
    small.write_text(SMALL.replace("Attention\n", "Adapter\nA small trainable module of low-rank weights.\nAttention\n"),
                     encoding="utf-8")
    build_index(db_path, small, fake_embedder, bank_files=())

    assert index.postings([stem("cheap"), stem("module")]) == {}  # not read from the new numbering
    assert index.stale
    softmax = index.postings([stem("softmax")])[stem("softmax")][0]
    assert [index.entries[int(index.entry_ids[p])].term for p in softmax] == ["Attention", "softmax"]
    assert not GlossaryIndex(db_path).stale  # opened again: the new numbering, read whole
    assert "Adapter" in GlossaryIndex(db_path).by_term
