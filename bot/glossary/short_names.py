"""Short names a glossary's text never spells out: "RRF" for Reciprocal rank fusion, "MHA" for
Multi-head attention. People type them (`/define RRF`, "why is k 60 in RRF?") and the glossary
has the entry, so a lookup must not say "not covered".

They live beside the glossary, in `<glossary name>.short-names.tsv` (data/glossary.short-names.tsv
for the bundled one): a line is a term as the glossary writes it, a tab, and its short names
separated by commas; a line starting with `#` is a comment. The index adds them to the entry's
aliases, so they work like the glossary's own: exact lookups, names spotted inside a question,
keyword search. They are lookup keys only; replies never quote them as the glossary's text.

A short name is skipped, with a warning `glossary-bot check` lists, when its term is not in the
glossary or it already names another entry: a name must find one answer, and the glossary's own
names win.
"""

from __future__ import annotations

from pathlib import Path

from .parse import Entry, read_beside, editor_lines
from .terms import compact_key, lookup_key

SUFFIX = ".short-names.tsv"


def short_names_path(glossary_path: Path) -> Path:
    return Path(glossary_path).with_suffix(SUFFIX)


def read(glossary_path: Path) -> tuple[str, str | None]:
    """(the short-names file's text, why it could not be read); the build and `glossary-bot check`
    say why."""
    return read_beside(short_names_path(glossary_path), "short names")


def parse_short_names(text: str) -> tuple[list[tuple[int, str, list[str]]], list[tuple[int, str]]]:
    """([(line, term, names)], [(line, problem)]) for a short-names file's text."""
    rows, problems = [], []
    for number, line in enumerate(editor_lines(text), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        term, tab, names = line.partition("\t")
        names_list = [n.strip() for n in names.split(",") if n.strip()]
        if not tab or not term.strip() or not names_list:
            problems.append((number, f"expected a term, a tab and its short names, got {line.strip()[:60]!r}"))
            continue
        rows.append((number, term.strip(), names_list))
    return rows, problems


def _keys(name: str) -> set[tuple[str, str]]:
    # Both ways a lookup finds a name (search.py: by lookup key, then run together).
    return {(kind, key) for kind, key in (("key", lookup_key(name)), ("compact", compact_key(name))) if key}


def extra_aliases(entries: list[Entry], aliases_of: list[list[tuple[str, str]]],
                  text: str) -> tuple[dict[str, list[str]], list[str]]:
    """({term: short names to add}, warnings as "line N: …", in line order) for the glossary's
    entries, given each one's own (alias, source) pairs (terms.aliases_for)."""
    terms = {lookup_key(e.term): e.term for e in entries}
    taken: dict[tuple[str, str], set[str]] = {}
    for entry, aliases in zip(entries, aliases_of):
        for alias, _source in aliases:
            for key in _keys(alias):
                taken.setdefault(key, set()).add(entry.term)
    rows, warnings = parse_short_names(text)
    added: dict[str, list[str]] = {}
    for number, written_term, names in rows:
        term = terms.get(lookup_key(written_term))
        if term is None:
            warnings.append((number, f"{written_term!r} is not a term of the glossary"))
            continue
        for name in names:
            keys = _keys(name)
            others = sorted(set().union(*(taken.get(key, set()) for key in keys)) - {term})
            if not keys:
                warnings.append((number, f"{name!r} has no letters or digits to look up"))
            elif others:
                warnings.append((number, f"{name!r} already names {others[0]!r}"))
            elif not all(term in taken.get(key, ()) for key in keys):
                added.setdefault(term, []).append(name)
                for key in keys:
                    taken[key] = {term}
    return added, [f"line {number}: {problem}" for number, problem in sorted(warnings, key=lambda w: w[0])]
