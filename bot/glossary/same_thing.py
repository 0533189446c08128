"""Entries the glossary defines apart that are one thing, one a kind of the other, or so close
that a definition of one would pass for the other.

A quiz must never offer two of them in one question: a learner who picks "Tool call" for "the
mechanism by which a model uses a tool…" (Function calling) is marked wrong for a right answer.
And someone reading one of them wants the other first among its related terms.

Most such pairs the glossary's own text shows, and they are read from it:
- two entries that share a name: Swish is "also called SiLU", the name of another entry;
- a definition calling one "another name for" or "the same as" the other;
- a name that is another entry's with words before it: "Sentence embedding" is an Embedding,
  "Outcome reward model" a Reward model (a kind: quiz only, see below);
- a definition whose opening phrase, what the entry is, names another entry: "LoRA with the
  frozen base model…" (QLoRA), "Adam optimizer with…" (AdamW), "A GAN that…" (a kind: quiz only).
The closeness of the two definitions' vectors does not tell them: the 16 pairs a QA pass found
lie at cosines 0.31–0.60 (one at 0.92), where most entries have their nearest neighbours. A floor
at 0.55 would catch 6 of them and take the best distractor from 23% of the askable entries; at
0.50, 8 of them and 39% (quiz.NEAR_DUPLICATE keeps only near-copies apart).

The pairs the text does not show ("matmul" and "GEMM", the same operation) are listed beside the
glossary, in `<glossary name>.same-thing.tsv` (data/glossary.same-thing.tsv for the bundled one).
A line: a term as the glossary writes it, how it relates to the other ("same as", "kind of",
"close to"), the other's term, and why, separated by tabs; `#` starts a comment. A line the
glossary cannot honour (a term it does not have, an unknown relation, a pair listed twice) is
skipped with a warning in the log, and `glossary-bot check` lists it.

The related terms lead with the pairs a reader can trust: shared names, "another name for" and
the listed ones. The kinds read from names and opening phrases are only kept apart in a quiz:
an everyday name reads as another sense often enough ("Constitutional AI" is no kind of
arithmetic intensity, the glossary's AI), and leaving out a distractor costs nothing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from functools import cached_property
from pathlib import Path

from .index import lead_sentence
from .parse import editor_lines, read_beside, warn_beside
from .store import GlossaryIndex
from .terms import TermSpotter, coined, lookup_key

log = logging.getLogger(__name__)

SUFFIX = ".same-thing.tsv"
SAME, KIND, CLOSE = "same as", "kind of", "close to"
RELATIONS = (SAME, KIND, CLOSE)
# What the related terms say of the other entry, from the one shown: (for the first term of a
# line, for the second). For the line "DDPM, kind of, Diffusion model": under DDPM, Diffusion
# model is its broader term; under Diffusion model, DDPM is a kind of it.
REASONS = {SAME: ("same thing", "same thing"), KIND: ("a broader term", "a kind of this term"),
           CLOSE: ("nearly the same", "nearly the same")}

# "just another name for Swish" (SiLU), "the same function as …": the name right after is the entry itself.
_SAME_AS = re.compile(r"\b(?:another name for|(?:exactly |just )?the same (?:thing |function |operation )?as"
                      r"|synonym (?:for|of))\s+(?:the\s+)?[\"“]?([^.;:)(—–\"”]{2,60})", re.IGNORECASE)
_SAME_AS_WORDS = ("another name for", "the same ", "synonym ")  # what every _SAME_AS match holds
# Where what an entry is ends in its opening sentence: a relative clause, a preposition that
# starts what it does, or punctuation ("A GAN | that is told…", "LoRA | with the frozen…").
_WHAT_IT_IS_ENDS = re.compile(
    r"\s(?:that|which|who|whom|whose|where|when|while|used|for|to|in|on|by|from|with|at|into|so|than|like)\s"
    r"|[,;:(]|\.(?:\s|$)|\s[—–]\s", re.IGNORECASE)
_EXPANSION_WORDS = 8  # "Denoising Diffusion Probabilistic Models — the …": a spelled-out name before the dash


def same_thing_path(glossary_path: Path) -> Path:
    return Path(glossary_path).with_suffix(SUFFIX)


Pair = tuple[int, str, int]  # (entry id, relation, other entry id), as a line of the file says it


def resolve(text: str, entry_id: Callable[[str], int | None]) -> tuple[list[Pair], list[str]]:
    """(the pairs, problems as "line N: …") of a same-thing file's text, `entry_id` giving the
    entry of a term as written (`glossary-bot check` runs it on the parsed text, before any index)."""
    pairs: list[Pair] = []
    problems: list[str] = []
    seen: dict[frozenset[int], int] = {}
    for number, line in enumerate(editor_lines(text), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = [f.strip() for f in line.split("\t")]
        term, relation, other = (fields + ["", "", ""])[:3]
        first, second = entry_id(term), entry_id(other)
        if not (term and relation and other) or len(fields) > 4:
            problems.append(f"line {number}: expected a term, {', '.join(RELATIONS[:-1])} or {RELATIONS[-1]}, "
                            "another term and maybe why, tab-separated")
        elif relation not in RELATIONS:
            problems.append(f"line {number}: {relation!r} is no relation; write {', '.join(map(repr, RELATIONS))}")
        elif first is None or second is None:
            problems.append(f"line {number}: {term if first is None else other!r} is not a term of the glossary")
        elif first == second:
            problems.append(f"line {number}: {term!r} is listed with itself")
        elif frozenset((first, second)) in seen:
            problems.append(f"line {number}: {term!r} and {other!r} are already on line "
                            f"{seen[frozenset((first, second))]}")
        else:
            seen[frozenset((first, second))] = number
            pairs.append((first, relation, second))
    return pairs, problems


def parse_same_things(text: str, index: GlossaryIndex) -> tuple[list[Pair], list[str]]:
    """`resolve` against a built index."""
    def entry_id(term: str) -> int | None:
        entry = index.entry_named(term)
        return entry.id if entry is not None else None

    return resolve(text, entry_id)


def read(glossary_path: Path) -> tuple[str, str | None]:
    """(the same-thing file's text, why it could not be read); "" and no problem when there is none."""
    return read_beside(same_thing_path(glossary_path), "its list of entries for the same thing")


def read_same_things(glossary_path: Path, index: GlossaryIndex) -> SameThings:
    """The pairs the glossary's text shows, and those listed beside it (none, with a warning, from
    a file that cannot be read; a line that cannot be used is skipped with a warning)."""
    text, unreadable = read(glossary_path)
    pairs, problems = parse_same_things(text, index)
    warn_beside(log, same_thing_path(glossary_path).name, unreadable, problems)
    return SameThings(index, pairs)


class SameThings:
    """Which entries are the same thing as, a kind of, or too close to which, for one index.
    Read from the index when first asked (a searcher that is never asked for related terms, as
    on the benchmark's largest glossary, never pays for it)."""

    def __init__(self, index: GlossaryIndex, listed: list[Pair] | tuple[Pair, ...] = ()):
        self.index = index
        self.listed = tuple(listed)

    def leading(self, entry_id: int) -> dict[int, str]:
        """The entries to show first among this one's related terms, each with what it is to it."""
        return self._trusted.get(entry_id, {})

    def too_close(self, entry_id: int) -> set[int]:
        """Every entry that may not share a quiz question with this one."""
        return set(self._trusted.get(entry_id, ())) | self._kinds.get(entry_id, set())

    @cached_property
    def _trusted(self) -> dict[int, dict[int, str]]:
        reasons: dict[int, dict[int, str]] = {}

        def add(first: int, relation: str, second: int) -> None:
            there, back = REASONS[relation]
            reasons.setdefault(first, {}).setdefault(second, there)
            reasons.setdefault(second, {}).setdefault(first, back)

        for first, relation, second in self.listed:  # first: the author's word wins
            add(first, relation, second)
        for ids in self.index.by_key.values():
            for first in ids:
                for second in ids:
                    if first != second:
                        add(first, SAME, second)
        for first, second in self._called_the_same():
            add(first, SAME, second)
        return reasons

    def _called_the_same(self) -> list[tuple[int, int]]:
        spotter = self._spotter
        found = []
        for entry in self.index.entries.values():
            lowered = entry.definition.lower()  # (plain lookups first: the regex on every definition cost 10 ms)
            if not any(word in lowered for word in _SAME_AS_WORDS):
                continue
            for match in _SAME_AS.finditer(entry.definition):
                key = spotter.name_at_start(match.group(1))
                found += [(entry.id, other) for other in self.index.by_key.get(key or "", ()) if other != entry.id]
        return found

    @cached_property
    def _spotter(self) -> TermSpotter:
        return TermSpotter(self.index.by_key)

    @cached_property
    def _kinds(self) -> dict[int, set[int]]:
        """Both ways, the kinds the names and opening phrases tell (quiz only)."""
        kinds: dict[int, set[int]] = {}
        for entry in self.index.entries.values():
            for broader in self._named_kind_of(entry.id) | self._said_kind_of(entry.id):
                if broader != entry.id:
                    kinds.setdefault(entry.id, set()).add(broader)
                    kinds.setdefault(broader, set()).add(entry.id)
        return kinds

    def _named_kind_of(self, entry_id: int) -> set[int]:
        """Entries whose name ends this one's, after words of its own: "Sentence embedding" is an
        Embedding, "Tail latency" a Latency. A coined name counts only as written: AdaLN-Zero
        is no kind of ZeRO."""
        term = self.index.entries[entry_id].term
        words = lookup_key(re.sub(r"\s*\([^()]*\)$", "", term)).split()
        found = set()
        for start in range(1, len(words)):
            for other in self.index.by_key.get(" ".join(words[start:]), ()):
                names = [a for a in self.index.entries[other].aliases if lookup_key(a) == " ".join(words[start:])]
                if all(coined(n) and n not in term for n in names):
                    continue
                found.add(other)
        return found

    def _said_kind_of(self, entry_id: int) -> set[int]:
        """Entries named in the phrase that opens this one's definition, what it is: "LoRA with the
        frozen base model…" (QLoRA), "A VAE variant…", "Adam optimizer with…"."""
        phrase = what_it_is(self.index.entries[entry_id].definition)
        return {other for mention in self._spotter.spot(phrase) for other in self.index.by_key.get(mention.key, ())}


def what_it_is(definition: str) -> str:
    """The phrase opening a definition that says what its entry is, after a spelled-out name:
    "A GAN" of "A GAN that is told which kind…", "the foundational 2020 paper and recipe" of
    "Denoising Diffusion Probabilistic Models — the foundational 2020 paper and recipe that…"."""
    phrase = lead_sentence(definition)
    expansion, dash, rest = phrase.partition(" — ")
    if dash and len(expansion.split()) <= _EXPANSION_WORDS:
        phrase = rest
    end = _WHAT_IT_IS_ENDS.search(phrase)
    return (phrase[: end.start()] if end else phrase).strip()
