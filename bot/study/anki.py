"""A review deck as a file Anki imports (File → Import): one Basic note per card, the term on the
front and the glossary's own text on the back, so a learner can take their deck to the app many
already use. Anki's text format: a few `#key:value` lines saying how to read it, then one note a
line, fields separated by tabs (https://docs.ankiweb.net/importing/text-files.html)."""

from __future__ import annotations

import html
from collections.abc import Callable, Container, Iterable

from ..glossary.store import StoredEntry

DECK_NAME = "ML glossary"
TAG = "ml-glossary"
FILENAME = "ml-glossary-review-deck.txt"
FIRST_LINE = "#separator:tab"  # how an export starts (the console replaces only such a file)


def exportable(terms: Iterable[str], stranded: Container[str],
               entry_named: Callable[[str], StoredEntry | None]) -> list[StoredEntry]:
    """The entries of a deck's cards, in the deck's order: those whose term is an entry's now (a
    card set aside, `stranded`, has none to export)."""
    entries = [entry_named(term) for term in terms if term not in stranded]
    return [entry for entry in entries if entry is not None]


def _field(text: str) -> str:
    """One field as HTML (the file says so): escaped, lines as <br>, no tab to split the note."""
    return html.escape(text.strip()).replace("\t", " ").replace("\r\n", "\n").replace("\n", "<br>")


def anki_notes(entries: Iterable[StoredEntry]) -> str:
    """The entries as Anki's text import reads them, each back saying the text is the glossary's
    (as every reply of the bot does)."""
    lines = [FIRST_LINE, "#html:true", "#notetype:Basic", f"#deck:{DECK_NAME}", "#columns:Front\tBack\tTags",
             "#tags column:3"]
    for entry in entries:
        back = entry.definition
        if entry.aliases:
            back += "\n\nAlso called: " + ", ".join(entry.aliases)
        lines.append("\t".join((_field(entry.term), _field(f"{back}\n\n(from the glossary)"), TAG)))
    return "\n".join(lines) + "\n"
