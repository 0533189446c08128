"""A deck as Anki's text import reads it (bot/study/anki.py)."""

from bot.glossary.store import StoredEntry
from bot.study.anki import TAG, anki_notes


def test_each_entry_is_one_line_of_three_fields_whatever_its_text_holds():
    entries = [StoredEntry(1, "A<B", "First line\twith a tab.\n\nSecond paragraph & more.", 1, ("AB", "a-b")),
               StoredEntry(2, "Plain", "Just text.", 5, ())]
    lines = anki_notes(entries).splitlines()
    headers, notes = [l for l in lines if l.startswith("#")], [l.split("\t") for l in lines if not l.startswith("#")]
    assert headers[0] == "#separator:tab" and "#html:true" in headers and "#tags column:3" in headers
    assert len(notes) == 2 and all(len(note) == 3 and note[2] == TAG for note in notes)
    front, back, _ = notes[0]
    assert front == "A&lt;B"  # html:true: the text is escaped, not read as markup
    assert back.startswith("First line with a tab.<br><br>Second paragraph &amp; more.")
    assert "Also called: AB, a-b" in back and back.endswith("(from the glossary)")
    assert "Also called" not in notes[1][1]


def test_columns_go_by_position_so_a_profile_in_any_language_fills_both_fields():
    # named columns ("#columns:Front…") are matched to fields by name: a German profile's Basic has
    # Vorderseite/Rückseite, and every back came in empty (QA64)
    text = anki_notes([StoredEntry(1, "LoRA", "Low-rank adapters.", 1, ("LoRA", "low-rank adaptation"))])
    assert not any(line.startswith("#columns") for line in text.splitlines())
    back = text.splitlines()[-1].split("\t")[1]
    assert "Also called: low-rank adaptation<br>" in back  # the aliases start with the term itself: not repeated


def test_a_field_anki_would_read_as_a_comment_or_two_notes_stays_one_note():
    text = anki_notes([StoredEntry(1, "#hashtag", "One line\rand another.", 1, ())])
    notes = [line for line in text.splitlines() if not line.startswith("#")]  # the header's lines start "#"
    assert len(notes) == 1 and notes[0].startswith("&#35;hashtag\tOne line<br>and another.")


def test_an_export_of_either_version_is_an_earlier_export_and_anki_own_notes_are_not(tmp_path):
    from bot.study.anki import is_earlier_export
    ours, first, theirs = tmp_path / "ours.txt", tmp_path / "first.txt", tmp_path / "theirs.txt"
    ours.write_text(anki_notes([StoredEntry(1, "LoRA", "Low-rank adapters.", 1, ())]), encoding="utf-8")
    first.write_text("#separator:tab\n#html:true\n#notetype:Basic\n#deck:ML glossary\n"
                     "#columns:Front\tBack\tTags\n#tags column:3\nLoRA\tLow-rank adapters.\tml-glossary\n",
                     encoding="utf-8")
    theirs.write_text("#separator:tab\n#html:true\nfront\tback\n", encoding="utf-8")
    assert is_earlier_export(ours) and is_earlier_export(first) and not is_earlier_export(theirs)
    assert not is_earlier_export(tmp_path)  # a folder
