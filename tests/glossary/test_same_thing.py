"""Entries for the same thing, a kind of another or too close to it (bot/glossary/same_thing.py):
read from the glossary's text and from the list beside it, which may be missing or wrong."""

from __future__ import annotations

import logging

import pytest

from bot.glossary.lint import check_file
from bot.glossary.same_thing import parse_same_things, read_same_things, same_thing_path
from bot.glossary.store import GlossaryIndex
from tests.conftest import GLOSSARY


@pytest.fixture(scope="module")
def index(real_index_path) -> GlossaryIndex:
    return GlossaryIndex(real_index_path)


def _close(same_things, index, a: str, b: str) -> bool:
    return index.entry_named(b).id in same_things.too_close(index.entry_named(a).id)


def test_the_bundled_list_names_only_terms_of_the_glossary_once(index):
    pairs, problems = parse_same_things(same_thing_path(GLOSSARY).read_text(encoding="utf-8"), index)
    assert problems == [] and pairs


@pytest.mark.parametrize("a, b", [
    ("Swish", "SiLU"),                          # "also called SiLU": a name of both
    ("Activation checkpointing", "Gradient checkpointing"),
    ("Embedding", "Sentence embedding"),        # a name that is another's with words before it
    ("Embedding", "Image embedding"),
    ("Reward model", "Outcome reward model"),
    ("Normalization", "L2 normalization"),
    ("LoRA", "QLoRA"),                          # "LoRA with the frozen base model…"
    ("Adam", "AdamW"),                          # "Adam optimizer with decoupled weight decay"
])
def test_pairs_the_glossary_text_shows_are_found_without_the_list(index, a, b, tmp_path):
    same_things = read_same_things(tmp_path / "glossary.txt", index)  # no list beside it
    assert same_things.listed == ()
    assert _close(same_things, index, a, b) and _close(same_things, index, b, a)


@pytest.mark.parametrize("a, b", [
    ("vLLM", "TGI"),                   # TGI is "similar in role to vLLM": a sibling, a fair lure
    ("Adam", "Bias correction"),       # used "in the Adam family", no kind of Adam
    ("ZeRO", "AdaLN-Zero"),            # a coined name counts only as written: "Zero" is no ZeRO
    ("Process reward model", "Outcome reward model"),  # two kinds of one thing
])
def test_an_entry_merely_mentioning_another_is_not_too_close_to_it(index, a, b):
    assert not _close(read_same_things(GLOSSARY, index), index, a, b)


def test_listed_pairs_lead_the_related_terms_with_what_they_are(index):
    same_things = read_same_things(GLOSSARY, index)
    named = index.entry_named
    assert same_things.leading(named("matmul").id)[named("GEMM").id] == "same thing"
    assert same_things.leading(named("Diffusion model").id)[named("DDPM").id] == "a kind of this term"
    assert same_things.leading(named("DDPM").id)[named("Diffusion model").id] == "a broader term"
    # a kind read from a name is kept out of a quiz, but is no reason to lead: "Constitutional AI"
    # ends in the name of the glossary's AI, arithmetic intensity
    assert named("Sentence embedding").id not in same_things.leading(named("Embedding").id)


def test_a_missing_unreadable_or_malformed_list_gives_warnings_not_a_crash(tmp_path, index, caplog):
    glossary = tmp_path / "glossary.txt"
    assert read_same_things(glossary, index).listed == ()
    same_thing_path(glossary).write_bytes(b"GEMM\tsame as\tmat\xffmul\n")
    with caplog.at_level(logging.WARNING):
        assert read_same_things(glossary, index).listed == ()
    assert "not UTF-8 text" in caplog.text
    caplog.clear()
    same_thing_path(glossary).write_text(
        "\ufeff# a comment\n"                    # (a BOM, as Notepad saves, is no part of the file)
        "GEMM\tsame as\tmatmul\twhy\n"         # line 2: good
        "GEMM\tsame as\n"                      # 3: too few columns
        "Tool call\tthe same as\tFunction calling\n"  # 4: no such relation
        "Nothing\tclose to\tGated\n"           # 5: no such term
        "matmul\tclose to\tGEMM\n"             # 6: the pair again
        "Gated\tclose to\tGated\n"             # 7: itself
        "a\tb\tc\td\te\n"                      # 8: too many columns
        "Soft gate\tclose to\tGated\n",        # 9: good
        encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        same_things = read_same_things(glossary, index)
    assert len(same_things.listed) == 2
    assert _close(same_things, index, "Gated", "Soft gate") and _close(same_things, index, "matmul", "GEMM")
    for line in (3, 4, 5, 6, 7, 8):
        assert f"glossary.same-thing.tsv line {line}: " in caplog.text
    assert "line 5: 'Nothing' is not a term of the glossary; that line is skipped" in caplog.text


def test_glossary_bot_check_lists_the_lines_it_cannot_use(tmp_path):
    glossary = tmp_path / "glossary.txt"
    glossary.write_text("GEMM\nGeneral matrix multiply.\n\nmatmul\nMatrix multiplication.\n", encoding="utf-8")
    same_thing_path(glossary).write_text("GEMM\tsame as\tmatmul\nGEMM\tsame\tmatmul\n", encoding="utf-8")
    findings = [f for f in check_file(glossary)["findings"] if f["code"] == "same-thing"]
    assert [(f["file"], f["line"]) for f in findings] == [(str(same_thing_path(glossary)), 2)]
    assert "'same' is no relation" in findings[0]["message"]
