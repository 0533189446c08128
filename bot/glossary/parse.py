"""Parse a glossary text file into entries.

The format has no blank lines and no markup: a term line, then its definition.
Most definitions are one line, but some span many lines with bullets and
sub-headings that look exactly like term lines ("A Concrete Example"). The
parser decides where an entry starts from the *shape of what follows*: a real
term is followed by a definition and then by another term-like line, while a
sub-heading is followed by prose and then bullets or more prose.

Nothing is dropped: every non-blank line lands in exactly one entry, in the
header, or in the footer, and anything the parser had to guess about is
reported as a warning.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from .errors import GlossaryEmptyError, GlossaryFormatError

MAX_TERM_CHARS = 80
MAX_TERM_WORDS = 8
_SENTENCE_END = tuple(".:;,?!")
_BULLET = re.compile(r"^\s*([-+*•]|\d+[.)])\s")
_LICENCE_TERM = re.compile(r"^licen[cs]e$", re.IGNORECASE)


@dataclass(frozen=True)
class Entry:
    term: str
    definition: str
    line: int  # 1-based line number of the term line in the source

    @property
    def is_multiline(self) -> bool:
        return "\n" in self.definition


@dataclass
class ParsedGlossary:
    entries: list[Entry]
    header: list[str] = field(default_factory=list)
    footer: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def multiline_entries(self) -> list[Entry]:
        return [e for e in self.entries if e.is_multiline]

    def summary(self) -> str:
        return (
            f"{len(self.entries)} entries ({len(self.multiline_entries)} multi-line), "
            f"header {len(self.header)} lines, footer {len(self.footer)} lines, "
            f"{len(self.warnings)} warnings"
        )


def looks_like_term(line: str) -> bool:
    """A term line is short, is not a sentence and is not a bullet."""
    text = line.strip()
    if not text or len(text) > MAX_TERM_CHARS or _BULLET.match(text):
        return False
    if text.endswith(_SENTENCE_END):
        return False
    return len(text.split()) <= MAX_TERM_WORDS


def sort_key(term: str) -> str:
    """Loose alphabetical key: the glossary is mostly sorted case-insensitively."""
    folded = unicodedata.normalize("NFKD", term).casefold()
    return "".join(ch for ch in folded if ch.isalnum())


# "Glossary" as a word of its own: "Glossary-based retrieval" is a term, not a title.
_TITLE_WORD = re.compile(r"(?<![\w-])glossary(?![\w-])", re.IGNORECASE)


def _detect_header(lines: list[str], warnings: list[str], numbers: list[int]) -> int:
    """Number of header lines: a title line 'Glossary…' and its blurb, or the title alone when a
    term and its definition follow it at once."""
    if len(lines) < 2 or not _TITLE_WORD.search(lines[0]):
        return 0
    if not looks_like_term(lines[1]):
        return 2
    if len(lines) >= 3 and not looks_like_term(lines[2]):
        # Read as an entry, the title would swallow the first term and its definition.
        warnings.append(f"line {numbers[0]}: {lines[0][:60]!r} taken as the glossary's title (no blurb line "
                        "follows it), kept out of the search")
        return 1
    return 0


def _starts_entry(lines: list[str], j: int, current_term: str, warnings: list[str], numbers: list[int]) -> bool:
    """Does line j start a new entry, given we are inside `current_term`'s definition? (`numbers`:
    each line's number in the file, blank lines counted: QA73, warnings named the wrong lines.)"""
    if not looks_like_term(lines[j]):
        return False
    if j + 1 >= len(lines):
        warnings.append(
            f"line {numbers[j]}: {lines[j]!r} looks like a term but has no definition; kept in {current_term!r}"
        )
        return False
    clean_pair = j + 2 >= len(lines) or looks_like_term(lines[j + 2])
    if clean_pair and not _BULLET.match(lines[j + 1]):
        return True
    # Irregular follow-up: either a multi-line entry starts here, or this is a
    # sub-heading inside the current definition. Alphabetical order decides.
    in_order = sort_key(current_term) <= sort_key(lines[j])
    if in_order and not _BULLET.match(lines[j + 1]):
        warnings.append(
            f"line {numbers[j]}: {lines[j]!r} taken as a term with a multi-line definition"
        )
        return True
    warnings.append(
        f"line {numbers[j]}: {lines[j]!r} looks like a term but is kept as a sub-heading of "
        f"{current_term!r}"
    )
    return False


def parse_lines(raw_lines: list[str]) -> ParsedGlossary:
    numbered = [(i + 1, ln.rstrip()) for i, ln in enumerate(raw_lines) if ln.strip()]
    lines = [text for _, text in numbered]
    numbers = [n for n, _ in numbered]
    if not lines:
        raise GlossaryEmptyError("the glossary file is empty")

    warnings: list[str] = []
    header_len = _detect_header(lines, warnings, numbers)
    result = ParsedGlossary(entries=[], header=lines[:header_len], warnings=warnings)

    i = header_len
    if i < len(lines) and not looks_like_term(lines[i]):
        warnings.append(f"line {numbers[i]}: first entry line {lines[i][:40]!r} does not look like a term")
    while i < len(lines):
        term = lines[i].strip()
        if i + 1 >= len(lines):
            warnings.append(f"line {numbers[i]}: {term!r} has no definition; kept as footer")
            result.footer.append(lines[i])
            break
        j = i + 2
        while j < len(lines) and not _starts_entry(lines, j, term, warnings, numbers):
            j += 1
        definition = "\n".join(ln.strip() for ln in lines[i + 1 : j])
        result.entries.append(Entry(term=term, definition=definition, line=numbers[i]))
        i = j

    if result.entries and _LICENCE_TERM.match(result.entries[-1].term):
        last = result.entries.pop()
        result.footer = [last.term, *last.definition.split("\n"), *result.footer]

    _warn_out_of_order(result.entries, warnings)
    _warn_duplicates(result.entries, warnings)
    return result


def _warn_out_of_order(entries: list[Entry], warnings: list[str]) -> None:
    for prev, cur, nxt in zip(entries, entries[1:], entries[2:]):
        if sort_key(prev.term) > sort_key(cur.term) and sort_key(cur.term) > sort_key(nxt.term):
            warnings.append(f"line {cur.line}: {cur.term!r} is out of alphabetical order")


def _warn_duplicates(entries: list[Entry], warnings: list[str]) -> None:
    seen: dict[str, Entry] = {}
    for entry in entries:
        key = entry.term.casefold()
        if key in seen:
            warnings.append(
                f"line {entry.line}: term {entry.term!r} repeats line {seen[key].line}"
            )
        seen.setdefault(key, entry)


def parse_text(text: str) -> ParsedGlossary:
    # A BOM is how Notepad saves UTF-8, not part of the first term.
    return parse_lines(editor_lines(text.removeprefix("\ufeff")))


def parse_file(path: str | Path) -> ParsedGlossary:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GlossaryFormatError(f"glossary file not found: {path}") from None
    except UnicodeDecodeError as exc:
        raise GlossaryFormatError(f"{path} is not UTF-8 text ({exc.reason})") from None
    try:
        return parse_text(text)
    except GlossaryEmptyError:
        raise GlossaryEmptyError(f"glossary file {path} is empty: write a term line, then its definition on the "
                                 "next line") from None


def read_beside(path: Path, without: str) -> tuple[str, str | None]:
    """(the text of a file kept beside a glossary, why it could not be read). A glossary without
    one has "" and no problem; one that cannot be read is used `without` what it would add
    ("short names"), and the problem says so."""
    try:
        return Path(path).read_text(encoding="utf-8").removeprefix("\ufeff"), None  # a BOM, as Notepad saves
    except FileNotFoundError:
        return "", None
    except UnicodeDecodeError as exc:
        return "", (f"line 1: not UTF-8 text (bad byte at offset {exc.start}), so the glossary is used "
                    f"without {without}: save it as UTF-8")
    except OSError as exc:
        return "", f"line 1: cannot be read ({exc.strerror}), so the glossary is used without {without}"


def warn_beside(log: logging.Logger, name: str, unreadable: str | None, problems: list[str]) -> None:
    """A file beside the glossary that cannot be read, and each line of it that cannot be used, in
    the log: the bot starts all the same, without what they would add."""
    if unreadable:
        log.warning("%s %s", name, unreadable)
    for problem in problems:
        log.warning("%s %s; that line is skipped", name, problem)


def editor_lines(text: str) -> list[str]:
    """A file's lines as an editor numbers them: only \\n, \\r\\n and \\r end one (str.splitlines
    also splits at U+0085, U+2028, form feeds and other characters that may sit inside a line
    pasted from a PDF or a web page)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
