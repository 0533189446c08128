"""Names the glossary uses in another sense than the usual one (bot/glossary/senses.py): a lookup
by such a name still answers with the glossary's entry, and says which sense it is; a bad line
in the file is skipped with a warning, never a failed start."""

import logging

import pytest

from bot.console import handle_line
from bot.glossary.index import build_index
from bot.glossary.lint import check_file
from bot.glossary.search import ANSWER, Searcher
from bot.glossary.senses import SUFFIX, parse_senses, read_senses, senses_path
from bot.glossary.store import GlossaryIndex
from bot.present import result_json
from tests.conftest import GLOSSARY as BUNDLED_GLOSSARY
from tests.conftest import FakeEmbedder

GLOSSARY = "\n".join([
    "Glossary",
    "Terms from a test.",
    "AI (arithmetic intensity)",
    "FLOPs per byte of memory accessed; determines roofline position.",
    "InfiniBand",
    "High-speed network with RDMA; standard for AI clusters.",
    "Roofline",
    "A plot of attainable FLOPs against AI (arithmetic intensity): memory-bound below the ridge.",
    "SiLU",
    "x times sigmoid(x).",
    "Swish",
    "x · σ(x), also called SiLU.",
    "Token (visual/audio)",
    "A discrete code for a small piece of an image or sound.",
    "Tokenizer",
    "Splits text into tokens, the word-pieces a language model reads.",
    "",
])


@pytest.fixture
def index(tmp_path):
    path = tmp_path / "glossary.txt"
    path.write_text(GLOSSARY, encoding="utf-8")
    build_index(tmp_path / "index.db", path, FakeEmbedder())
    return GlossaryIndex(tmp_path / "index.db")


def test_the_file_sits_beside_the_glossary_under_its_name(tmp_path):
    assert senses_path(tmp_path / "glossary.txt") == tmp_path / f"glossary{SUFFIX}"


def test_a_line_names_the_entry_the_name_and_the_other_sense(index):
    senses, problems = parse_senses("# comment\n\nAI (arithmetic intensity)\tAI\tartificial intelligence\t\n"
                                    "Token (visual/audio)\ttoken\ta piece of text\tTokenizer\n", index)
    assert problems == []
    ai, token = index.by_term["AI (arithmetic intensity)"], index.by_term["Token (visual/audio)"]
    assert senses[(ai.id, "ai")].meaning == "artificial intelligence" and senses[(ai.id, "ai")].entry_id is None
    assert senses[(token.id, "token")].entry_id == index.by_term["Tokenizer"].id


def test_a_line_the_glossary_cannot_honour_is_skipped_with_its_reason(index):
    senses, problems = parse_senses("Attention\tattn\tsomething\n"
                                    "Roofline\tAI\tartificial intelligence\n"
                                    "Token (visual/audio)\ttoken\ta piece of text\tWordPiece\n"
                                    "Tokenizer\ttokenizer\n", index)
    assert senses == {}
    assert problems == ["line 1: 'Attention' is not a term of the glossary",
                        "line 2: the glossary does not answer 'AI' with 'Roofline'",
                        "line 3: 'WordPiece' is not a term of the glossary",
                        "line 4: expected a term, a name, its other sense and maybe the term of the entry for "
                        "it, tab-separated"]


def test_a_line_that_would_show_a_wrong_or_no_note_is_skipped_with_its_reason(index):
    senses, problems = parse_senses("SiLU\tSiLU\tsomething\n"
                                    "Tokenizer\ttokenizer\ta tool\tTokenizer\n"
                                    "AI (arithmetic intensity)\tAI\tartificial intelligence\n"
                                    "AI (arithmetic intensity)\tai\tsomething else entirely\n"
                                    "Roofline\troofline\ta line on a roof\t\tmore\n", index)
    assert list(senses.values())[0].meaning == "artificial intelligence" and len(senses) == 1
    assert problems == ["line 1: 'SiLU' names 2 entries, and a note shows only under an answer of one",
                        "line 2: the other sense's entry is 'Tokenizer' itself",
                        "line 4: 'ai' for 'AI (arithmetic intensity)' is already on line 3",
                        "line 5: expected a term, a name, its other sense and maybe the term of the entry for "
                        "it, tab-separated"]


def test_lines_are_numbered_as_an_editor_numbers_them(index):
    """str.splitlines would also end a line at U+0085 or U+2028 inside a field."""
    senses, problems = parse_senses("# one\r\nAI (arithmetic intensity)\tAI\tartificial\u0085intelligence\r\n"
                                    "Nothing\tnone\tnothing\n", index)
    assert len(senses) == 1 and problems == ["line 3: 'Nothing' is not a term of the glossary"]


def test_a_missing_or_unreadable_file_means_no_senses_and_a_warning(tmp_path, index, caplog):
    glossary = tmp_path / "glossary.txt"
    assert read_senses(glossary, index) == {}
    senses_path(glossary).write_bytes(b"AI (arithmetic intensity)\tAI\tartificial \xff\n")
    with caplog.at_level(logging.WARNING):
        assert read_senses(glossary, index) == {}
    assert "not UTF-8 text" in caplog.text and "used without notes on other senses" in caplog.text
    senses_path(glossary).write_text("\ufeffAI (arithmetic intensity)\tAI\tartificial intelligence\n"
                                     "Nothing\tnone\tnothing\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        assert len(read_senses(glossary, index)) == 1  # a BOM, as Notepad saves, is no part of the term
    assert "line 2: 'Nothing' is not a term of the glossary; that line is skipped" in caplog.text


def test_a_lookup_by_the_name_says_which_sense_and_offers_the_other_entry(index):
    senses, _ = parse_senses("AI (arithmetic intensity)\tAI\tartificial intelligence\n"
                             "Token (visual/audio)\ttoken\ta piece of text\tTokenizer\n", index)
    searcher = Searcher(index, FakeEmbedder(), senses=senses)
    for typed in ("what is AI?", "ai", "**AI**", "hey, what's AI"):
        result = searcher.search(typed)
        assert result.band == ANSWER and result.best.entry.term == "AI (arithmetic intensity)", typed
        assert result.note == ("In this glossary, “AI” is AI (arithmetic intensity), not artificial "
                               "intelligence, which it has no entry for."), typed
        assert result.others == []
    token = searcher.search("what is a token")
    assert token.best.entry.term == "Token (visual/audio)" and [h.entry.term for h in token.others] == ["Tokenizer"]
    assert token.note.endswith("not a piece of text; for that, see Tokenizer.")
    # The entry's full name leaves no doubt which sense is meant.
    assert searcher.search("AI (arithmetic intensity)").note == ""
    assert searcher.search("arithmetic intensity").note == ""
    assert Searcher(index, FakeEmbedder()).search("what is AI").note == ""


def test_glossary_bot_check_lists_the_lines_it_cannot_use(tmp_path):
    glossary = tmp_path / "glossary.txt"
    glossary.write_text(GLOSSARY, encoding="utf-8")
    senses_path(glossary).write_text("AI (arithmetic intensity)\tAI\tartificial intelligence\n"
                                     "Roofline\tAI\tartificial intelligence\n", encoding="utf-8")
    report = check_file(glossary)
    assert [(f["file"], f["line"], f["code"], f["message"]) for f in report["findings"] if f["code"] == "other-sense"] \
        == [(str(senses_path(glossary)), 2, "other-sense", "the glossary does not answer 'AI' with 'Roofline'")]


@pytest.mark.parametrize("typed", ["tokne", "what is a toekn"])
def test_a_misspelt_name_gets_the_note_and_the_other_entry_too(searcher, typed):
    result = searcher.search(typed)
    assert result.band == ANSWER and result.best.entry.term == "Token (visual/audio)"
    assert "“token”" in result.note and [h.entry.term for h in result.others] == ["Tokenizer"]


def test_a_question_placed_in_the_other_sense_is_answered_by_its_entry(searcher):
    # "in a CNN" reads as a convolution's filter, which Convolution Layers covers, not a GPU kernel.
    result = searcher.search("what's a kernel in a CNN")
    assert result.best.entry.term == "Convolution Layers" and "“kernel” read here as" in result.note
    assert [h.entry.term for h in result.others] == ["Kernel", "CNN"]


def test_a_stride_in_a_conv_layer_is_the_filters_step_not_a_tensors_memory_layout(searcher):
    result = searcher.search("what does stride mean in a conv layer")
    assert result.best.entry.term == "Convolution Layers" and "“stride” read here as" in result.note
    assert "Stride" in [h.entry.term for h in result.others]


@pytest.mark.parametrize("question, term, beside", [("what is a kernel in CUDA", "Kernel", ["CUDA"]),
                                                    ("what is a token in a ViT?", "Token (visual/audio)", ["ViT"]),
                                                    ("what is stride in pytorch tensors", "Stride", ["Tensor"])])
def test_a_name_asked_about_in_the_glossarys_own_sense_gets_no_note(searcher, question, term, beside):
    result = searcher.search(question)
    assert result.band == ANSWER and result.best.entry.term == term
    assert result.note == "" and [h.entry.term for h in result.others] == beside


def test_a_name_asked_about_in_its_other_sense_keeps_the_note(searcher):
    result = searcher.search("what is a token in gpt-2")
    assert "“token”" in result.note and "Tokenizer" in [h.entry.term for h in result.others]


def test_every_line_of_the_bundled_file_is_honoured_and_shown(searcher):
    text = senses_path(BUNDLED_GLOSSARY).read_text(encoding="utf-8")
    senses, problems = parse_senses(text, searcher.index)
    assert problems == [] and len(senses) >= 5
    for (entry_id, _key), sense in senses.items():
        entry = searcher.index.entries[entry_id]
        result = searcher.search(f"what is {sense.name}?")
        assert result.band == ANSWER and result.best.entry == entry, sense.name
        assert sense.meaning in result.note, sense.name
        if sense.entry_id is not None:
            assert sense.entry_id in [h.entry.id for h in result.others], sense.name
        reply = handle_line(searcher, sense.name)
        assert reply.startswith(entry.term), sense.name
        assert f"not {sense.meaning}" in " ".join(reply.split()), sense.name  # the console wraps lines
        assert result_json(result, searcher)["note"] == result.note
