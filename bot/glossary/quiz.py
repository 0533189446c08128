"""Quiz questions made from the glossary: "which term is this?" (a definition with its names
masked, four terms to pick from) and "what does X mean?" (four definitions).

Distractors are plausible but wrong: the entries nearest in meaning to the answer (stored
vectors, no model call), never one that shares a name with it or that is the same thing, a kind
of it or too close to it (same_thing.py), one a "see" reference joins to it, one so close that
its definition would also fit (NEAR_DUPLICATE), nor one the question itself names: an entry the
"which term" clue names, or one whose "what does X mean" option names X. (An entry whose
definition only mentions the answer is a fair option in the other kind of question: Adapter
and Multi-LoRA beside LoRA, TGI beside vLLM, not Reciprocal rank fusion and Indexing.)
Entries too thin to quiz on (bare abbreviations, one-line stubs) are not asked. A "which term"
clue hides what would name its answer: the term and its aliases (plurals, inside snake_case
names, a longer one inside any word: "StyleGAN2"), the words of the term few other definitions
use and the pieces of a hyphenated name ("needle" of Needle-in-a-haystack), in any of their forms
("detokenizer" of Detokenization), another entry's coined name inside the answer's ("LoRA" in
QLoRA), a leading spelled-out form ("Forward / Inverse Kinematics — …") and a spelled-out name in
parentheses. An entry whose clue is a stub once that is hidden is not asked.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass

import numpy as np

from .same_thing import SameThings, what_it_is
from .store import GlossaryIndex, StoredEntry
from .terms import STOPWORDS, coined, lookup_key, stem

TERM, MEANING = "term", "meaning"
KINDS = (TERM, MEANING)
OPTIONS = 4
# Definitions shorter than this are stubs ("Short for X.") that give nothing to recognise.
MIN_DEFINITION_CHARS = 80
# Cosine of two entries' vectors above which one's definition would also fit the other. From
# the glossary itself: its "see" references (the author saying "this overlaps that") reach
# 0.80 and entries sharing a name 0.63–0.88; the one unlinked pair above 0.85 is Activation
# vs Gradient checkpointing, the same thing twice. Linked pairs are excluded whatever their cosine.
NEAR_DUPLICATE = 0.80
# Distractors are drawn from the nearest allowed entries, this many of them: close enough to
# be plausible, enough of them that the same question rarely repeats its options.
DISTRACTOR_POOL = 8
# An entry of the answer's own kind of thing is the harder distractor: asked about vLLM ("The
# reference open-source inference engine"), another engine is a lure where a scheduler is not.
# This is added to the cosine of an entry of the answer's kind (kind_of_thing): on the shipped
# glossary, where 95 of 576 askable entries have a known kind, it took the share of their
# distractors of that kind from 20% to 39%, while the mean cosine of all distractors to their
# answer went from 0.379 to 0.378.
SAME_KIND = 0.08
# Head nouns of what a definition says its entry is, by broad kind; a generic one ("A way to…",
# "A technique") or one of two kinds ("architecture": a network's or a GPU's) says nothing.
_KINDS_OF_THING = {
    "software": "library framework engine runtime tool toolkit package compiler backend server api command "
                "launcher stack profiler",
    "evaluation": "benchmark dataset suite leaderboard test corpus arena",
    "metric": "metric score measure",
    "model": "model network transformer gan vae autoencoder cnn llm vlm encoder decoder",
    "optimizer": "optimizer",
    "function": "function operation",
    "format": "format",
}
_KIND_OF_HEAD = {head: kind for kind, heads in _KINDS_OF_THING.items() for head in heads.split()}
_DETERMINERS = frozenset("a an the one".split())
MASK = "▁▁▁"
# A word of a term used by this many definitions or fewer is as good as its name in a clue.
DISTINCTIVE_USES = 8
# A name this long is its own giveaway inside another word; capitals-only names count from 3 ("GLU").
INSIDE_A_WORD = 5
_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")
_PART = re.compile(r"[^\W_\d]+")  # a piece of a word: "needle" of "Needle-in-a-haystack", "gram" of "3-gram"
MIN_STEMMED = 5  # a one-word term this long is hidden in its other forms too ("detokenizer")
_COMMON = frozenset("the and for with from into model models network data".split())
# "Short for X — …", "Short for "X", …": the expansion up to the first dash, comma, colon or sentence end.
_SHORT_FOR = re.compile(r"\s*Short for\s+(?:\"[^\"\n]{1,100}\"|[^,;:—–\n]{1,100}?)\s*(?:[,;:—–]|\.\s)\s*",
                        re.IGNORECASE)
_SPELLED_OUT = re.compile(re.escape(MASK) + r"\s*\(([^()\n]{1,100})\)")
_NAMING_WORDS = frozenset("a also an and as called for in known of on or short the to with".split())


def _a_name(text: str) -> bool:
    """Whether a parenthesis holds another name ("Frame Interpolation for Large Motion", "also
    called the ▁▁▁") rather than a remark ("e.g. 0.2", "such as PixelCNN")."""
    words = [w for w in text.replace(MASK, " ").split() if w.casefold() not in _NAMING_WORDS]
    return all(w[0].isupper() for w in words)


@dataclass(frozen=True)
class Question:
    kind: str
    answer: int                # entry id
    options: tuple[int, ...]   # entry ids, in the order shown

    @property
    def correct(self) -> int:
        """Index of the answer among the options."""
        return self.options.index(self.answer)


class QuizMaker:
    """Questions for one loaded index; everything is computed from stored data."""

    def __init__(self, index: GlossaryIndex, same_things: SameThings | None = None):
        """`same_things`: the pairs read from the index and listed beside the glossary
        (same_thing.read_same_things); by default only those read from the index."""
        self.index = index
        self.same_things = same_things or SameThings(index)
        self.ids = [int(e) for e in index.entry_ids]
        self.position = {entry_id: pos for pos, entry_id in enumerate(self.ids)}
        self.vectors = index.vectors["full"]
        long_enough = [e for e in self.ids if len(index.entries[e].definition) >= MIN_DEFINITION_CHARS]
        # How many definitions use each word: a word of a term few others use is part of its name
        # for a quiz ("Perceiver" of Perceiver IO, "inversion" of GAN inversion).
        used: Counter[str] = Counter()
        for entry in index.entries.values():
            used.update({w.casefold() for w in _WORD.findall(entry.definition)})
        inside = self._coined_names_inside()
        self._masks = {e: _name_pattern(index.entries[e], used, inside.get(e, ())) for e in self.ids}
        self._stems = {e: _name_stems(index.entries[e], used) for e in self.ids}
        self._masked: dict[int, str] = {}  # masked_definition's, made once: a question shows four
        # …counted as the clue shows it: "Exponential moving average of model weights; samples better
        # than the live weights" is "▁▁▁; samples better than the live weights" with its name hidden
        self.askable = [e for e in long_enough
                        if len(self.masked_definition(e).replace(MASK, "").strip(" —–-:;,.")) >= MIN_DEFINITION_CHARS]
        self._askable = set(self.askable)
        self._kinds_of_thing = np.array([kind_of_thing(index.entries[e].definition) for e in self.ids])
        self._keyed: dict[int, str] = {}
        # Each question draws from its answer's pool: made once here, as the clues are, a question
        # costs a sample.
        self._pools = self._distractor_pools()

    def _coined_names_inside(self) -> dict[int, list[str]]:
        """Per entry, other entries' coined names inside its own ("LoRA" in QLoRA, "StyleGAN" in
        StyleGAN2): "LoRA with a 4-bit base" names QLoRA when LoRA, linked to it, is never an option."""
        names = {}
        for entry in self.index.entries.values():
            for name in (entry.term, *entry.aliases):
                if len(name) >= 3 and coined(name):
                    names.setdefault(name.casefold(), name)
        inside: dict[int, list[str]] = {}
        for entry in self.index.entries.values():
            own = {n.casefold() for n in (entry.term, *entry.aliases)}
            term = entry.term.casefold()
            found = {names[term[i:j]] for i in range(len(term)) for j in range(i + 3, min(len(term), i + 40) + 1)
                     if term[i:j] in names and term[i:j] not in own}
            if found:
                inside[entry.id] = sorted(found)
        return inside

    # -- choosing ---------------------------------------------------------------------

    def excluded(self, entry_id: int, kind: str | None = None) -> set[int]:
        """Entries that may never be a distractor for this one in a question of `kind` (None: in
        either kind)."""
        index = self.index
        out = {entry_id, *self.same_things.too_close(entry_id)}  # a shared name too
        out.update(link.entry_id for link in index.links_to.get(entry_id, ()) if link.kind == "see")
        # "see" references from it too, and, as its "which term" clue names every entry its
        # definition does, any of those, which the clue would rule out
        out.update(link.entry_id for link in index.links_from.get(entry_id, ())
                   if link.kind == "see" or kind != MEANING)
        if kind != TERM:
            out.update(self._options_naming(entry_id))
        return out

    def _options_naming(self, entry_id: int) -> set[int]:
        """Entries whose "what does X mean" option, masked, still names this one: asked what
        Activations means, "…computes each layer's activation scale at runtime" (Dynamic
        quantization) is ruled out by its wording alone."""
        names = [f" {lookup_key(name)} " for name in self.index.entries[entry_id].aliases]
        return {link.entry_id for link in self.index.links_to.get(entry_id, ())
                if link.entry_id in self._askable and any(n in self._option_words(link.entry_id) for n in names)}

    def _option_words(self, entry_id: int) -> str:
        """An entry's masked definition as lookup keys are written (" the kv cache of … "), to
        find a name in as a run of whole words."""
        words = self._keyed.get(entry_id)
        if words is None:
            words = self._keyed[entry_id] = f" {lookup_key(self.masked_definition(entry_id))} "
        return words

    def distractors(self, entry_id: int, rng: random.Random, count: int = OPTIONS - 1,
                    kind: str | None = None) -> list[int]:
        """`count` entries close in meaning to this one that are not it and could not pass for it,
        for a question of `kind` (None: fit for either)."""
        pool = self._pools.get((entry_id, kind))
        if pool is None or len(pool) < count:  # an entry not asked (or a count above the pool's)
            pool = self._nearest_allowed(entry_id, kind, self.vectors @ self.vectors[self.position[entry_id]], count)
        return rng.sample(pool, min(count, len(pool)))

    def _distractor_pools(self) -> dict[tuple[int, str], list[int]]:
        rows = self.vectors[[self.position[e] for e in self.askable]] @ self.vectors.T
        return {(entry_id, kind): self._nearest_allowed(entry_id, kind, cosine)
                for entry_id, cosine in zip(self.askable, rows) for kind in KINDS}

    def _nearest_allowed(self, entry_id: int, kind: str, cosine: np.ndarray, count: int = OPTIONS - 1) -> list[int]:
        """The askable entries nearest this one (its `cosine` with every entry) that may be its
        distractors, those of its kind of thing a little nearer."""
        banned = self.excluded(entry_id, kind)
        own = self._kinds_of_thing[self.position[entry_id]]
        nearness = cosine + SAME_KIND * (self._kinds_of_thing == own) if own else cosine
        pool = []
        for pos in np.argsort(-nearness, kind="stable"):
            other = self.ids[int(pos)]
            if other in banned or other not in self._askable or cosine[pos] >= NEAR_DUPLICATE:
                continue
            pool.append(other)
            if len(pool) == max(DISTRACTOR_POOL, count):
                break
        return pool

    def question(self, rng: random.Random, kind: str | None = None, entry_id: int | None = None,
                 avoid: Collection[int] = ()) -> Question:
        """A question about `entry_id` (default: a random askable entry not in `avoid`, the ones
        just asked), of `kind` (default: either)."""
        kind = kind or rng.choice(KINDS)
        if kind not in KINDS:
            raise ValueError(f"unknown question kind {kind!r}")
        if entry_id is not None:
            answer = entry_id
        else:
            avoid = set(avoid)
            fresh = [e for e in self.askable if e not in avoid] if avoid else self.askable
            answer = rng.choice(fresh or self.askable)
        options = [answer, *self.distractors(answer, rng, kind=kind)]
        rng.shuffle(options)
        return Question(kind, answer, tuple(options))

    # -- wording ----------------------------------------------------------------------

    def masked_definition(self, entry_id: int) -> str:
        """The definition with the entry's own names blanked out, and what spells them out too: a
        leading "Short for …" goes whole ("Short for Heavy-Hitter Oracle, a KV cache eviction
        method" named H2O by its initials; "Short for ▁▁▁ —" said the answer is an abbreviation),
        and so does a parenthesis right after a blanked name ("▁▁▁ (Recurrent All-Pairs Field
        Transforms)")."""
        masked = self._masked.get(entry_id)
        if masked is None:
            masked = self._masked[entry_id] = self._masking(entry_id)
        return masked

    def _masking(self, entry_id: int) -> str:
        definition = self.index.entries[entry_id].definition
        short = _SHORT_FOR.match(definition)
        if short and short.end() < len(definition):
            rest = definition[short.end():]
            definition = rest[0].upper() + rest[1:]
        term = self.index.entries[entry_id].term
        lead, dash, rest = definition.partition(" — ")
        if dash and _spells(term, lead):  # "Forward / Inverse Kinematics — …" for FK / IK
            definition = f"{MASK} — {rest}"
        masked = self._masks[entry_id].sub(MASK, definition)
        stems = self._stems[entry_id]
        if stems:  # "jailbroken", "detokenizer", a "needle" of Needle-in-a-haystack: the name by another form
            masked = _PART.sub(lambda m: MASK if stem(m.group(0).casefold()) in stems else m.group(0), masked)
        return _SPELLED_OUT.sub(lambda m: MASK if _a_name(m.group(1)) else m.group(0), masked)

    def is_valid(self, question: Question) -> bool:
        """Whether a question (say, decoded from a button after a rebuild) still fits the index."""
        entries = self.index.entries
        return (question.kind in KINDS and question.answer in question.options
                and len(set(question.options)) == len(question.options)
                and all(e in entries for e in question.options))


def _name_pattern(entry: StoredEntry, used: Counter[str], inside: tuple[str, ...] | list[str] = ()) -> re.Pattern[str]:
    """The entry's term and aliases, and the words of its term few other definitions use, as
    whole words (or parts of a snake_case name: LOCAL_RANK), plurals and "-ed", "-ing" forms too
    ("whispered" gave Whisper away), longest first, any case, except a name in capitals, which is
    matched only as written: the ADD entry's name must not blank "add"."""
    names = {n for n in (entry.term, *entry.aliases, *inside) if len(n) >= 2}
    own = [w for w in _WORD.findall(entry.term) if w.casefold() not in _COMMON
           and used[w.casefold()] <= DISTINCTIVE_USES and (len(w) >= 4 or (len(w) >= 2 and w.isupper()))]
    names.update(own if len(own) < len(_WORD.findall(entry.term)) or len(own) > 1 else [])
    alternatives = "|".join(f"(?-i:{re.escape(n)})" if not any(c.islower() for c in n) else re.escape(n)
                            for n in sorted(names, key=len, reverse=True))
    # A longer name gives itself away inside another word too ("StyleGAN2", "unfrozen", "SwiGLU",
    # "spatiotemporal attention", "torch_xla"), so the whole word goes; a short one inside a word
    # is chance ("rope" in "property"), and so is one word of a name ("fusion" in "diffusion").
    inside = sorted({n for n in (entry.term, *entry.aliases) if len(n) >= INSIDE_A_WORD
                     or (len(n) >= 3 and not any(c.islower() for c in n))}, key=len, reverse=True)
    inside_alternatives = "|".join(
        f"(?-i:{re.escape(n)})|(?<=_)(?-i:{re.escape(n.lower())})" if not any(c.islower() for c in n)
        else re.escape(n) for n in inside)
    whole = rf"(?<![^\W_])(?:{alternatives})(?:e?s|e?d|ing)?(?![^\W_])"
    if inside_alternatives:
        whole = rf"[^\W_]*(?:{inside_alternatives})[^\W_]*|{whole}"
    return re.compile(whole, re.IGNORECASE)


def _name_stems(entry: StoredEntry, used: Counter[str]) -> frozenset[str]:
    """Stems of the words that would name the entry in another form: a one-word term's own
    ("Detokenization": "detokenizer"), and each piece of its names few other definitions use, a
    hyphenated name's pieces included ("needle" and "haystack" of Needle-in-a-haystack, "gram" of
    N-gram)."""
    words = _PART.findall(entry.term.split(" (")[0])
    stems = {stem(words[0].casefold())} if len(words) == 1 and len(words[0]) >= MIN_STEMMED else set()
    for name in (entry.term, *entry.aliases):
        for piece in _PART.findall(name):
            word = piece.casefold()
            if len(word) >= 3 and word.isalpha() and word not in _COMMON and word not in STOPWORDS \
                    and used[word] <= DISTINCTIVE_USES:
                stems.add(stem(word))
    pieces = {p.casefold() for name in (entry.term, *entry.aliases) for p in _PART.findall(name)}
    stems |= {stem(form) for word in pieces if stem(word) in stems for form in _irregular_forms(word)}
    return frozenset(s for s in stems if len(s) >= 3)


# Verbs whose other forms no stemmer joins to the name ("Frozen" and "freezing", "Jailbreak" and
# "jailbroken"), as a name's last word ends: each family's forms, the first its base.
_IRREGULAR = (("freeze", "froze", "frozen", "freezing"), ("break", "broke", "broken", "breaking"),
              ("write", "wrote", "written", "writing"), ("hide", "hid", "hidden", "hiding"),
              ("choose", "chose", "chosen", "choosing"), ("shrink", "shrank", "shrunk", "shrinking"),
              ("teach", "taught", "teaching"), ("feed", "fed", "feeding"), ("build", "built", "building"),
              ("draw", "drew", "drawn", "drawing"), ("take", "took", "taken", "taking"),
              ("give", "gave", "given", "giving"), ("drop", "dropped", "dropping"), ("run", "ran", "running"),
              ("spin", "spun", "spinning"), ("think", "thought", "thinking"))


def _irregular_forms(word: str) -> list[str]:
    """The other forms of a name's word that ends in an irregular verb: "jailbreak" gives
    "jailbroken", "jailbroke" …; "frozen" gives "freeze", "freezing" …"""
    for family in _IRREGULAR:
        for form in family:
            if word.endswith(form) and (word == form or len(form) >= 4):
                return [word[: len(word) - len(form)] + other for other in family if other != form]
    return []


def kind_of_thing(definition: str) -> str:
    """The broad kind of thing a definition says its entry is, by the head noun of its opening
    phrase ("The reference open-source inference engine": software), or "" when that is none of
    _KINDS_OF_THING or no noun ("Splitting a dataset…", "A way to…")."""
    words = what_it_is(definition).split(" of ")[0].split()  # "NVIDIA's optimized library of …"
    if not words or not (words[0].lower() in _DETERMINERS or words[0].endswith(("'s", "’s"))):
        return ""
    return _KIND_OF_HEAD.get(lookup_key(words[-1]), "")


def _spells(term: str, phrase: str) -> bool:
    """Whether `phrase` spells out the capitals of `term` ("Forward / Inverse Kinematics": FK / IK;
    "Activation-aware Weight Quantization": AWQ): every capital of the term starts one of its
    capitalised words."""
    capitals = {c for c in term.split(" (")[0] if c.isupper()}
    words = [w for w in re.split(r"[\s/-]+", phrase) if w]
    starts = {w[0] for w in words if w[0].isupper()}  # "A modern, royalty-free video codec" is no AV1
    return len(capitals) >= 2 and len(words) <= 8 and len(starts) >= 2 and capitals <= starts
