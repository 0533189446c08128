"""Short names beside the glossary (bot/glossary/short_names.py): looked up like its own aliases,
never taking a name from another entry, and a bad line is a warning, not a failed build."""

import pytest

from bot.cli import main
from bot.glossary.index import build_index
from bot.glossary.lint import check_file, check_text
from bot.glossary.search import Searcher
from bot.glossary.short_names import SUFFIX, parse_short_names, short_names_path
from bot.glossary.store import GlossaryIndex
from tests.conftest import GLOSSARY as BUNDLED_GLOSSARY
from tests.conftest import FakeEmbedder

GLOSSARY = "\n".join([
    "Glossary",
    "Terms from a test.",
    "Multi-head attention",
    "Several attention heads side by side, each with its own projections.",
    "Reciprocal rank fusion",
    "Merges ranked lists: each item scores the sum of 1 / (rank + constant).",
    "RRT",
    "Rapidly-exploring random tree, a motion planner.",
    "",
])


@pytest.fixture
def glossary(tmp_path):
    path = tmp_path / "glossary.txt"
    path.write_text(GLOSSARY, encoding="utf-8")
    return path


def write_short_names(glossary, text):
    short_names_path(glossary).write_text(text, encoding="utf-8")


def test_the_file_sits_beside_the_glossary_under_its_name(tmp_path):
    assert short_names_path(tmp_path / "glossary.txt") == tmp_path / f"glossary{SUFFIX}"


def test_comments_blank_lines_and_spaces_around_names_are_ignored():
    rows, problems = parse_short_names("# term<TAB>names\n\nReciprocal rank fusion\t RRF , R.R.F.\n")
    assert rows == [(3, "Reciprocal rank fusion", ["RRF", "R.R.F."])] and problems == []
    assert parse_short_names("Reciprocal rank fusion RRF\n")[1] == [
        (1, "expected a term, a tab and its short names, got 'Reciprocal rank fusion RRF'")]


def test_a_short_name_is_looked_up_like_the_glossarys_own_names(tmp_path, glossary):
    write_short_names(glossary, "reciprocal rank fusion\tRRF\nMulti-head attention\tMHA\n")
    build_index(tmp_path / "index.db", glossary, FakeEmbedder())
    searcher = Searcher(GlossaryIndex(tmp_path / "index.db"), FakeEmbedder())
    for text, term in (("RRF", "Reciprocal rank fusion"), ("what is mha?", "Multi-head attention")):
        result = searcher.search(text)
        assert [h.entry.term for h in result.hits][:1] == [term] and result.band == "answer", text


def test_a_name_another_entry_owns_or_an_unknown_term_is_skipped_with_a_warning(tmp_path, glossary):
    write_short_names(glossary, "Reciprocal rank fusion\tRRF, rrt\nMasked attention\tMA\nno tab here\n")
    report = build_index(tmp_path / "index.db", glossary, FakeEmbedder())
    index = GlossaryIndex(tmp_path / "index.db")
    assert [index.entries[e].term for e in index.by_key["rrt"]] == ["RRT"]
    assert [index.entries[e].term for e in index.by_key["rrf"]] == ["Reciprocal rank fusion"]
    assert report.warnings == [
        "glossary.short-names.tsv line 1: 'rrt' already names 'RRT'",
        "glossary.short-names.tsv line 2: 'Masked attention' is not a term of the glossary",
        "glossary.short-names.tsv line 3: expected a term, a tab and its short names, got 'no tab here'",
    ]
    _entries, findings = check_text(GLOSSARY, short_names_path(glossary).read_text(), "glossary.short-names.tsv")
    expected = [("glossary.short-names.tsv", line, "short-name") for line in (1, 2, 3)]
    assert [(f.file, f.line, f.code) for f in findings] == expected


def test_a_name_that_runs_together_into_another_entrys_name_is_skipped(tmp_path, glossary):
    write_short_names(glossary, "Reciprocal rank fusion\tR R T, RRF\n")  # "R R T" run together is RRT
    report = build_index(tmp_path / "index.db", glossary, FakeEmbedder())
    assert report.warnings == ["glossary.short-names.tsv line 1: 'R R T' already names 'RRT'"]
    index = GlossaryIndex(tmp_path / "index.db")
    assert [index.entries[e].term for e in index.by_compact["rrt"]] == ["RRT"]


def test_a_file_saved_with_a_bom_reads_and_one_not_in_utf8_is_a_warning_not_a_failure(tmp_path, glossary):
    short_names_path(glossary).write_bytes("\ufeff# names\nReciprocal rank fusion\tRRF\n".encode())
    assert build_index(tmp_path / "index.db", glossary, FakeEmbedder()).warnings == []
    short_names_path(glossary).write_bytes("Reciprocal rank fusion\tRRF, caf\xe9\n".encode("latin-1"))
    report = build_index(tmp_path / "index.db", glossary, FakeEmbedder())
    assert len(report.warnings) == 1 and "not UTF-8 text" in report.warnings[0]
    assert "rrf" not in GlossaryIndex(tmp_path / "index.db").by_key  # the glossary works without them
    findings = check_file(glossary)["findings"]
    assert [(f["code"], f["line"]) for f in findings] == [("short-name", 1)]
    assert "save it as UTF-8" in findings[0]["message"]


def test_check_points_at_the_short_names_file_and_its_line(glossary, capsys):
    write_short_names(glossary, "# names\nReciprocal rank fusion\tRRT\n")
    assert main(["check", str(glossary)]) == 0  # a warning, not an error
    out = capsys.readouterr().out
    assert f"{short_names_path(glossary)}:2: warning: 'RRT' already names 'RRT'" in out


def test_changing_the_short_names_rebuilds_the_index_without_embedding_again(tmp_path, glossary):
    build_index(tmp_path / "index.db", glossary, FakeEmbedder())
    write_short_names(glossary, "Reciprocal rank fusion\tRRF\n")
    again = FakeEmbedder()
    report = build_index(tmp_path / "index.db", glossary, again)
    assert not report.up_to_date and again.embedded == []
    assert "rrf" in GlossaryIndex(tmp_path / "index.db").by_key


def test_the_bundled_glossarys_short_names_all_apply():
    codes = [f["code"] for f in check_file(BUNDLED_GLOSSARY)["findings"]]
    assert short_names_path(BUNDLED_GLOSSARY).is_file() and "short-name" not in codes


def test_the_bundled_short_names_answer_with_their_entry(searcher):
    for text, term in (("RRF", "Reciprocal rank fusion"), ("what's MHA?", "Multi-head attention"),
                       ("**STE**", "Straight-through estimator")):
        result = searcher.search(text)
        assert (result.band, result.hits[0].entry.term, result.hits[0].match) == ("answer", term, "alias"), text
