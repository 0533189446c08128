"""Names as people type them, without the model: which entries a text names as written, what a
"what is …" framing asks about, and which names a text is spelled like (a slip of the keyboard,
not another word). search.py decides what to answer from these.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from .normalize import framed_subject
from .store import GlossaryIndex
from .terms import TermSpotter, compact_key, content_words, lookup_key, stem

FUZZY_ANSWER = 85.0
FUZZY_SUGGEST = 75.0
# One slip of the keyboard (a letter dropped, doubled, replaced, or two neighbours swapped) is
# one edit, but fuzz.ratio scores a swap or a replaced letter as two: a slip in a name of six
# letters or fewer ("kenrel", "qlroa", "areba") fell below FUZZY_ANSWER. Every name one slip away
# scores SLIP_SCORE at least, so a slip as close to two names ("gleu": GLU or GELU) is a tie.
SLIP_SCORE = 90.0
SHORT_QUERY_WORDS = 6  # a query this short may be a name as typed: spelling match, and its near names offered
SLIP_MIN_CHARS = 4
RESPELL_MIN_CHARS = 5  # shorter words are too often one slip from some name ("step", "mode")
RESPELL_ALONE_CHARS = 6  # a name of one word is respelled to only this long ("volts" is no slip of Volta)
_RESPELL_WORD = re.compile(r"(?<![\w./\\-])[A-Za-z]{%d,}(?![\w./\\-])" % RESPELL_MIN_CHARS)  # not in identifiers or paths
RARE_NAME_DEFINITIONS = 15  # a name in at most this many definitions is a proper name, not a word of the trade
SLIP_GATE = 60.0  # a slip leaves a name at least this close by plain similarity ("bisaes": Biases 67)
_UNKNOWN = object()

# What joins a second name to a framed one: "what is LoRA and QLoRA", "… vs RMSNorm".
_COMPARING = re.compile(r"(?:^|\s)(?:and|or|vs\.?|versus|but|compared to|&)\s", re.IGNORECASE)


def _one_letter_more_or_less(typed: str, name: str) -> bool:
    """Whether `typed` is `name` with one letter added that repeats neither of its neighbours, or with
    one letter dropped: for a short name, another word more often than a slip ("elbow", "gpt")."""
    if len(typed) == len(name) - 1:
        return any(name[:i] + name[i + 1:] == typed for i in range(len(name)))
    if len(typed) != len(name) + 1:
        return False
    for i, ch in enumerate(typed):
        if typed[:i] + typed[i + 1:] == name:
            return ch not in typed[max(i - 1, 0):i] + typed[i + 1:i + 2]
    return False


def _name_and_another_word(typed: str, name: str) -> bool:
    """Whether `typed` is `name` run together with a word of its own ("streamingllm" is StreamingLLM,
    a method, not Streaming): three letters or more, where a slip adds one or two and a version adds
    digits ("flashattention2")."""
    for extra in (typed[len(name):] if typed.startswith(name) else "",
                  typed[:-len(name)] if typed.endswith(name) else ""):
        if sum(ch.isalpha() for ch in extra) >= 3 and extra.rstrip("s") not in ("", "e", "ing", "ed"):
            return True
    return False


def _letter_before(typed: str, name: str) -> bool:
    """Whether `typed` is a name of four letters or more with one letter put before it that is not its
    first letter doubled: a prefix makes another name (RAdam and NAdam are not Adam), a finger
    seldom adds a letter in front."""
    return (len(name) >= 4 and len(typed) == len(name) + 1 and typed.endswith(name)
            and typed[0].isalpha() and typed[0] != name[0])


def _english(word: str, english: Collection[str]) -> bool:
    """Whether a word is in `english`, or its plural or -ed/-ing form is ("startups", "volts")."""
    return word in english or any(word.endswith(end) and word[: -len(end)] in english
                                  for end in ("s", "es", "ed", "d", "ing"))


def _version_apart(typed: str, name: str) -> bool:
    """Whether `typed` and `name` differ by one digit, replaced, or added to or dropped from a name with
    a version in it: another version ("imagen 2" is not Imagen 3, "dall e 2" not DALL·E 3), not a
    slip. A number after a name without one is its setting, not a version ("top_k=1": Top-k)."""
    if len(typed) == len(name):
        differ = [(a, b) for a, b in zip(typed, name) if a != b]
        return len(differ) == 1 and any(ch.isdigit() for ch in differ[0])
    if not any(ch.isdigit() for ch in name):
        return False
    longer, shorter = (typed, name) if len(typed) > len(name) else (name, typed)
    return len(longer) == len(shorter) + 1 and any(
        longer[i].isdigit() and longer[:i] + longer[i + 1:] == shorter for i in range(len(longer)))


_KEY_AT = {ch: (row, col + shift) for row, (keys, shift) in
           enumerate((("qwertyuiop", 0.0), ("asdfghjkl", 0.25), ("zxcvbnm", 0.75))) for col, ch in enumerate(keys)}


def _keys_apart(a: str, b: str) -> bool:
    """Whether two letters are not neighbours on a QWERTY keyboard (a finger slips to a neighbour)."""
    if a not in _KEY_AT or b not in _KEY_AT:
        return True
    (row_a, x_a), (row_b, x_b) = _KEY_AT[a], _KEY_AT[b]
    return abs(row_a - row_b) > 1 or abs(x_a - x_b) > (1.0 if row_a == row_b else 0.75)


def _one_letter_replaced_far(typed: str, name: str) -> bool:
    """Whether `typed` is `name` with one letter replaced by one no neighbour of it on the keyboard:
    for a short acronym, another name more often than a slip ("dora" is DoRA, not LoRA; "orpo" ORPO)."""
    if len(typed) != len(name):
        return False
    differ = [(a, b) for a, b in zip(typed, name) if a != b]
    return len(differ) == 1 and _keys_apart(*differ[0])


# A thing an entry's name qualifies (Names.names_a_kind) is written in at most this many words after it.
KIND_MAX_WORDS = 2
_PLAIN_WORDS = re.compile(r"[\w-]+(?: [\w-]+)*")


class Names:
    """The glossary's terms and aliases as a text may name them."""

    def __init__(self, index: GlossaryIndex, spotter: TermSpotter):
        self.index = index
        self.spotter = spotter
        self.rows = [(entry_id, alias, key) for entry_id, alias, key, _c, _s in index.alias_rows]
        self._keys = [key for _e, _a, key in self.rows]
        self._alias_text = {(entry_id, key): alias for entry_id, alias, key in self.rows}
        self._keys_of: dict[int, list[str]] = {}  # an entry's name keys: a lookup, not a scan of every row
        for entry_id, _alias, key in self.rows:
            self._keys_of.setdefault(entry_id, []).append(key)
        self.name_words = frozenset(word for key in self._keys for word in key.split())  # of every term and alias
        self._respell_to: dict[int, list[str]] = {}  # name words a misspelt word may be, by length
        for word in self.name_words:
            if len(word) >= RESPELL_MIN_CHARS and word.isalpha():
                self._respell_to.setdefault(len(word), []).append(word)
        self._framed: dict[str, str | None] = {}

    def framed(self, query: str) -> str | None:
        """What a "what is …" framing asks about, cut at "in", "for", "and" … ("what is LoRA in
        simple terms" → "LoRA"), unless what follows the cut asks about something else."""
        known = self._framed.get(query, _UNKNOWN)  # one read: another thread may clear it meanwhile
        if known is not _UNKNOWN:
            return known
        whole, cut = framed_subject(query, whole_sentence=True), framed_subject(query)
        if cut and whole and cut != whole and self._asks_elsewhere(whole[len(cut):]):
            cut = None  # "what is LoRA vs QLoRA?" is not a question about LoRA alone
        # One /ask asks it of the same text a few times. Only its last few texts are kept (as for
        # terms.lookup_key): the bench's repeated rounds must find none of a round before's.
        if len(self._framed) >= 32:
            self._framed.clear()
        self._framed[query] = cut
        return cut

    def subjects(self, query: str) -> list[str]:
        """The words a spelling match compares with names: what a framing asks about, and the whole
        framed sentence for a name that holds "and", "in" … ("what is Preicsion and recall")."""
        whole = framed_subject(query, whole_sentence=True)
        if whole is None:
            return [query]
        return list(dict.fromkeys(s for s in (self.framed(query), whole) if s))

    def _asks_elsewhere(self, rest: str) -> bool:
        """Whether the rest of a framed subject moves the question off the entry the subject names:
        it compares ("… and qlora", "… vs RMSNorm"), holds a word the glossary never uses ("what is
        attention in psychology", "a seed for my garden")."""
        joined = _COMPARING.search(rest)
        if joined is not None and self.in_text(rest[joined.end():]):
            return True
        # Only the phrase right after the name qualifies it: "what is quantization for llms, why does it
        # save vram" is about quantization, whatever words the glossary lacks further on.
        qualifier = " ".join(re.split(r"[,:(]", rest, maxsplit=1)[0].split()[:4])
        return self.misspelt(qualifier)

    def exactly(self, text: str) -> list[int]:
        """The entries the whole text is a term or alias of, as written or without its spaces."""
        return self.index.by_key.get(lookup_key(text)) or self.index.by_compact.get(compact_key(text)) or []

    def in_text(self, text: str) -> set[int]:
        """The entries whose term or alias the text holds as written."""
        return {i for m in self.spotter.spot(text) for i in self.index.by_key.get(m.key, ())}

    def spelled_like(self, query: str, limit: int, *, strict: bool = False) -> list[tuple[int, float, str]]:
        """(entry id, similarity 0–100, the name key it matched), best first; `strict`: only names
        that may stand for the query (_spelled_closely)."""
        best: dict[int, tuple[float, str]] = {}
        for subject in self.subjects(query):
            for entry_id, score, name in self._spelled_like_text(subject, limit):
                # Below FUZZY_SUGGEST a match is neither offered nor close enough to tie with an answer.
                if strict and (score < FUZZY_SUGGEST
                               or not self._spelled_closely(query, lookup_key(subject), entry_id, score, name)):
                    continue
                if score > best.get(entry_id, (0.0, ""))[0]:
                    best[entry_id] = (score, name)
        ranked = sorted(best.items(), key=lambda kv: -kv[1][0])[:limit]
        return [(entry_id, score, name) for entry_id, (score, name) in ranked]

    def _spelled_like_text(self, subject: str, limit: int) -> list[tuple[int, float, str]]:
        key = lookup_key(subject)
        if not key or len(key) > 80:
            return []
        matches = process.extract(key, self._keys, scorer=fuzz.ratio, limit=limit * 3)
        slips = bool(matches) and matches[0][1] >= SLIP_GATE and len(key) >= SLIP_MIN_CHARS and self.misspelt(key)
        best: dict[int, tuple[float, str]] = {}
        for name, score, pos in matches:
            entry_id = self.rows[pos][0]
            if slips and OSA.distance(key, name, score_cutoff=1) <= 1:
                score = max(score, SLIP_SCORE)
            if float(score) > best.get(entry_id, (0.0, ""))[0]:
                best[entry_id] = (float(score), name)
        for entry_id, name in self._swapped(subject) if slips else ():
            if SLIP_SCORE > best.get(entry_id, (0.0, ""))[0]:
                best[entry_id] = (SLIP_SCORE, name)
        return [(entry_id, score, name) for entry_id, (score, name) in best.items()]

    def may_be_a_name(self, query: str) -> bool:
        """Worth a spelling match: a short query, or a longer one whose "can someone explain what …
        is" asks about a few words, one of them a word the glossary never uses (a misspelling)."""
        if len(query.split()) <= SHORT_QUERY_WORDS:
            return True
        subject = framed_subject(query)
        if not subject or len(subject.split()) > 4:
            return False
        return self.misspelt(subject)

    def _spelled_closely(self, query: str, key: str, entry_id: int, score: float, name: str) -> bool:
        """Whether a name spelled like the query may stand for it. A short word is a slip of a name
        only one edit away ("epoch" is not PoC, "mamba" not ABA, "ml" not MLP), and a query whose words
        are all the glossary's own and that names other entries as written ("lora vs qlora", "bpe
        tokenization") is not a misspelling of a third ("Lorax / S-LoRA", Detokenization); one named
        entry may be part of the name ("codebook collapses"). A slip found as such ("bisaes") always may;
        a word of the glossary's with letters before a name ("diffusion": Fusion) never is one."""
        if len(key) <= 7 and score < SLIP_SCORE and OSA.distance(key, name, score_cutoff=2) > (len(key) > 2):
            return False
        if self.misspelt(key):
            return True
        if " " not in key and name in key and not key.startswith(name) and len(key) - len(name) >= 3:
            return False  # a word of the glossary's own ending in a name is another word: "diffusion", not Fusion
        named = self.in_text(query)
        if len(named) >= 2 and entry_id in named and f" {name} " in f" {key} ":
            return False  # "awq quantization" names AWQ and Quantization as written: no slip of either
        if not named or entry_id in named:
            return True
        # "bpe tokenization" names BPE and is no slip of Detokenization; "codebook collapses" names
        # Codebook, which is part of the name it is a slip of.
        return len(named) == 1 and all(self.index.term_key.get(e, "") in name for e in named)

    def written(self, entry_id: int, key: str) -> str:
        """The entry's name whose lookup key is `key`, as the glossary writes it ("LoRA" for "lora")."""
        return self._alias_text.get((entry_id, key), key)

    def another_word(self, query: str, entry_id: int, name: str) -> bool:
        """A short name one letter longer or shorter than the text is more often another word than a
        slip when it is an acronym or three letters ("elbow": ELBO, "step": STE, "gpt": GPTQ, "gems":
        GEMM, "lion": LAION, "pane": Pan), and so is a short acronym with a letter replaced by one far from it on the
        keyboard ("dora": LoRA, "orpo": GRPO), a name run together with another word ("streamingllm"),
        with a letter put before it ("radam": Adam) or a digit changed ("imagen 2": Imagen 3), and a
        word another entry's practitioner vocabulary lists ("trpo", listed under On-policy, is no slip
        of GRPO): offered ("Did you mean"), not answered."""
        written = self.written(entry_id, name)
        letters = [ch for ch in written if ch.isalnum()]
        acronym = bool(letters) and sum(ch.isupper() or ch.isdigit() for ch in letters) >= 0.6 * len(letters)
        typed = [lookup_key(s) for s in self.subjects(query)]
        if any(_version_apart(t, name) or (_letter_before(t, name) and self._rare(name)) for t in typed):
            return True
        if any(self._qualified(t, name) for t in typed):
            return True
        if self._listed_elsewhere(typed, entry_id, name):
            return True
        if acronym and len(name) <= 5 and any(_one_letter_replaced_far(t, name) for t in typed):
            return True
        if any(_name_and_another_word(t, name) for t in typed):
            return True
        return (len(name) <= 3 or (acronym and len(name) <= 5)) and any(
            _one_letter_more_or_less(t, name) for t in typed)

    def another_version(self, query: str, entry_id: int) -> bool:
        """Whether what a "what is …" framing asks about is a name of the entry with another version
        number ("Imagen 2", "DALL-E 2" against Imagen 3, DALL·E 3)."""
        subject = self.framed(query)
        if not subject or not any(ch.isdigit() for ch in subject):
            return False
        typed = lookup_key(subject)
        return any(_version_apart(typed, key) for e, _alias, key in self.rows if e == entry_id)

    def _qualified(self, typed: str, name: str) -> bool:
        """Whether the text is the name written whole beside words the glossary never uses ("fp6
        quantization", "nf4 quantization"): a kind of it the glossary may lack, not a slip of it."""
        if typed == name or f" {name} " not in f" {typed} ":
            return False
        rest = f" {typed} ".replace(f" {name} ", " ", 1).strip()
        return bool(rest) and self.misspelt(rest)

    def names_a_kind(self, subject: str, entry_id: int) -> bool:
        """Whether a framed subject is one of the entry's names written whole, then words the glossary
        never uses ("vanilla javascript", "rollout strategy kubernetes"): a thing the name qualifies,
        which the glossary may lack, not the entry itself."""
        if not _PLAIN_WORDS.fullmatch(subject.strip()):
            return False  # "scaling laws, briefly", "warp-uniform' mean": a clause, not a thing named
        typed = lookup_key(subject)
        for key in self._keys_of.get(entry_id, ()):
            rest = typed[len(key) + 1:].split() if typed.startswith(key + " ") else []
            if 1 <= len(rest) <= KIND_MAX_WORDS and all(self.misspelt(w) for w in rest):
                return True
        return False

    def _rare(self, name: str) -> bool:
        """Whether the glossary's definitions seldom use the name: a proper name (Adam, in 6), where a
        letter before it makes another name, not a word of the trade ("nsamples" is a count of samples)."""
        postings = self.index.postings(content_words(name))
        return bool(postings) and all(len(at) <= RARE_NAME_DEFINITIONS for at, _w in postings.values())

    def _listed_elsewhere(self, typed: list[str], entry_id: int, name: str) -> bool:
        """Whether a short name typed ("trpo"; a longer text's slip, "detecter", may stem to a listed
        word) is in the vocabulary of entries other than this one and not in its own: a name
        practitioners use for something else."""
        own = set(content_words(name))
        words = [w for t in typed if " " not in t and len(t) <= 6 for w in content_words(t) if w not in own]
        if not words:
            return False
        position = int(np.searchsorted(self.index.entry_ids, entry_id))  # its row: entry_ids is sorted
        return any(position not in at for at, _w in self.index.vocabulary_postings(words).values())

    def respelled(self, text: str, english: Callable[[], Collection[str]]) -> str:
        """The text with each word the glossary never uses (nor its vocabulary) that is one slip from
        exactly one word of its names written as that word: "what is teh kv cashe", "someone said try
        gradient checkpointng". The model reads a misspelt word as noise, and in a longer message a
        slip left the right entry unfound; a word one slip from two names ("gleu") is left alone, and so
        is an English word (`english()`: "sweet" is no slip of Sweep; without them nothing is respelled;
        asked for only when a word is in doubt, as making them takes a few milliseconds)."""
        words = [m for m in _RESPELL_WORD.finditer(text) if m.group(0).lower() not in self.name_words]
        if not words:
            return text
        stems = {m.group(0): stem(m.group(0).lower()) for m in words}
        known = self.index.postings(list(stems.values()))
        known = known | self.index.vocabulary_postings([s for s in stems.values() if s not in known])
        words = [m for m in words if stems[m.group(0)] not in known]
        if not words or not english():
            return text
        fixes: dict[str, str] = {}
        for m in words:
            word = m.group(0)
            if _english(word.lower(), english()) or any(ch.isupper() for ch in word[1:]):  # "spaCy": coined
                continue
            low = word.lower()
            # a finger slips inside a word, seldom on its first letter ("fandom" is no slip of random)
            near = [w for n in (len(low) - 1, len(low), len(low) + 1) for w in self._respell_to.get(n, ())
                    if w[0] == low[0] and OSA.distance(low, w, score_cutoff=1) <= 1]
            if len(near) == 1:
                fixes[word] = near[0]
        if not fixes:
            return text
        respelled = _RESPELL_WORD.sub(lambda m: fixes.get(m.group(0), m.group(0)), text)
        # kept only where the word completes a name the text now holds: "kv cache", "gradient
        # checkpointing", or a long name alone ("tokenizer"); "legit" is no slip of Logits
        named = [key.split() for key in (m.key for m in self.spotter.spot(respelled))]
        kept = {word: fix for word, fix in fixes.items()
                if any(fix in key and (len(key) > 1 or len(fix) >= RESPELL_ALONE_CHARS) for key in named)}
        if kept == fixes:
            return respelled
        return _RESPELL_WORD.sub(lambda m: kept.get(m.group(0), m.group(0)), text) if kept else text

    def misspelt(self, key: str) -> bool:
        """Whether the text holds a word the glossary never uses: a slip that makes a word it does
        use ("wrap" for Warp) is not a slip."""
        words = content_words(key)
        return len(self.index.postings(words)) < len(set(words))

    def _swapped(self, text: str) -> list[tuple[int, str]]:
        """(entry, name key) for names one swap of neighbouring letters away from `text`, swapped
        before the key is made: "bisaes" is "biases" (key "bias"), but its own key is "bisae"."""
        text = text.lower()
        if len(text) > 80:
            return []
        found = []
        for i in range(len(text) - 1):
            if text[i] != text[i + 1] and text[i].isalpha() and text[i + 1].isalpha():
                key = lookup_key(text[:i] + text[i + 1] + text[i] + text[i + 2:])
                found += [(entry_id, key) for entry_id in self.index.by_key.get(key, ())]
        return found
