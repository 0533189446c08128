"""Plain-text and JSON views of search results, shared by the CLI and the console.

The Discord layer has its own renderer (embeds and buttons); this one is for
terminals and scripts, and is the JSON shape documented in the README.
"""

from __future__ import annotations

import shutil
import textwrap

from .glossary.search import NOT_FOUND, SUGGEST, SUGGESTIONS, Related, SearchResult, Searcher
from .glossary.store import StoredEntry

MATCH_LABELS = {
    "exact": "exact term",
    "alias": "alias",
    "fuzzy": "spelling",  # "Matched by spelling", not "by spelling match"
    "mention": "term named in the question",
    "keyword": "keyword search",
    "semantic": "meaning search",
    "server_alias": "this server's alias",
}


def entry_json(entry: StoredEntry) -> dict:
    return {"term": entry.term, "definition": entry.definition, "aliases": list(entry.aliases[1:])}


def related_json(related: list[Related]) -> list[dict]:
    return [{"term": r.entry.term, "reason": r.reason} for r in related]


def result_json(result: SearchResult, searcher: Searcher) -> dict:
    best = result.best
    return {
        "query": result.query,
        "band": result.band,
        "confidence": round(result.confidence, 4),
        "others": [h.entry.term for h in result.others] if result.band != NOT_FOUND else [],
        "note": result.note,
        "lacking": list(result.lacking),
        "far": result.far,
        "asked": [h.entry.term for h in result.asked] if result.band != NOT_FOUND else [],
        "also_asked": [e.term for e in result.unshown] if result.band != NOT_FOUND else [],
        "results": [
            {**entry_json(h.entry), "match": h.match, "score": round(h.score, 4)} for h in result.hits
        ],
        "related": related_json(searcher.related(best.entry.id))
        if best and result.band != NOT_FOUND
        else [],
    }


TEXT_WIDTH = 88  # a pipe's, or a terminal whose width is unknown
TEXT_WIDTH_RANGE = (40, 100)  # lines longer than 100 characters are hard to read, however wide the window


# A suggestion is one line: at a pipe's width or more its lead may run past the wrapping width by
# this much before it is cut, as it did when cut at 100 characters; never under SUGGESTION_LEAD_MIN.
SUGGESTION_OVERHANG = 24
SUGGESTION_LEAD_MIN = 30


def text_width() -> int:
    """The width to wrap at: the terminal's (or COLUMNS), less a column, within TEXT_WIDTH_RANGE."""
    columns = shutil.get_terminal_size((TEXT_WIDTH + 1, 24)).columns - 1
    return max(TEXT_WIDTH_RANGE[0], min(TEXT_WIDTH_RANGE[1], columns))


def wrap(text: str, width: int | None = None) -> str:
    width = width or text_width()
    paragraphs = text.split("\n")
    # not at a name's hyphen: "VQ-" at a line's end and "VAE" on the next read as two words
    return "\n".join(textwrap.fill(p, width, break_on_hyphens=False) if len(p) > width else p for p in paragraphs)


def _names_line(label: str, names: list[str], width: int) -> str:
    """"Related: A (see); B (mentioned); …", wrapped between names, not inside one."""
    return textwrap.fill(label + "; ".join(n.replace(" ", "\u00a0") for n in names), width,
                         subsequent_indent="  ", break_on_hyphens=False, break_long_words=False).replace("\u00a0", " ")


def entry_text(entry: StoredEntry, how: str | None, related: list[Related],
               others: list[StoredEntry] | None = None, note: str = "") -> str:
    width = text_width()
    lines = [entry.term, "=" * min(len(entry.term), width), wrap(entry.definition, width)]
    lines.append(f"\n(matched by {MATCH_LABELS.get(how, how)}; from the glossary)" if how else "\n(from the glossary)")
    if note:  # which sense of the name the entry is (senses.py)
        lines.append(wrap(note, width))
    if others:
        lines.append(_names_line("Other matches: ", [e.term for e in others], width))
    if related:
        lines.append(_names_line("Related: ", [f"{r.entry.term} ({r.reason})" for r in related], width))
    return "\n".join(lines)


def shorten(text: str, width: int) -> str:
    """`text` on one line, cut to `width` characters at a word."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1].rsplit(" ", 1)[0] + "…"


def lead(entry: StoredEntry, width: int = 100) -> str:
    """The first line of a definition, cut to `width` characters at a word."""
    return shorten(entry.definition.split("\n", 1)[0], width)


def side_by_side_text(result: SearchResult) -> str:
    """The entries a message asks about together, each with its whole definition, then any other
    entry the search found close."""
    asked = [h.entry for h in result.asked]
    lines = [f"{together(e.term for e in asked)}, side by side (from the glossary):"]
    if result.note:  # "The glossary has no entry for “kto”."
        lines += [result.note]
    width = text_width()
    for entry in asked:
        lines += ["", entry.term, "=" * min(len(entry.term), width), wrap(entry.definition, width)]
    if result.unshown:
        lines += ["", f"Also asked: {together(e.term for e in result.unshown)} (ask about "
                      f"{'it' if len(result.unshown) == 1 else 'each'} on its own)."]
    more = [h.entry.term for h in result.beside_asked]
    if more:
        lines += ["", "Other matches: " + "; ".join(more)]
    return "\n".join(lines)


def together(names) -> str:
    """"A and B", "A, B and C"."""
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def result_text(result: SearchResult, searcher: Searcher, define_hint: str = "/define <term>") -> str:
    if not result.query:
        return "Type a term or a question."
    if result.asked and result.band != NOT_FOUND:
        return side_by_side_text(result)
    if result.band == NOT_FOUND:
        hint = ", ".join(h.entry.term for h in result.hints)
        message = result.note or "The glossary doesn't cover that."
        return f"{message} Nearest terms: {hint}." if hint else message
    best = result.best
    if result.band == SUGGEST:
        # after "The glossary has no entry for “k-fold cross validation”.", "may not cover" says it twice
        opener = ("Closest entries:" if result.far and result.lacking
                  else "The glossary may not cover that. Closest entries:" if result.far
                  else "Did you mean:" if result.note else "Not sure which entry that is, if any. Did you mean:")
        lines = [f"{result.note}\n{opener}" if result.note else opener]
        width = text_width()
        width += SUGGESTION_OVERHANG if width >= TEXT_WIDTH else 0  # a narrow window: no line past its edge
        for n, h in enumerate(result.hits[:SUGGESTIONS], start=1):
            start = f"  {n}. {h.entry.term} — "
            lines.append(start + lead(h.entry, max(SUGGESTION_LEAD_MIN, width - len(start))))
        lines.append(f"(type {define_hint} to read one)")
        return "\n".join(lines)
    return entry_text(best.entry, best.match, searcher.related(best.entry.id), [h.entry for h in result.others],
                      result.note)
