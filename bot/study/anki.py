"""A review deck as a file Anki imports (File → Import): one Basic note per card, the term on the
front and the glossary's own text on the back, so a learner can take their deck to the app many
already use. Anki's text format: a few `#key:value` lines saying how to read it, then one note a
line, fields separated by tabs (https://docs.ankiweb.net/importing/text-files.html)."""

from __future__ import annotations

import html
import os
from collections.abc import Callable, Container, Iterable
from pathlib import Path

from ..glossary.store import StoredEntry

DECK_NAME = "ML glossary"
TAG = "ml-glossary"
FILENAME = "ml-glossary-review-deck.txt"
# How an export starts. No "#columns:" line: Anki maps named columns to fields by name, and a
# profile in another language has no "Front"/"Back" (German: Vorderseite/Rückseite), so every back
# came in empty (QA64); by position, Basic's two fields take the first two columns in any language.
HEADER = ("#separator:tab", "#html:true", "#notetype:Basic", f"#deck:{DECK_NAME}", "#tags column:3")
# The console replaces a file only if it starts with this whole header: Anki's own text exports
# start "#separator:tab" too, and they are someone's notes.
EXPORT_START = "\n".join(HEADER) + "\n"
# … or with the header of the first version (7 December 2026), which named its columns
_FIRST_EXPORT_START = ("#separator:tab\n#html:true\n#notetype:Basic\n#deck:ML glossary\n"
                       "#columns:Front\tBack\tTags\n#tags column:3\n")


def exportable(terms: Iterable[str], stranded: Container[str],
               entry_named: Callable[[str], StoredEntry | None]) -> list[StoredEntry]:
    """The entries of a deck's cards, in the deck's order: those whose term is an entry's now (a
    card set aside, `stranded`, has none to export)."""
    entries = [entry_named(term) for term in terms if term not in stranded]
    return [entry for entry in entries if entry is not None]


def _field(text: str) -> str:
    """One field as HTML (the file says so): escaped, lines as <br> (a bare CR ends a note for Anki
    too), no tab to split the note, and no "#" first, which Anki reads as a comment line's."""
    field = html.escape(text.strip()).replace("\t", " ").replace("\r\n", "\n").replace("\r", "\n")
    field = field.replace("\n", "<br>")
    return "&#35;" + field[1:] if field.startswith("#") else field


def anki_notes(entries: Iterable[StoredEntry]) -> str:
    """The entries as Anki's text import reads them, each back saying the text is the glossary's
    (as every reply of the bot does)."""
    lines = list(HEADER)
    for entry in entries:
        back = entry.definition
        others = [a for a in entry.aliases if a != entry.term]  # the aliases start with the term itself
        if others:
            back += "\n\nAlso called: " + ", ".join(others)
        lines.append("\t".join((_field(entry.term), _field(f"{back}\n\n(from the glossary)"), TAG)))
    return "\n".join(lines) + "\n"


def is_earlier_export(path: Path) -> bool:
    """Whether the file at `path` is one this export wrote: a regular file starting with its whole
    header. Only the header's length is read (a named pipe or /dev/zero is no regular file)."""
    if not path.is_file():
        return False
    with path.open("rb") as file:
        start = file.read(max(len(s.encode()) for s in (EXPORT_START, _FIRST_EXPORT_START)))
    return start.decode("utf-8", errors="replace").startswith((EXPORT_START, _FIRST_EXPORT_START))


def write_export(path: Path, text: str) -> None:
    """Write the export whole or not at all: to a file beside it, then put in its place, so that a
    full disk leaves an earlier export as it was rather than cut short (and still importable)."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
