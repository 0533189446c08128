"""Practitioner vocabulary beside the glossary (bot/glossary/vocabulary.py): evidence the ranker
weighs for the entry it belongs to, never a name, and a bad line is a warning, not a failed build."""

import dataclasses

import pytest

from bot.glossary.features import FEATURES, FeatureMaker
from bot.glossary.index import build_index, stored_fingerprint
from bot.glossary.search import Searcher
from bot.glossary.store import GlossaryIndex
from bot.glossary.vocabulary import SUFFIX, entry_vocabulary, vocabulary_path
from tests.conftest import FakeEmbedder

GLOSSARY = "\n".join([
    "Glossary",
    "Terms from a test.",
    "CUDA Graphs",
    "Records a sequence of GPU kernel launches once and replays it, cutting launch overhead.",
    "GradScaler",
    "Multiplies the loss before the backward pass so small float16 gradients do not round to zero.",
    "Eager mode",
    "Runs each operation as Python reaches it, without compiling the model first.",
    "",
])


@pytest.fixture
def glossary(tmp_path):
    path = tmp_path / "glossary.txt"
    path.write_text(GLOSSARY, encoding="utf-8")
    return path


def _searcher(tmp_path, glossary, vocabulary_text=None):
    if vocabulary_text is not None:
        vocabulary_path(glossary).write_text(vocabulary_text, encoding="utf-8")
    report = build_index(tmp_path / "index.db", glossary, FakeEmbedder())
    index = GlossaryIndex(tmp_path / "index.db")
    # the features as a ranker trained with the vocabulary sees them, whatever ranker is shipped
    return Searcher(index, FakeEmbedder(), features=FeatureMaker(index)), report


def _feature(searcher, text, term, name):
    found = searcher.features.candidates(text, None)
    rows = {searcher.index.entries[int(searcher.index.entry_ids[p])].term: row
            for p, row in zip(found.positions, found.features)}
    return float(rows[term][FEATURES.index(name)]) if term in rows else None


def test_the_file_sits_beside_the_glossary_under_its_name(tmp_path):
    assert vocabulary_path(tmp_path / "glossary.txt") == tmp_path / f"glossary{SUFFIX}"


def test_lines_are_read_by_term_with_comments_blanks_and_spaces_ignored():
    from bot.glossary.parse import parse_text

    entries = parse_text(GLOSSARY).entries
    found, warnings = entry_vocabulary(entries, "# term<TAB>words\n\ncuda graphs\t enforce_eager ;cudagraph capture\n")
    assert found == {"CUDA Graphs": "enforce_eager ; cudagraph capture"} and warnings == []


def test_an_unknown_term_or_a_line_without_a_tab_is_a_warning(tmp_path, glossary):
    searcher, report = _searcher(tmp_path, glossary, "Tensor cores\tmma\nno tab here\nGradScaler\tloss_scale\n")
    assert any("line 1: 'Tensor cores' is not a term of the glossary" in w for w in report.warnings)
    assert any("line 2: expected a term, a tab" in w for w in report.warnings)
    assert _feature(searcher, "why is loss_scale 128?", "GradScaler", "vocabulary") == 1.0


def test_a_vocabulary_word_brings_its_entry_to_the_ranker_and_marks_only_it(tmp_path, glossary):
    searcher, _ = _searcher(tmp_path, glossary, "CUDA Graphs\tenforce_eager ; cudagraph capture\n")
    text = "what is enforce_eager and does it make inference slower?"
    assert _feature(searcher, text, "CUDA Graphs", "vocabulary") == 1.0
    assert _feature(searcher, text, "CUDA Graphs", "vocabulary_bm25") > 0
    assert not _feature(searcher, text, "Eager mode", "vocabulary")


def test_vocabulary_is_no_name_and_no_word_the_glossary_uses(tmp_path, glossary):
    searcher, _ = _searcher(tmp_path, glossary, "CUDA Graphs\tmempool\n")
    assert searcher.search("mempool").band != "answer"  # evidence, not a lookup key
    assert _feature(searcher, "mempool", "CUDA Graphs", "unknown_share") == 1.0
    assert _feature(searcher, "mempool", "CUDA Graphs", "bm25") == 0.0


def test_editing_the_vocabulary_rebuilds_the_index(tmp_path, glossary):
    _searcher(tmp_path, glossary, "CUDA Graphs\tenforce_eager\n")
    before = stored_fingerprint(tmp_path / "index.db")
    searcher, report = _searcher(tmp_path, glossary, "CUDA Graphs\tenforce_eager ; cudagraph\n")
    assert not report.up_to_date and stored_fingerprint(tmp_path / "index.db") != before
    assert _feature(searcher, "a cudagraph question", "CUDA Graphs", "vocabulary") == 1.0


def test_a_glossary_without_a_vocabulary_scores_none(tmp_path, glossary):
    searcher, report = _searcher(tmp_path, glossary)
    assert not [w for w in report.warnings if SUFFIX in w]
    assert _feature(searcher, "what is enforce_eager?", "CUDA Graphs", "vocabulary") in (None, 0.0)


def test_check_reports_a_vocabulary_line_it_cannot_use(glossary):
    from bot.glossary.lint import check_file

    vocabulary_path(glossary).write_text("GradScaler\tloss_scale\nTensor cores\tmma\n", encoding="utf-8")
    findings = check_file(glossary)["findings"]
    assert [(f["line"], f["code"], f["file"]) for f in findings if f["code"] == "vocabulary"] == [
        (2, "vocabulary", str(vocabulary_path(glossary)))]
    assert findings == sorted(findings, key=lambda f: (f["file"] or "", f["line"], f["code"]))


def test_check_of_a_glossary_that_does_not_parse_says_that_and_not_that_every_vocabulary_line_is_unknown(glossary):
    from bot.glossary.lint import check_file

    vocabulary_path(glossary).write_text("GradScaler\tloss_scale\nEager mode\ttorch.compile off\n", encoding="utf-8")
    glossary.write_text("", encoding="utf-8")
    assert [f["code"] for f in check_file(glossary)["findings"]] == ["empty"]


def test_a_ranker_trained_without_the_vocabulary_gets_the_candidates_it_was_trained_on(tmp_path, glossary):
    searcher, _ = _searcher(tmp_path, glossary, "CUDA Graphs\tenforce_eager\n")
    before = dataclasses.replace(searcher.ranker, trained_on=FEATURES[: FEATURES.index("vocabulary")])
    after = dataclasses.replace(searcher.ranker, trained_on=FEATURES)
    assert not before.reads_vocabulary and after.reads_vocabulary
    text = "what is enforce_eager?"
    assert _feature(Searcher(searcher.index, FakeEmbedder(), before), text, "CUDA Graphs", "vocabulary") in (None, 0.0)
    assert _feature(Searcher(searcher.index, FakeEmbedder(), after), text, "CUDA Graphs", "vocabulary") == 1.0


def test_an_item_naming_another_entry_is_left_to_that_entry(tmp_path, glossary):
    searcher, _ = _searcher(tmp_path, glossary, "CUDA Graphs\teager mode ; cudagraph capture\n")
    assert _feature(searcher, "is cudagraph capture slow?", "CUDA Graphs", "vocabulary") == 1.0
    assert not _feature(searcher, "is eager mode slow?", "CUDA Graphs", "vocabulary")


def test_the_service_sees_a_built_index_with_a_vocabulary_as_current_until_the_vocabulary_changes(tmp_path):
    """The bot checks, at every start, whether the index must be rebuilt: with a vocabulary
    beside the glossary, as the bundled one has, it must say no right after a build."""
    from pathlib import Path

    from bot.config import Settings
    from bot.glossary.service import Glossary

    (tmp_path / "glossary.txt").write_text(GLOSSARY, encoding="utf-8")
    vocabulary_path(tmp_path / "glossary.txt").write_text("CUDA Graphs\tenforce_eager\n", encoding="utf-8")
    settings = Settings.load(environ={"GLOSSARY_DATA_DIR": str(tmp_path), "GLOSSARY_CACHE_DIR": str(tmp_path / "c")},
                             dotenv=Path("/nonexistent"))
    glossary = Glossary(settings, embedder=FakeEmbedder())
    assert glossary.needs_build()
    glossary.build()
    assert not glossary.needs_build()
    vocabulary_path(tmp_path / "glossary.txt").write_text("CUDA Graphs\tenforce_eager ; cudagraph\n", encoding="utf-8")
    assert glossary.needs_build()
