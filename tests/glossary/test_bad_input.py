"""Bad input (issue 4): whatever a user types reaches search, autocomplete, the console and the
CLI without an exception escaping, the output stays well-formed, and neither the index nor the
state database changes by a single byte.

Runs on the session's real index and model (`searcher` from conftest). Hypothesis is
derandomized so CI sees the same examples every run; the model-backed properties use
fewer examples than the pure ones.
"""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import cli
from bot.console import handle_line
from bot.glossary import service
from bot.glossary.same_thing import REASONS as SAME_THING_REASONS
from bot.glossary.search import (
    ANSWER,
    MAX_QUERY_CHARS,
    NOT_FOUND,
    SUGGEST,
    SearchResult,
)
from bot.state import StateStore
from tests.conftest import OpenedGlossary, sha256_of

PURE = settings(max_examples=200, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
WITH_MODEL = settings(max_examples=80, deadline=None, derandomize=True,
                      suppress_health_check=[HealthCheck.function_scoped_fixture])
WITH_MODEL_FEW = settings(max_examples=40, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.function_scoped_fixture])

ANY_CHAR = st.characters(exclude_categories=())  # lone surrogates included
NASTY = {
    "empty": "",
    "whitespace": " \t\n\r\x0b\x0c\u00a0\u2003\u2028\u3000 ",
    "10k chars": "attention " * 1000,
    "10k one word": "a" * 10_000,
    "10k emoji": "🤖" * 10_000,
    "every plane": "A\u00e9\u4e2d\U00010348\U0001f600\U00020000\U00030000\U000e0041\U000f0000\U0010fffd",
    "combining marks": "a\u0301\u0302\u0303\u0304" * 50 + " attention\u0301",
    "zalgo": "l\u0334\u0335o\u0336\u0337r\u0338a\u0321",
    "rtl": "ما هو الانتباه \u202eattention\u202c \u200f",
    "markdown": "**attention** _lora_ [link](http://x) # heading > quote ||spoiler||",
    "code fence": "```python\nimport torch\n```\n`attention`",
    "everyone": "@everyone what is attention",
    "here": "@here lora",
    "role mention": "<@&123456789012345678> attention",
    "user mention": "<@123456789012345678> <@!987654321> <#1234> lora",
    "fts and": "attention AND lora",
    "fts or": "OR OR OR",
    "fts near": "NEAR(attention lora, 3)",
    "fts open near": "NEAR(",
    "unbalanced quote": '"attention',
    "lone quote": '"',
    "single quote": "'",
    "star": "*",
    "prefix star": "atten*",
    "caret": "^attention",
    "minus": "-attention",
    "column filter": "term:attention definition:memory",
    "column set": "{term aliases_text}: lora",
    "parens": "(((",
    "sql": "'; DROP TABLE entries; --",
    "sql union": "x' UNION SELECT * FROM meta --",
    "nul": "\x00",
    "nul inside": "atten\x00tion",
    "nuls": "\x00" * 100,
    "lone high surrogate": "\ud800",
    "lone low surrogate": "\udfff attention",
    "half emoji": "lora \ud83d",
    "escapes": "\x1b[31mred\x1b[0m \x07 \x08",
    "bom": "\ufeffattention",
    "noncharacters": "\ufffe\uffff\U0001fffe",
    "slash": "/",
    "slash slash": "//define attention",
    "tab command": "/define\tattention",
    "uppercase command": "/DEFINE ATTENTION",
}
PIECES = list(NASTY.values()) + ["attention", "lora", "what is", "?", "/define", "/related", "/ask", "memory"]
QUERIES = st.one_of(
    st.text(ANY_CHAR, max_size=60),
    st.lists(st.one_of(st.sampled_from(PIECES), st.text(ANY_CHAR, max_size=12)), max_size=6).map(" ".join),
    st.builds(lambda piece, n: piece * n, st.sampled_from(["x", "é ", "a\u0301", "🤖", "\x00", "AND "]),
              st.integers(1000, 10_000)),
)
REASONS = {"see also", "mentioned in its definition", "mentions this term", "similar meaning",
           *(reason for pair in SAME_THING_REASONS.values() for reason in pair)}
_CONTROL = set(map(chr, [*range(9), *range(11, 32), 127]))


@pytest.fixture
def unchanged_index(real_index_path):
    """The index is read-only at run time: no input may change a byte of it."""
    before = sha256_of(real_index_path)
    yield
    assert sha256_of(real_index_path) == before


def check_result(searcher, result: SearchResult) -> None:
    assert isinstance(result, SearchResult)
    assert result.band in (ANSWER, SUGGEST, NOT_FOUND)
    assert len(result.query) <= MAX_QUERY_CHARS and not (_CONTROL & set(result.query))
    assert result.query == result.query.lstrip()
    if result.band in (ANSWER, SUGGEST):
        assert result.hits
    if not result.query:
        assert result.band == NOT_FOUND and not result.hits
    ids = [hit.entry.id for hit in result.hits]
    assert len(ids) == len(set(ids)) <= 5
    for hit in result.hits:
        assert searcher.index.entries[hit.entry.id] == hit.entry
        assert math.isfinite(hit.score) and 0.0 <= hit.score <= 1.0
        assert hit.match in ("exact", "alias", "fuzzy", "mention", "keyword", "semantic")
    if result.best is not None:
        check_related(searcher, result.best.entry.id)


def check_related(searcher, entry_id: int) -> None:
    related = searcher.related(entry_id)
    ids = [r.entry.id for r in related]
    assert len(ids) == len(set(ids)) <= 5 and entry_id not in ids
    assert all(r.reason in REASONS for r in related)


def check_console_output(out: str) -> None:
    assert isinstance(out, str)
    # Nothing from the input comes back as a control character (they could restyle a terminal).
    assert not (_CONTROL - {"\n"}) & set(out)
    out.encode("utf-8")  # printable: no lone surrogates


# -- Searcher ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NASTY)
def test_search_and_complete_on_each_kind_of_bad_input(searcher, unchanged_index, name):
    text = NASTY[name]
    check_result(searcher, searcher.search(text))
    completions = searcher.complete(text)
    assert len(completions) <= 25 and len({e.id for e in completions}) == len(completions)


@WITH_MODEL
@given(text=QUERIES)
def test_search_never_raises_and_is_well_formed(searcher, unchanged_index, text):
    check_result(searcher, searcher.search(text))


@PURE
@given(prefix=QUERIES)
def test_complete_never_raises(searcher, unchanged_index, prefix):
    completions = searcher.complete(prefix)
    assert len(completions) <= 25
    assert all(searcher.index.entries[e.id] == e for e in completions)


def test_fts_and_sql_text_is_searched_as_words(searcher):
    # Operators are plain words to keyword search: these find the entries they name.
    for text in ("attention AND lora", "NEAR(attention lora, 3)", "term:attention", "'; DROP TABLE entries; --"):
        check_result(searcher, searcher.search(text))
    assert searcher.search('"attention').best.entry.term == "Attention"
    assert searcher.search("^attention").best.entry.term == "Attention"


# -- console -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NASTY)
def test_console_answers_each_kind_of_bad_input(searcher, unchanged_index, name):
    for line in (NASTY[name], f"/define {NASTY[name]}", f"/related {NASTY[name]}", f"/{NASTY[name]}"):
        check_console_output(handle_line(searcher, line))


@WITH_MODEL_FEW
@given(line=QUERIES, command=st.sampled_from(["", "/define ", "/ask ", "/related ", "/", "/random ", "/help "]))
def test_console_handle_line_never_raises(searcher, unchanged_index, line, command):
    check_console_output(handle_line(searcher, command + line))


def test_console_unknown_command_is_echoed_without_control_characters(searcher):
    out = handle_line(searcher, "/\x1b[2Jwipe")
    assert out == "Unknown command /?[2Jwipe. Type /help for the list of commands."
    assert handle_line(searcher, "/define\tattention").startswith("Attention\n")


# -- CLI (in-process, with the session searcher) ---------------------------------------------------


@pytest.fixture
def cli_env(searcher, monkeypatch, tmp_path):
    """main() with the session's searcher and a real state database that must stay untouched."""
    monkeypatch.setattr(service, "Glossary", OpenedGlossary(searcher))  # what cli.main opens
    monkeypatch.chdir(tmp_path)  # no .env from the developer's folder
    state = tmp_path / "state.db"
    StateStore(state).close()
    monkeypatch.setenv("GLOSSARY_STATE_DB", str(state))
    before = sha256_of(state)
    yield
    assert sha256_of(state) == before


@WITH_MODEL_FEW
@given(text=QUERIES, command=st.sampled_from(["define", "ask"]))
def test_cli_json_is_well_formed_for_any_text(capsys, cli_env, unchanged_index, text, command):
    code = cli.main([command, "--json", "--", text])
    out, err = capsys.readouterr()
    assert code in (0, 3), err
    data = json.loads(out)
    assert set(data) == {"query", "band", "confidence", "others", "note", "lacking", "far", "asked", "also_asked",
                         "results", "related"}
    assert data["band"] in (ANSWER, SUGGEST, NOT_FOUND) and len(data["results"]) <= 5
    assert "Traceback" not in err


@WITH_MODEL_FEW
@given(text=QUERIES)
def test_cli_text_never_raises(capsys, cli_env, unchanged_index, text):
    code = cli.main(["define", text])  # no "--": text starting with "-" is a usage error (2), not a crash
    out, err = capsys.readouterr()
    assert code in (0, 2, 3), err
    assert "Traceback" not in err
    out.encode("utf-8")


def test_cli_undecodable_argument_bytes(capsys, cli_env):
    # What Python makes of non-UTF-8 bytes in argv: lone surrogates (surrogateescape).
    raw = b"\xff\xfe attention".decode("utf-8", "surrogateescape")
    assert cli.main(["ask", "--json", raw]) in (0, 3)
    data = json.loads(capsys.readouterr().out)
    assert data["query"] == "\ufffd\ufffd attention"
