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
