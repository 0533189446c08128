"""Words practitioners use for an entry that its own text never writes: the flags, identifiers,
other names and symptoms a real question brings ("nesterov=True" for Momentum, "load_in_8bit"
for Quantization). Real questions name them far more often than the glossary's
prose does, and the embedding smears them.

They live beside the glossary, in `<glossary name>.vocabulary.tsv`: a line is a term as the
glossary writes it, a tab, and its words and phrases separated by " ; "; a line starting with `#`
is a comment. The index scores them with BM25 of their own (index.vocabulary_postings), a feature
the ranker weighs like any other (features.py). Unlike short names they are not names: nothing
looks an entry up by them, no reply quotes them, and they do not make a word one "the glossary
uses".
"""

from __future__ import annotations

from pathlib import Path

from .parse import Entry, read_beside, editor_lines
from .terms import lookup_key

SUFFIX = ".vocabulary.tsv"
SEPARATOR = ";"


def vocabulary_path(glossary_path: Path) -> Path:
    return Path(glossary_path).with_suffix(SUFFIX)


def read(glossary_path: Path) -> tuple[str, str | None]:
    """(the vocabulary file's text, why it could not be read)."""
    return read_beside(vocabulary_path(glossary_path), "its vocabulary")


def entry_vocabulary(entries: list[Entry], text: str,
                     names: dict[str, set[str]] | None = None) -> tuple[dict[str, str], list[str]]:
    """({term: its vocabulary as one text}, warnings as "line N: …") for the glossary's entries.
    `names`: lookup key → the terms answering to it (the index's aliases); an item that names
    another entry is left out of this one's vocabulary ("LoRA" under Adapter): a question naming
    it is evidence for that entry, which the named-entry features weigh already, and counted here
    too it would argue for its neighbour."""
    terms = {lookup_key(e.term): e.term for e in entries}
    names = names or {}
    found: dict[str, list[str]] = {}
    warnings = []
    for number, line in enumerate(editor_lines(text), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        written, tab, items = line.partition("\t")
        if not tab or not written.strip():
            warnings.append(f"line {number}: expected a term, a tab and its words, got {line.strip()[:60]!r}")
            continue
        term = terms.get(lookup_key(written))
        if term is None:
            warnings.append(f"line {number}: {written.strip()!r} is not a term of the glossary")
            continue
        found.setdefault(term, []).extend(
            i.strip() for i in items.split(SEPARATOR)
            if i.strip() and term in names.get(lookup_key(i), {term}))
    return {term: " ; ".join(items) for term, items in found.items() if items}, warnings
