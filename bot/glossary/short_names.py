"""Short names a glossary's text never spells out: "RRF" for Reciprocal rank fusion, "MHA" for
Multi-head attention. People type them (`/define RRF`, "why is k 60 in RRF?") and the glossary
has the entry, so a lookup must not say "not covered".

They live beside the glossary, in `<glossary name>.short-names.tsv` (data/glossary.short-names.tsv
for the bundled one): a line is a term as the glossary writes it, a tab, and its short names
separated by commas; a line starting with `#` is a comment. The index adds them to the entry's aliases, so they work
like the glossary's own: exact lookups, names spotted inside a question, keyword search. They are
lookup keys only; replies never quote them as the glossary's text.

A short name is skipped, with a warning `glossary-bot check` lists, when its term is not in the
glossary or it already names another entry: a name must find one answer, and the glossary's own
names win.
"""

from __future__ import annotations

from pathlib import Path

from .parse import Entry
from .terms import lookup_key

SUFFIX = ".short-names.tsv"


def short_names_path(glossary_path: Path) -> Path:
    return Path(glossary_path).with_suffix(SUFFIX)


def read_text(glossary_path: Path) -> str:
    """The short-names file's text, or "" when the glossary has none (or it cannot be read as UTF-8:
    the glossary still works without it, and `glossary-bot check` says why)."""
    try:
        return short_names_path(glossary_path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def parse_short_names(text: str) -> tuple[list[tuple[int, str, list[str]]], list[tuple[int, str]]]:
    """([(line, term, names)], [(line, problem)]) for a short-names file's text."""
    rows, problems = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        term, tab, names = line.partition("\t")
        names_list = [n.strip() for n in names.split(",") if n.strip()]
        if not tab or not term.strip() or not names_list:
            problems.append((number, f"expected a term, a tab and its short names, got {line.strip()[:60]!r}"))
            continue
        rows.append((number, term.strip(), names_list))
    return rows, problems


def extra_aliases(entries: list[Entry], own_names: dict[str, set[str]],
                  text: str) -> tuple[dict[str, list[str]], list[str]]:
    """({term: short names to add}, warnings as "line N: …", in line order) for the glossary's entries.

    `own_names` maps each lookup key the glossary's own terms and aliases use to the terms it names."""
    terms = {lookup_key(e.term): e.term for e in entries}
    rows, warnings = parse_short_names(text)
    added: dict[str, list[str]] = {}
    taken = {key: set(owners) for key, owners in own_names.items()}
    for number, written_term, names in rows:
        term = terms.get(lookup_key(written_term))
        if term is None:
            warnings.append((number, f"{written_term!r} is not a term of the glossary"))
            continue
        for name in names:
            key = lookup_key(name)
            owners = taken.get(key, set())
            if not key:
                warnings.append((number, f"{name!r} has no letters or digits to look up"))
            elif owners - {term}:
                warnings.append((number, f"{name!r} already names {sorted(owners - {term})[0]!r}"))
            elif term not in owners:
                added.setdefault(term, []).append(name)
                taken[key] = {term}
    return added, [f"line {number}: {problem}" for number, problem in sorted(warnings, key=lambda w: w[0])]
