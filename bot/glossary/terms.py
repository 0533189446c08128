"""Names of things: lookup keys, aliases, and spotting terms inside text.

Everything that compares a user's words with a glossary term goes through
`lookup_key`, so "Fine-tuning", "fine tuning" and "FINE·TUNING" meet, and
plurals fold onto singulars ("gradients" finds "Gradients", "VAEs" finds "VAE").
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import snowballstemmer

_SEPARATORS = re.compile(r"[\s\-‐‑‒–—_/·•.,;:!?\"'`’‘“”()\[\]{}<>|\\]+")
_KEEP = re.compile(r"[^\w+#*\s]")
_TOKEN = re.compile(r"[\w+#]+")

_ALIAS_PHRASES = re.compile(
    r"\b(?:also (?:called|known as|written|named|termed)|a\.k\.a\.?|short for|abbreviated(?: as)?)"
    r"\s+(?:the\s+|a\s+|an\s+)?[\"“]?([^.;:)(—–\"”]{2,60})",
    re.IGNORECASE,
)
_EXPANSION_SPLIT = re.compile(r"\s+[—–]\s+|;\s|:\s|,\s|\s+-\s+")
_SEE_REFERENCE = re.compile(r"\bsee(?:\s+also)?\s+(?:the\s+)?[\"“]?([^.;)]{1,80})", re.IGNORECASE)


@functools.lru_cache(maxsize=65536)  # words repeat; this runs for every word of every query and name
def _singular(word: str) -> str:
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("ses") and len(word) > 4:
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is", "as", "os")):
        return word[:-1]
    return word


_GREEK = {"α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "θ": "theta",
          "λ": "lambda", "μ": "mu", "π": "pi", "σ": "sigma", "τ": "tau", "φ": "phi", "ω": "omega"}


def fold(text: str) -> str:
    """Case-folded text without accents, Greek letters spelled out ("β-VAE" → "beta-vae")."""
    if text.isascii():  # the common case: nothing below would change it
        return text.lower()
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_GREEK_TABLE)
    decomposed = unicodedata.normalize("NFKD", folded)
    # Only non-ASCII characters can be combining marks; testing just those keeps
    # long definitions with the odd "—" or "×" fast.
    return _NON_ASCII.sub(_drop_combining, decomposed)


_GREEK_TABLE = str.maketrans(_GREEK)
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _drop_combining(match: re.Match) -> str:
    ch = match.group()
    return "" if unicodedata.combining(ch) else ch


# One /ask keys the same few texts a dozen times (its lookups, the names in it, its list reading):
# the last few keys are kept. Few enough that a question's keys are gone a few questions later, so
# the bench's repeated rounds time a question as the first time it is asked.
@functools.lru_cache(maxsize=32)
def lookup_key(text: str) -> str:
    """Case-, accent-, punctuation-, hyphen- and plural-insensitive key for a name."""
    folded = fold(text)
    if folded.isascii():  # the same as the patterns below, by table (a third of the time)
        folded = folded.translate(_ASCII_KEY_TABLE)
    else:
        folded = _SEPARATORS.sub(" ", folded)
        folded = _KEEP.sub("", folded)
    return " ".join(map(_singular, folded.split()))


# _SEPARATORS then _KEEP on ASCII text, as one table: separators become spaces (split() then
# drops the runs, and the whitespace they also match), what _KEEP drops is deleted.
_ASCII_KEY_TABLE = str.maketrans({
    ch: " " if _SEPARATORS.fullmatch(ch) and not ch.isspace() else None
    for ch in map(chr, range(128))
    if _SEPARATORS.fullmatch(ch) and not ch.isspace() or _KEEP.fullmatch(ch)
})


def compact_key(text: str) -> str:
    """Key that also ignores spaces: "RMS norm" meets "RMSNorm"."""
    return lookup_key(text).replace(" ", "")


def tokens(text: str) -> list[str]:
    """Lower-case word tokens for keyword search and term spotting."""
    return [_singular(t) for t in _TOKEN.findall(fold(text))]


# The stemmer SQLite FTS5's porter tokenizer uses. snowballstemmer hands out PyStemmer's C build of it
# when that is installed (a dependency): the same stems, 75x faster. Opening the index stems every name
# in the glossary, about 40 ms of the bot's 1.1 s start in pure Python.
_STEMMER = snowballstemmer.stemmer("porter")


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Word stem for keyword search: "recomputation" and "recompute" meet."""
    return _STEMMER.stemWord(word)


STOPWORDS = frozenset(
    """a about an and are as at be been but by can could did do does doing for from had has have how i if
    in into is it its me my of on or so than that the their them then there these they this to up us was
    we were what when where which who why will with would you your yours just also any some very really
    thing things called call name named explain someone anyone tell mean means""".split()
)
# As tokens() leaves them: "does" comes out as "doe", which no question asks about.
_STOP_TOKENS = STOPWORDS | {_singular(w) for w in STOPWORDS}


# Code identifiers, as people paste them from their code: snake_case (at least one underscore) or
# camelCase / PascalCase (a lower-case letter followed by a capital).
_IDENTIFIER = re.compile(r"\b[A-Za-z0-9]+(?:_[A-Za-z0-9]+)+\b|\b[A-Za-z]*[a-z][A-Z][A-Za-z0-9]*\b")
_IDENTIFIER_PART = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


def _with_identifier_parts(text: str) -> str:
    """The text followed by the words inside its code identifiers, the identifier itself kept:
    `num_warps` also says "warps" and `ByteLevelBPETokenizer` "BPE", which is what an entry calls
    them, while an earlier question that used `num_warps` still matches it whole."""
    parts = [part for match in _IDENTIFIER.finditer(text) for part in _IDENTIFIER_PART.findall(match.group())]
    return f"{text} {' '.join(parts)}" if parts else text


def content_words(text: str, identifier_parts: bool = True) -> list[str]:
    """The words of a query that keyword search looks for."""
    if identifier_parts:
        text = _with_identifier_parts(text)
    return [stem(t) for t in tokens(text) if t not in _STOP_TOKENS and len(t) > 1]


def keyword_tokens(text: str) -> list[str]:
    """Stemmed word tokens, as keyword postings are stored."""
    return [stem(t) for t in tokens(_with_identifier_parts(text))]


def coined(name: str) -> bool:
    """Whether a name is written as only a coined one is ("ALiBi", "E4M3", "exl2", "GGUF"): letters and
    digits together, a capital after a small letter, or capitals alone; an everyday word is not."""
    letters = [ch for ch in name if ch.isalpha()]
    if not letters:
        return False
    if any(ch.isdigit() for ch in name):
        return True
    mixed = any(a.islower() and b.isupper() for a, b in zip(name, name[1:]))
    return mixed or (len(letters) >= 2 and all(ch.isupper() for ch in letters))


def _strip_parenthetical(term: str) -> tuple[str, str | None]:
    match = re.fullmatch(r"(.+?)\s+\(([^()]+)\)\s*", term)
    if not match:
        return term, None
    return match.group(1).strip(), match.group(2).strip()


def _letters(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", text).casefold() if ch.isalnum())


_FILLER_WORDS = frozenset("a an and as by for from in of on or the to with".split())


def is_abbreviation_of(short: str, long: str) -> bool:
    """True when `short` reads as an abbreviation of `long`: "AdaIN" of
    "Adaptive instance normalization", "Adam" of "Adaptive Moment Estimation".

    The letters of `short` must be found in order, at least two of them as
    word initials, and at most one content word of `long` may go unused.
    """
    words = [_letters(w) for w in re.split(r"[\s\-‐–—/]+", long)]
    words = [w for w in words if w]
    short_l = _letters(short)
    if not short_l or len(words) < 2 or len(short_l) > 16:
        return False
    if short_l.startswith(words[0]) or short_l[0] != words[0][0]:
        return False  # "AdamW" is not short for "Adam optimizer with …"

    best: dict[tuple[int, int, int], tuple[int, int] | None] = {}

    def align(i: int, w: int, p: int) -> tuple[int, int] | None:
        """(initials used, content words skipped) for short_l[i:] from word w, offset p."""
        if i == len(short_l):
            rest = words[w + 1 :] if p > 0 else words[w:]
            return 0, sum(1 for x in rest if x not in _FILLER_WORDS)
        key = (i, w, p)
        if key in best:
            return best[key]
        options = []
        if w < len(words) and p > 0 and p < len(words[w]):
            j = words[w].find(short_l[i], p)
            if j >= 0:
                options.append(align(i + 1, w, j + 1))
        skipped = 0
        for nxt in range(w + (1 if p > 0 else 0), len(words)):
            j = words[nxt].find(short_l[i])
            if j >= 0:  # prefer the initial; an inner letter ("eXchange") also counts
                sub = align(i + 1, nxt, j + 1)
                if sub is not None:
                    options.append((sub[0] + (j == 0), sub[1] + skipped))
            if words[nxt] not in _FILLER_WORDS:
                skipped += 1
        options = [o for o in options if o is not None]
        result = max(options, key=lambda o: (o[0] - 2 * o[1]), default=None)
        best[key] = result
        return result

    result = align(0, 0, 0)
    return result is not None and result[0] >= 2 and result[1] <= 1


def aliases_for(term: str, definition: str) -> list[tuple[str, str]]:
    """(alias, source) pairs for an entry, the term itself first."""
    found: list[tuple[str, str]] = [(term, "term")]
    base, paren = _strip_parenthetical(term)
    if paren is not None:
        found.append((base, "term"))
        if is_abbreviation_of(base, paren) or is_abbreviation_of(paren, base):
            found.append((paren, "term"))
    if " / " in base:
        found.extend((part.strip(), "term") for part in base.split(" / ") if part.strip())

    first_line = definition.split("\n", 1)[0]
    head = _EXPANSION_SPLIT.split(first_line, maxsplit=1)[0].strip().strip('"“”')
    head = re.sub(r"^short for\s+", "", head, flags=re.IGNORECASE)
    if head and len(head.split()) <= 8 and is_abbreviation_of(base, head):
        found.append((head, "expansion"))

    for match in _ALIAS_PHRASES.finditer(definition):
        for piece in re.split(r",\s*|\s+or\s+", match.group(1)):
            piece = piece.strip().strip('"“”').strip()
            if piece.lower().startswith("it "):
                break
            if not 1 <= len(piece.split()) <= 5:
                continue
            if match.group(0).lower().startswith("short for") and not is_abbreviation_of(base, piece):
                continue  # "short for" mid-definition often explains only a part of the name
            found.append((piece, "also called"))

    seen: set[str] = set()
    unique = []
    for alias, source in found:
        key = lookup_key(alias)
        if key and key not in seen:
            seen.add(key)
            unique.append((alias, source))
    return unique


@dataclass(frozen=True)
class Mention:
    key: str
    start: int  # token index
    end: int


class TermSpotter:
    """Finds glossary names inside free text by longest-match over token n-grams."""

    MAX_WORDS = 6

    def __init__(self, names: Iterable[str]):
        self._keys = {key for key in map(lookup_key, names) if len(key) >= 2}
        # Longest name (in words) starting with each word: most words start no
        # name at all, so spotting skips them without building any n-gram.
        self._longest: dict[str, int] = {}
        for key in self._keys:
            words = key.split()
            if len(words) <= self.MAX_WORDS:
                self._longest[words[0]] = max(self._longest.get(words[0], 0), len(words))

    def __contains__(self, key: str) -> bool:
        return key in self._keys

    def spot(self, text: str) -> Iterator[Mention]:
        words = lookup_key(text).split()
        i = 0
        while i < len(words):
            longest = self._longest.get(words[i], 0)
            for n in range(min(longest, len(words) - i), 0, -1):
                key = " ".join(words[i : i + n])
                if key in self._keys:
                    yield Mention(key, i, i + n)
                    i += n
                    break
            else:
                i += 1

    def see_references(self, definition: str) -> Iterator[str]:
        """Keys named right after "see" / "see also" that are glossary names."""
        for target in see_targets(definition):
            key = self.name_at_start(target)
            if key:
                yield key

    def name_at_start(self, text: str) -> str | None:
        """The key of the longest glossary name `text` starts with, if any."""
        words = lookup_key(text).split()
        for n in range(min(self.MAX_WORDS, len(words)), 0, -1):
            key = " ".join(words[:n])
            if key in self._keys:
                return key
        return None


_CHUNK = re.compile(r"[\w\-.]+(?:/[\w\-.]+)*")
# A chunk of slash-joined parts is a path (one piece) when a part types code or a file name
# (`examples/dreambooth/train_dreambooth_lora.py`); otherwise its parts are words ("gelu/silu").
_PATH_PART = re.compile(r"_|\.[a-z]{1,4}$")


def _parts_of(chunk: str) -> list[str]:
    """A slash-joined chunk's parts, or the chunk itself when it is a path."""
    parts = chunk.split("/")
    return [chunk] if len(parts) > 1 and any(_PATH_PART.search(part) for part in parts) else parts


def _words_of(chunk: str) -> list[str]:
    """A hyphenated word's words ("self-attention"), but a flag (`--scheduling-policy`) or a name with
    numbers or many parts (`animatediff-motion-adapter-v1-5-2`) as one piece."""
    word = chunk.strip(".-")
    if chunk.startswith("-") or word.count("-") > 2 or any(map(str.isdigit, word)):
        return [word]
    return word.split("-")


def standing_alone(query: str) -> set[str]:
    """The lookup keys of the question's words and runs of words that stand alone, not as a piece of
    an identifier, a flag or a path ("tensor" is no word of `tensor_list`, nor "policy" of
    `--scheduling-policy`), each also run together ("pagedattention")."""
    chunks = [lookup_key(piece) for chunk in _CHUNK.findall(query) for part in _parts_of(chunk)
              for piece in _words_of(part)]
    keys: set[str] = set()
    for i in range(len(chunks)):
        for j in range(i + 1, min(i + TermSpotter.MAX_WORDS, len(chunks)) + 1):
            key = " ".join(chunks[i:j])
            keys.update((key, key.replace(" ", "")))
    return keys


def see_targets(definition: str) -> list[str]:
    """What follows each "see" / "see also" in a definition (up to the end of its clause)."""
    return [match.group(1).strip() for match in _SEE_REFERENCE.finditer(definition)]
