"""`glossary-bot check`: what a glossary author should look at, line by line, with the fix.

Errors make the glossary unusable or ambiguous (no entries, the same term twice) and
end `check` with exit code 1, so a glossary repository's CI can run it. Warnings are
the parser's guesses (a line taken as a new term, or kept as a sub-heading), terms out
of order, aliases shared by several entries, "see …" references to nothing, entries
so long that two were probably merged, and lines of the short-names (short_names.py),
other-senses (senses.py) and same-thing (same_thing.py) files beside it that cannot be used.
Needs no index and no model.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path

from . import same_thing, senses, short_names, vocabulary
from .errors import GlossaryFormatError
from .parse import editor_lines, parse_text
from .terms import TermSpotter, aliases_for, lookup_key

ERROR, WARNING = "error", "warning"
# Longer than any entry of the bundled glossary by far (its longest is about 2,200 characters).
LONG_ENTRY_CHARS = 4000
LONG_ENTRY_LINES = 25


@dataclass(frozen=True)
class Finding:
    line: int
    severity: str
    code: str
    message: str
    fix: str
    file: str | None = None  # another file than the glossary's (its short names)

    def __str__(self) -> str:
        return f"line {self.line}: {self.severity}: {self.message} — {self.fix}"


# The parser's warnings ("line N: …"), by what they say, with what to do about each.
_PARSE_WARNINGS = [
    ("taken as a term with a multi-line definition", WARNING, "multi-line-entry",
     "if it is a sub-heading of the entry above, end it with a colon; if the line after it is another term, "
     "it has no definition of its own and took that entry in: write its definition; else (a new term whose "
     "definition has several lines) nothing to do"),
    ("is kept as a sub-heading of", WARNING, "sub-heading",
     "if it is a new term, move it to its alphabetical place; if it is a sub-heading, end it with a colon"),
    ("has no definition", WARNING, "no-definition", "add its definition on the next line, or remove it"),
    ("is out of alphabetical order", WARNING, "out-of-order",
     "move it to its alphabetical place (the parser uses the order to tell terms from sub-headings)"),
    ("repeats line", ERROR, "duplicate-term",
     "merge the two entries, or rename one (a lookup of that name cannot tell them apart)"),
    ("taken as the glossary's title", WARNING, "title",
     "if it is a term, write its definition on the next line; if it is the title, add a line of blurb under it"),
    ("does not look like a term", WARNING, "first-line",
     "start the file with a term line (short, no full stop), or a title line containing 'Glossary'"),
]
_LINE = re.compile(r"^line (\d+): (.*)$", re.DOTALL)
# "See X" as a reference: in brackets or opening a sentence ("see what happens" mid-sentence is a verb).
_REFERENCE = re.compile(r"(?:\(\s*|(?:^|[.!?;:]\s+))see(?:\s+also)?\s+(?:the\s+)?[\"“]?([^.;)]{1,80})",
                        re.IGNORECASE | re.MULTILINE)


def check_text(text: str, short_text: str = "", short_file: str = "short names",
               short_unreadable: str | None = None, senses_text: str = "", senses_file: str = "senses",
               senses_unreadable: str | None = None) -> tuple[int, list[Finding]]:
    """(number of entries, findings sorted by line) for a glossary's text, its short names
    (short_names.py) and its names' other senses (senses.py); the findings on those name their
    file, and give the line in it."""
    try:
        parsed = parse_text(text)
    except GlossaryFormatError as exc:
        return 0, [Finding(1, ERROR, "empty", str(exc), "write a term line, then its definition on the next line")]
    findings = [_from_parse_warning(w) for w in parsed.warnings]
    if not parsed.entries:
        findings.append(Finding(1, ERROR, "no-entries", "no term line is followed by a definition line",
                                "write each entry as a term line, then its definition on the next line"))
    names: dict[str, list] = {}
    aliases_of = [aliases_for(entry.term, entry.definition) for entry in parsed.entries]
    for entry, aliases in zip(parsed.entries, aliases_of):
        for alias, source in aliases:
            names.setdefault(lookup_key(alias), []).append((entry, alias, source))
        if len(entry.definition) > LONG_ENTRY_CHARS or entry.definition.count("\n") + 1 > LONG_ENTRY_LINES:
            findings.append(Finding(
                entry.line, WARNING, "long-entry",
                f"{entry.term!r} is {entry.definition.count(chr(10)) + 1} lines and {len(entry.definition)} "
                "characters long, far more than any other entry",
                "if two entries were merged (a term line read as part of a definition), put the term on its own "
                "line followed by its definition"))
    for key, owners in names.items():
        entries = {id(e): e for e, _a, _s in owners}
        terms = {e.term.casefold() for e in entries.values()}
        if len(entries) > 1 and len(terms) > 1:  # the same term twice is reported as duplicate-term
            later = max(entries.values(), key=lambda e: e.line)
            listed = ", ".join(f"{e.term!r} (line {e.line})" for e in sorted(entries.values(), key=lambda e: e.line))
            findings.append(Finding(
                later.line, WARNING, "shared-name", f"the name {owners[0][1]!r} belongs to {listed}",
                "make the alias or term specific to one entry, so a lookup of it finds one answer"))
    spotter = TermSpotter(names)
    for entry in parsed.entries:
        for target in (m.group(1).strip() for m in _REFERENCE.finditer(entry.definition)):
            # "see also its much smaller cousin CIFAR-10" refers to CIFAR-10: a name anywhere counts
            if lookup_key(target) and spotter.name_at_start(target) is None and not any(spotter.spot(target)):
                findings.append(Finding(
                    entry.line, WARNING, "dangling-see",
                    f"{entry.term!r} says \"see {target[:60]}\", which is not a term or alias here",
                    "name an existing term (or add the entry it refers to)"))
    added, problems = short_names.extra_aliases(parsed.entries, aliases_of, short_text)
    for problem in [short_unreadable] * bool(short_unreadable) + problems:
        match = _LINE.match(problem)
        findings.append(Finding(
            int(match.group(1)), WARNING, "short-name", match.group(2),
            "a line is a term as the glossary writes it, a tab, and short names no other entry uses",
            short_file))
    findings += _sense_findings(parsed.entries, names, added, senses_text, senses_file, senses_unreadable)
    findings += _control_characters(text)
    return len(parsed.entries), sorted(findings, key=lambda f: (f.file or "", f.line, f.code))


# NUL, a terminal's escape codes and the like: shown as they are, an escape sequence in a term clears the
# screen of whoever reads it in a terminal (QA73); a tab is whitespace, and the line ends are the file's
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _control_characters(text: str) -> list[Finding]:
    return [Finding(number, WARNING, "control-character",
                    f"line {number} holds a control character ({hex(ord(found.group()))}), which nobody reading it "
                    "sees, and which a terminal may act on",
                    "delete it (it came in with pasted text, or a file saved in another encoding)")
            for number, line in enumerate(editor_lines(text), start=1) if (found := _CONTROL.search(line))]


def _sense_findings(entries: list, names: dict[str, list], added: dict[str, list[str]], text: str, file: str,
                    unreadable: str | None) -> list[Finding]:
    number = {entry.term: n for n, entry in enumerate(entries)}
    named: dict[str, set[int]] = {key: {number[e.term] for e, _a, _s in owners} for key, owners in names.items()}
    for term, extra in added.items():
        for name in extra:
            named.setdefault(lookup_key(name), set()).add(number[term])
    problems = senses.resolve(text, number.get, lambda key: named.get(key, ()))[1]
    findings = []
    for problem in [unreadable] * bool(unreadable) + problems:
        match = _LINE.match(problem)
        findings.append(Finding(
            int(match.group(1)), WARNING, "other-sense", match.group(2),
            "a line is a term as the glossary writes it, a name it answers to, the sense people usually mean "
            "by that name, and the term of the entry for that sense if there is one, separated by tabs", file))
    return findings


def _vocabulary_findings(text: str, path: Path) -> list[Finding]:
    vocab_text, unreadable = vocabulary.read(path)
    if not vocab_text and not unreadable:
        return []
    entries = parse_text(text).entries  # called only for a glossary that parses (check_file)
    problems = [unreadable] * bool(unreadable) + vocabulary.entry_vocabulary(entries, vocab_text)[1]
    return [Finding(int(m.group(1)), WARNING, "vocabulary", m.group(2),
                    "a line is a term as the glossary writes it, a tab, and the words practitioners use for it, "
                    "separated by ';'", str(vocabulary.vocabulary_path(path)))
            for m in map(_LINE.match, problems)]


def _same_thing_findings(text: str, path: Path) -> list[Finding]:
    listed, unreadable = same_thing.read(path)
    if not listed and not unreadable:
        return []
    entries = parse_text(text).entries  # called only for a glossary that parses (check_file)
    number = {}
    for n, entry in enumerate(entries):
        number.setdefault(entry.term, n)
    problems = [unreadable] * bool(unreadable) + same_thing.resolve(listed, number.get)[1]
    return [Finding(int(m.group(1)), WARNING, "same-thing", m.group(2),
                    "a line is a term as the glossary writes it, 'same as', 'kind of' or 'close to', another "
                    "term, and why, separated by tabs", str(same_thing.same_thing_path(path)))
            for m in map(_LINE.match, problems)]


def _from_parse_warning(text: str) -> Finding:
    match = _LINE.match(text)
    line, message = (int(match.group(1)), match.group(2)) if match else (1, text)
    for needle, severity, code, fix in _PARSE_WARNINGS:
        if needle in message:
            return Finding(line, severity, code, message, fix)
    return Finding(line, WARNING, "parser", message, "check how this line was read")


def check_file(path: Path) -> dict:
    """The report `glossary-bot check --json` prints."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GlossaryFormatError(f"glossary file not found: {path}") from None
    except UnicodeDecodeError as exc:
        raise GlossaryFormatError(f"{path} is not UTF-8 text (bad byte at offset {exc.start}): save it as UTF-8") \
            from None
    except OSError as exc:
        raise GlossaryFormatError(f"cannot read {path} ({exc.strerror})") from None
    short_text, unreadable = short_names.read(Path(path))
    senses_text, senses_unreadable = senses.read(Path(path))
    entries, findings = check_text(text, short_text, str(short_names.short_names_path(path)), unreadable,
                                   senses_text, str(senses.senses_path(path)), senses_unreadable)
    if entries:  # a glossary that does not parse has its own error: every vocabulary line would be "unknown"
        findings = sorted(findings + _vocabulary_findings(text, Path(path)) + _same_thing_findings(text, Path(path)),
                          key=lambda f: (f.file or "", f.line, f.code))
    return {
        "file": str(path),
        "entries": entries,
        "errors": sum(f.severity == ERROR for f in findings),
        "warnings": sum(f.severity == WARNING for f in findings),
        "findings": [asdict(f) for f in findings],
    }
