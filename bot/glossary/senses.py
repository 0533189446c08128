"""Names the glossary uses in a sense other than the one people usually mean by them.

The glossary's "AI" is arithmetic intensity and its "SVD" Stable Video Diffusion, while a learner
typing "what is AI" or "svd" most likely means artificial intelligence or singular value
decomposition. A lookup by such a name still answers with the glossary's entry (it is the one the
glossary has), and says which sense it is: "In this glossary, “AI” is AI (arithmetic intensity),
not artificial intelligence, which it has no entry for." When another entry covers the other
sense ("token": Tokenizer), the reply names it and offers it beside the answer; and when the words
after the name read in that sense rather than the glossary's ("what's a PRM in math reasoning",
"a kernel in a CNN"), that entry is the answer, the glossary's own beside it (lookup.py, SWAP_MARGIN).

They live beside the glossary, in `<glossary name>.senses.tsv` (data/glossary.senses.tsv for the
bundled one). A line: the term as the glossary writes it, the name as typed, the other sense, and
the term of the entry that covers that sense or nothing, separated by tabs; `#` starts a comment.
A line the glossary cannot honour (a term or name it does not have, a name of several entries, a
line repeated) is skipped with a warning in the log, and `glossary-bot check` lists it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from .parse import editor_lines, read_beside, warn_beside
from .store import GlossaryIndex
from .terms import lookup_key

log = logging.getLogger(__name__)

SUFFIX = ".senses.tsv"


@dataclass(frozen=True)
class OtherSense:
    name: str  # as the file writes it: "AI"
    meaning: str  # the sense people usually mean: "artificial intelligence"
    entry_id: int | None  # the entry that covers that sense, if the glossary has one


Senses = dict[tuple[int, str], OtherSense]  # (entry id, lookup key of the name) → the other sense


def senses_path(glossary_path: Path) -> Path:
    return Path(glossary_path).with_suffix(SUFFIX)


def parse_senses(text: str, index: GlossaryIndex) -> tuple[Senses, list[str]]:
    """(the senses, problems as "line N: …") for a senses file's text, resolved against the index."""
    def entry_id(term: str) -> int | None:
        entry = index.entry_named(term)
        return entry.id if entry is not None else None

    return resolve(text, entry_id, lambda key: index.by_key.get(key, ()))


def resolve(text: str, entry_id: Callable[[str], int | None],
            named: Callable[[str], Iterable[int]]) -> tuple[Senses, list[str]]:
    """`parse_senses` for any glossary: `entry_id` of a term as written, the entries a name's lookup
    key `named` (`glossary-bot check` runs it on the parsed text, before any index exists)."""
    senses: Senses = {}
    problems: list[str] = []
    seen: dict[tuple[int, str], int] = {}
    for number, line in enumerate(editor_lines(text), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = [f.strip() for f in line.split("\t")]
        term, name, meaning, other = (fields + ["", "", "", ""])[:4]
        entry, other_entry = entry_id(term), entry_id(other) if other else None
        key = lookup_key(name)
        answers = list(named(key))
        if not (term and name and meaning) or len(fields) > 4:
            problems.append(f"line {number}: expected a term, a name, its other sense and maybe the term "
                            "of the entry for it, tab-separated")
        elif entry is None:
            problems.append(f"line {number}: {term!r} is not a term of the glossary")
        elif entry not in answers:
            problems.append(f"line {number}: the glossary does not answer {name!r} with {term!r}")
        elif len(answers) > 1:
            problems.append(f"line {number}: {name!r} names {len(answers)} entries, and a note shows only "
                            "under an answer of one")
        elif other and other_entry is None:
            problems.append(f"line {number}: {other!r} is not a term of the glossary")
        elif other_entry == entry:
            problems.append(f"line {number}: the other sense's entry is {term!r} itself")
        elif (entry, key) in seen:
            problems.append(f"line {number}: {name!r} for {term!r} is already on line {seen[entry, key]}")
        else:
            seen[entry, key] = number
            senses[(entry, key)] = OtherSense(name, meaning, other_entry)
    return senses, problems


def read(glossary_path: Path) -> tuple[str, str | None]:
    """(the senses file's text, why it could not be read); "" and no problem when there is none."""
    return read_beside(senses_path(glossary_path), "notes on other senses")


def read_senses(glossary_path: Path, index: GlossaryIndex) -> Senses:
    """The senses beside a glossary; none (and a warning) when the file is missing parts or unreadable."""
    text, unreadable = read(glossary_path)
    senses, problems = parse_senses(text, index)
    warn_beside(log, senses_path(glossary_path).name, unreadable, problems)
    return senses


def sense_note(sense: OtherSense, term: str, other_term: str | None) -> str:
    """The line a reply shows under an entry answered by a name with another sense."""
    # "“rank” is rank" says nothing: when the entry is the name itself, the note says "this entry".
    meant = "this entry" if lookup_key(term) == lookup_key(sense.name) else term
    note = f"In this glossary, “{sense.name}” is {meant}, not {sense.meaning}"
    return f"{note}; for that, see {other_term}." if other_term else f"{note}, which it has no entry for."


def other_sense_note(sense: OtherSense, term: str, definition: str) -> str:
    """The line under the entry of a name's other sense, answered because the question reads in
    that sense ("what's a PRM in math reasoning": Process reward model); `term` and `definition`
    are the entry the glossary calls by the name."""
    what = " ".join(definition.split("\n", 1)[0].split(" — ", 1)[0].split())
    what = what if len(what) <= 80 else what[:79].rsplit(" ", 1)[0] + "…"
    own = term if lookup_key(term) != lookup_key(sense.name) else f"{term} ({what})"
    return f"“{sense.name}” read here as {sense.meaning}; the glossary's own “{sense.name}” is {own}."
