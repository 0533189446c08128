from bot.glossary.parse import looks_like_term, parse_file, parse_text
from tests.conftest import GLOSSARY


def test_real_glossary_has_690_entries_header_and_footer():
    parsed = parse_file(GLOSSARY)
    assert len(parsed.entries) == 690
    assert parsed.header[0] == "Glossary"
    assert parsed.header[1].startswith("Terms from all guides")
    assert parsed.footer[0] == "License"
    assert all(e.term != "License" for e in parsed.entries)


def test_no_source_line_is_lost():
    lines = [ln.strip() for ln in GLOSSARY.read_text(encoding="utf-8").splitlines() if ln.strip()]
    parsed = parse_file(GLOSSARY)
    rebuilt = list(parsed.header)
    for entry in parsed.entries:
        rebuilt.append(entry.term)
        rebuilt.extend(entry.definition.split("\n"))
    rebuilt.extend(parsed.footer)
    assert rebuilt == lines


def test_gradients_keeps_its_worked_example():
    entries = {e.term: e for e in parse_file(GLOSSARY).entries}
    gradients = entries["Gradients"].definition
    for heading in ("A Concrete Example", "Calculating the Gradient", "Interpreting the Results"):
        assert heading in gradients
        assert heading not in entries
    assert gradients.rstrip().endswith("than the bias (b).")


def test_known_multiline_entries_are_whole():
    entries = {e.term: e for e in parse_file(GLOSSARY).entries}
    for term in (
        "Convolution Layers",
        "Cross product",
        "Dot product",
        "Reparameterization trick",
        "Residual connection",
    ):
        assert entries[term].is_multiline, term
    assert "copy" in entries  # the short term right after the long "Convolution Layers"


def test_short_entries_stay_separate():
    entries = {e.term: e for e in parse_file(GLOSSARY).entries}
    assert entries["SLAM"].definition == "Simultaneous Localization and Mapping"
    assert entries["Nav2"].definition == "ROS 2 navigation stack"
    assert "NCCL" in entries


def test_ambiguity_is_reported():
    parsed = parse_file(GLOSSARY)
    assert any("A Concrete Example" in w and "sub-heading" in w for w in parsed.warnings)


def test_other_glossaries_parse_with_subheadings_and_no_header():
    text = "\n".join(
        [
            "Apple",
            "A fruit.",
            "Banana",
            "A long fruit.",
            "Why it matters",
            "- Potassium:",
            "lots of it.",
            "Cherry",
            "Small and red",
            "Date",
            "Sweet.",
        ]
    )
    parsed = parse_text(text)
    assert [e.term for e in parsed.entries] == ["Apple", "Banana", "Cherry", "Date"]
    assert "Why it matters" in parsed.entries[1].definition
    assert parsed.header == [] and parsed.footer == []


def test_trailing_term_without_definition_is_kept_and_reported():
    parsed = parse_text("Apple\nA fruit.\nOrphan")
    assert [e.term for e in parsed.entries] == ["Apple"]
    assert parsed.entries[0].definition.endswith("Orphan")
    assert any("Orphan" in w for w in parsed.warnings)


def test_term_shape():
    assert looks_like_term("CFG (classifier-free guidance)")
    assert not looks_like_term("- Prediction:")
    assert not looks_like_term("A sentence that ends with a full stop.")


def test_a_title_without_a_blurb_does_not_swallow_the_first_entry():
    parsed = parse_text("My ML Glossary\nEpoch\nOne full pass over the training data.\nLoss\nA number.\n")
    assert parsed.header == ["My ML Glossary"]
    assert [e.term for e in parsed.entries] == ["Epoch", "Loss"]
    assert any("line 1:" in w and "title" in w for w in parsed.warnings)


def test_a_first_term_about_glossaries_is_a_term_not_a_title():
    parsed = parse_text("Glossary-based retrieval\nRetrieval that looks names up in a glossary first.\n"
                        "Loss\nA number the training minimises.\n")
    assert [e.term for e in parsed.entries] == ["Glossary-based retrieval", "Loss"]
    assert parsed.header == []


def test_a_bom_is_not_part_of_the_first_term():
    parsed = parse_text("\ufeffEpoch\nOne full pass.\nLoss\nA number.\n")
    assert parsed.entries[0].term == "Epoch"


def test_line_numbers_are_an_editors_whatever_a_definition_holds():
    # U+2028, U+0085 and form feeds come in with text pasted from PDFs and web pages; str.splitlines
    # would break lines there, and every later line number would be off.
    parsed = parse_text("Epoch\nOne full pass\u2028over the\x0cdata\x85again.\r\nLoss\r\nA number.\n")
    assert [(e.term, e.line) for e in parsed.entries] == [("Epoch", 1), ("Loss", 3)]
    assert "\n" not in parsed.entries[0].definition
