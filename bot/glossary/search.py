"""One entry point from any query to ranked glossary entries, with a verdict.

Order of attempts, cheapest and most certain first:
1. exact term or alias (no model call), for the text and for what a "what is …"
   framing in it asks about (normalize.py strips Discord decoration and chatter first);
   a framed name followed by words that may place it in another field ("… in baking")
   is offered rather than answered unless those words are near some entry in meaning;
2. typo-tolerant name match (names.py, no model call) for short queries, and for what a
   longer one's "what is …" asks about when it holds a word the glossary never uses;
3. everything else: candidates from dense vectors, keyword BM25 and the glossary
   names the question contains, scored by the learned ranker (features.py,
   ranker.py), whose calibrated confidence sets the band: `answer` (right 95% of
   the time under cross-validation), `suggest` (show the best few), or not covered.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace
from typing import Literal, NamedTuple

import numpy as np

from .embeddings import Embedder
from .features import Candidates, FeatureMaker
from .field import FieldModel, field_model_for
from .language import ENGLISH_ONLY_NOTE, in_another_language
from .names import FUZZY_ANSWER, FUZZY_SUGGEST, SHORT_QUERY_WORDS, Names
from .normalize import MAX_QUERY_CHARS, discord_query, earlier_framed_subjects, framed_subject, plain_and_core
from .ranker import Ranker, ranker_for, softmax
from .senses import Senses, other_sense_note, sense_note
from .store import GlossaryIndex, StoredEntry
from .terms import STOPWORDS, content_words, lookup_key, stem, tokens

log = logging.getLogger(__name__)

ANSWER, SUGGEST, NOT_FOUND = "answer", "suggest", "not_found"
EXACT, ALIAS, FUZZY, MENTION, KEYWORD, SEMANTIC = "exact", "alias", "fuzzy", "mention", "keyword", "semantic"
CLOSE_MAX = 3  # other matches shown beside an answer
SUGGESTIONS = 3  # entries a "Did you mean" offers
# Beside a refusal, an entry is named only if the question names it or it is this close in meaning
# (the shipped model's cosine): of the entries nearest to 358 off-glossary questions, 9 of 306 are
# ("what's the capital of France" had NVAE, Linear probe, Bottleneck), while the answerable questions
# refused under cross-validation keep 3 of the 4 answers they named (docs/retrieval.md).
NEAR_COSINE = 0.35
# Words after a framed name that name no entry ("what is a batch in baking") keep it the answer only if
# some entry is this close to them in meaning (the shipped model's cosine). Of 48 such questions written
# to probe it, the qualifiers of ML questions reached 0.23–0.64 ("in Hugging Face" lowest), those of
# other fields 0.20–0.36 ("in baking" 0.22, "in weaving" 0.35); on 34 more by another writer, 20 of 21
# ML questions stay answers and 9 of 13 from other fields become offers (docs/retrieval.md). A name so
# offered is as likely meant in the one field as in the other.
PLACED_COSINE = 0.3
UNPLACED_CONFIDENCE = 0.5
# How much nearer the rest of a framed name must be to the name's other sense than to the entry's
# term and first sentence for the entry to be offered instead of answered ("SVD in linear algebra":
# 0.38 against 0.05; "calibration of a camera", the glossary's own sense: 0.04 against 0.00).
OTHER_SENSE_MARGIN = 0.1
# How much nearer the rest must be to the entry of the name's other sense than to the name's own
# entry, and how near at least, for that sense's entry to be the answer ("PRM in math reasoning":
# 0.20 against 0.12; "Triton in inference serving": 0.17 against -0.05; "a token in a ViT": 0.01
# against 0.18 keeps Token). No development or never-trained-on question takes this path.
SWAP_COSINE, SWAP_MARGIN = 0.15, 0.05
# … or its name is spelled this much like the question's subject (rapidfuzz ratio, 0–100): no refused
# question of the development or off-glossary sets has one above 65.
HINT_SPELLING = 70.0
HINT_NAME_CHARS = 10  # … and is this long ("speculative decoding"), or a slip by the strict rule
# "lora finetuning", "flash attention cuda kernel": two names, as long as the glossary's longest two.
KIND_MAX_WORDS = 8
KIND_WITHIN_WORDS = 8  # … and the first name's definition says it is the second's kind this early
_SCENE_WORDS = frozenset("about at during for in inside on under using with within".split())
# Words that say a name is a thing of its kind without naming anything more: "attention mechanism",
# "unet architecture", "rag pipeline" ask about the name. Not "function" ("activation function" is
# no Activations) nor "layer" or "loss", which more often name something of their own.
_GENERIC_HEAD = re.compile(r"(?:\s+(?:mechanism|architecture|pipeline|algorithm|method|technique|approach|framework"
                           r"|concept|model|paper|library|trick|strategy|scheme|paradigm|idea|term|thing)s?)+\s*[?.!]*$",
                           re.IGNORECASE)

__all__ = ["ANSWER", "SUGGEST", "NOT_FOUND", "MAX_QUERY_CHARS", "Hit", "SearchResult", "Related", "Searcher",
           "clean_query"]


# A question that sets entries against each other: "bf16 vs fp16", "lora or qlora?", "difference between …".
_VERSUS = re.compile(r"\b(?:vs\.?|versus|or|compared? (?:to|with)|differen(?:ces?|t)|differ|better than|same as)\b"
                     r"|\w\s*[/<>]\s*\w", re.IGNORECASE)


# Words that ask for more without saying about what ("ok but why", "give me an example", "tell me
# more", "what is the difference"), as stems (terms.stem): a message of these and stopwords alone
# follows up on an earlier reply, which the bot does not keep. The weak ones are also subjects
# ("what is the mean?", "what is Go"), so they make a follow-up only beside a strong one or a word
# pointing back ("what does that mean").
_FOLLOW_UP_STRONG = frozenset(
    "again better clarifi clearer confus detail differ easi easier elabor explain give huh lost more okai pleas "
    "simpl simpler simpli still tell understand".split())
_FOLLOW_UP_WEAK = frozenset("doe don exampl get go got mean on same thing work".split())
_POINTING_BACK = frozenset("it that this these those them you".split())
_CONTRACTED = frozenset("d ll m re s t ve".split())  # what tokens make of "i'm", "don't", "what's"
FOLLOW_UP_NOTE = ("Which term do you mean? Each message is read on its own, so name it: "
                  "“why is LoRA cheap?”, not “why?”.")


def asks_about_nothing(query: str) -> bool:
    """Whether a question names no subject at all, only asks for more: a follow-up."""
    words = tokens(query)
    strong = weak = False
    for word in words:  # stops at the first word that asks about something: most questions do at once
        if word in _CONTRACTED:
            continue
        stemmed = stem(word) if len(word) > 1 else ""  # "what is x": a subject
        if stemmed in _FOLLOW_UP_STRONG:
            strong = True
        elif stemmed in _FOLLOW_UP_WEAK:  # before stopwords: "mean" is one
            weak = True
        elif word not in STOPWORDS:
            return False
    # "but why?" has no word but stopwords; "what is the mean?" one weak word, and is a question
    return bool(words) and (strong or not weak or any(word in _POINTING_BACK for word in words))


def clean_query(text: str) -> str:
    """The query as searched: Discord decoration and chatter off, one line, bounded."""
    return discord_query(text or "")


@dataclass(frozen=True)
class Hit:
    entry: StoredEntry
    match: str
    score: float  # 0–1: name similarity for name matches; the ranker's share among candidates otherwise


@dataclass(frozen=True)
class SearchResult:
    query: str
    band: str
    hits: list[Hit] = field(default_factory=list)
    confidence: float = 1.0  # probability that the best hit is right (1.0 for exact names)
    close: int = 0  # how many hits after the best are close enough to show beside it
    note: str = ""  # a line to show with the reply: the name typed has another sense (senses.py), or
    # the question names nothing to look up (FOLLOW_UP_NOTE)
    hints: tuple[Hit, ...] = ()  # beside a refusal: the hits near enough to name (NEAR_COSINE)
    # An unsure reply none of whose offers the question names or is near in meaning (NEAR_COSINE),
    # or whose question the field model reads as another field's (field.py): the glossary may not
    # cover it ("how often should I water a fig": InstructPix2Pix, Error budget).
    far: bool = False
    # The entries a message asks about together, in the order it names them, when it names more than
    # one: a comparison ("lora vs qlora", "should I use adam or sgd") or several questions in one
    # ("what is rlhf, what is dpo, and what is ppo"). Each is named as written, so the reply shows
    # them side by side, whatever the band says of the one the ranker put first.
    asked: tuple[Hit, ...] = ()

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.hits else None

    @property
    def others(self) -> list[Hit]:
        """Other matches worth showing beside the best ("Other matches: …")."""
        return self.hits[1 : 1 + self.close]

    @property
    def beside_asked(self) -> list[Hit]:
        """Beside the entries set side by side (`asked`), the other matches the ranker gives a real
        share of its belief ("ddp vs fsdp": ZeRO), not every third offer ("gqa vs mqa": VQA)."""
        asked = {h.entry.id for h in self.asked}
        return [h for h in self.others if h.entry.id not in asked]


class _NameLookup(NamedTuple):
    result: SearchResult
    rest: str  # the words after a name a framing cut short ("what is a batch in baking": "in baking"), or ""
    rest_names: bool  # whether they name an entry ("a kernel in CUDA"): then they are the glossary's field
    other: int | None  # the entry of the name's other sense, shown beside it only for that sense
    meaning: str = ""  # that other sense, when the glossary has no entry for it ("singular value decomposition")
    key: str = ""  # the name as looked up (lookup_key), which the other sense is recorded under


@dataclass(frozen=True)
class Related:
    entry: StoredEntry
    reason: str


class Searcher:
    def __init__(self, index: GlossaryIndex, embedder: Embedder | None, ranker: Ranker | None = None,
                 features: FeatureMaker | None = None, senses: Senses | None = None,
                 field: FieldModel | None | Literal["shipped"] = "shipped"):
        self.index = index
        # "shipped": the field model fitted on this index's embedding model, if any (field.py);
        # None: no reply hedges for seeming outside machine learning.
        self.field = field_model_for(index.model_id) if field == "shipped" else field
        self.senses = senses or {}
        self.embedder = embedder
        self.features = features or FeatureMaker(index)
        if ranker is None:
            ranker, matches = ranker_for(index.model_id)
            if not matches:
                log.warning("no ranker was trained on model %s; using %s (answers may be less sure)",
                            index.model_id, ranker.name)
        self.ranker = ranker
        self.names = Names(index, self.features.spotter)
        self._position = self.features.position
        self._sense_vectors: dict[str, np.ndarray] = {}  # a few fixed phrases from senses.tsv, embedded once

    # -- name lookups (no model) -------------------------------------------------

    def lookup(self, query: str) -> SearchResult | None:
        """Exact term or alias match (of the text, or of what its "what is …" asks about), or None."""
        found = self._lookup(query)
        return found.result if found else None

    def _lookup(self, query: str) -> _NameLookup | None:
        """`lookup`, with what search() needs to read the name in the rest of its question."""
        whole, cut = framed_subject(query, whole_sentence=True), self.names.framed(query)
        # A name that starts with a chatter word ("all to all token routing") keeps it.
        named = framed_subject(query, whole_sentence=True, leading_chatter=True)
        for candidate in dict.fromkeys((query, whole, cut, named)):
            if not candidate:
                continue
            key = lookup_key(candidate)
            ids, kind, spelled = self.names.exactly(candidate), [], True
            if not ids:
                ids, kind = self._name_and_its_kind(candidate)
                spelled = False
            if not ids and _GENERIC_HEAD.search(candidate):
                # "attention mechanism", "unet architecture", "rag pipeline": the name, said of itself
                ids = self.names.exactly(_GENERIC_HEAD.sub("", candidate))
            if not ids:
                continue
            hits = [
                Hit(self.index.entries[i], MENTION if not spelled else EXACT if self.index.term_key[i] == key else ALIAS,
                    1.0)
                for i in ids
            ]
            hits.sort(key=lambda h: h.match != EXACT)
            hits += [Hit(self.index.entries[i], MENTION, 1.0) for i in kind if i not in ids]
            # "what is rank in lora": the entries the rest names are shown beside the answer, since
            # the glossary's sense of the name may not be the one meant there.
            qualified = candidate == cut and bool(whole) and whole != cut
            also = sorted(self.names.in_text(whole[len(cut):]) - set(ids)) if qualified else []
            rest = whole[len(cut):].strip() if qualified else ""
            rest_names = bool(also)
            # "what is rlhf, what is dpo, and what is ppo": the earlier questions' entries too.
            asked = []
            for earlier in earlier_framed_subjects(query) if candidate == cut else ():
                asked += [i for i in self.names.exactly(earlier) if i not in ids and i not in asked]
            also += [i for i in asked if i not in also]
            # "what is AI": the glossary's AI is arithmetic intensity, and the reply says so. The
            # entry of the other sense comes after those the question names ("a kernel in CUDA").
            note, other, meaning = self._other_sense(ids, key)
            if other is not None and other not in also:
                also.append(other)
            else:
                other = None  # the question names it: it stays, whatever sense the rest reads in
            hits += [Hit(self.index.entries[i], MENTION, 1.0) for i in also[:CLOSE_MAX]]
            together = [h for h in hits if h.entry.id in asked or h.entry.id == ids[0]] if asked else []
            result = SearchResult(query, ANSWER, hits, close=min(len(also) + len(kind), CLOSE_MAX), note=note,
                                  asked=self._in_question_order(query, together))
            return _NameLookup(result, rest, rest_names, other, meaning, key)
        return None

    def _name_and_its_kind(self, text: str) -> tuple[list[int], list[int]]:
        """"lora finetuning", "awq quantization", "rope embeddings": a name, then the name of the kind
        of thing it is, asks about the first; so when the whole text is two names and the first
        entry's definition opens with the second name's words ("a cheap way to fine-tune"), the
        first entry and the second (shown beside it). ([], []) otherwise: "batch normalization" is no kind of
        batch the glossary describes."""
        if len(text.split()) > KIND_MAX_WORDS:  # a question, not two names: spares the spotter its words
            return [], []
        names = self.features.names_in(text)
        if len(names) != 2 or len(lookup_key(text).split()) != sum(len(key.split()) for _at, key, _ids in names):
            return [], []
        (first, first_key, ids), (second, second_key, kinds) = names
        if first != 0 or second != len(first_key.split()) or len(ids) != 1 or not kinds or ids[0] in kinds:
            return [], []
        # What the entry is comes first in its definition ("Low-Rank Adaptation — a cheap way to
        # fine-tune …"); CUDA's "… run their kernels here" says where a kernel runs, not that it is one.
        words = content_words(self.index.entries[ids[0]].definition)[:KIND_WITHIN_WORDS]
        held = set(words) | {a + b for a, b in zip(words, words[1:])}  # "fine-tune" holds "finetun"
        kind_words = [w for w in content_words(second_key) if w not in STOPWORDS]
        if not kind_words or not all(any(h.startswith(w) for h in held) for w in kind_words):
            return [], []
        return ids, kinds[:1]

    def _other_sense(self, ids: list[int], key: str) -> tuple[str, int | None, str]:
        """The note for an answer of one entry by a name with another sense (senses.py), the
        entry of that sense if the glossary has one, and that sense's words if it has none;
        "", None and "" for any other answer."""
        sense = self.senses.get((ids[0], key)) if len(ids) == 1 else None
        if sense is None:
            return "", None, ""
        other = sense.entry_id  # resolved against this index (senses.parse_senses)
        other_term = self.index.entries[other].term if other is not None else None
        meaning = sense.meaning if other is None else ""
        return sense_note(sense, self.index.entries[ids[0]].term, other_term), other, meaning

    def named(self, term: str, *, cut: bool = False) -> StoredEntry | None:
        """The entry `term` names: exactly (`cut`: or cut short, see GlossaryIndex.entry_named),
        or by a term or alias match; no model call."""
        entry = self.index.entry_named(term, cut=cut)
        if entry is None:
            found = self.lookup(term)
            entry = found.best.entry if found and found.best else None
        return entry

    def confident_entry(self, term: str, *, cut: bool = False) -> tuple[StoredEntry | None, list[StoredEntry]]:
        """What a user naming a term to store (a review card) means: the entry it names, or a
        search's confident answer; else None and the search's suggestions (a mere suggestion
        is never stored on someone's behalf). May call the model."""
        entry = self.named(term, cut=cut)
        if entry is not None:
            return entry, []
        result = self.search(term)
        if result.band == ANSWER and result.best:
            return result.best.entry, []
        return None, [h.entry for h in result.hits[:3]] if result.band != NOT_FOUND else []

    def fuzzy(self, query: str, limit: int = 5) -> list[tuple[int, float]]:
        """(entry id, similarity 0–100) for names close to the query's spelling."""
        return [(entry_id, score) for entry_id, score, _name in self.names.spelled_like(query, limit)]

    def _in_context(self, found: _NameLookup) -> SearchResult:
        """A name's answer read with the words after it, embedded alone (one short model call).
        Words far from every entry may place it in another field: "what is a batch in baking" and
        "what's momentum in physics class" offer the glossary's entry instead of answering with it.
        Words nearer the glossary's sense of a name than its other sense ("a kernel in CUDA", "a
        token in a ViT") drop the note about that sense and its entry; "a kernel in a CNN" keeps both."""
        result, vectors = found.result, self.index.vectors["full"]
        if found.rest_names and found.other is None:
            return result  # placed by the entries it names, and the name has one sense: no model call
        rest = self.embedder.embed_query(found.rest)
        near = vectors @ rest
        if not found.rest_names and float(near.max()) < PLACED_COSINE:
            return replace(result, band=SUGGEST, close=0, confidence=UNPLACED_CONFIDENCE)
        if found.meaning and not found.rest_names:
            # "what is SVD in linear algebra": the rest reads as the sense the glossary has no entry
            # for (singular value decomposition), not as its entry's term and first sentence.
            if found.meaning not in self._sense_vectors:
                self._sense_vectors[found.meaning] = self.embedder.embed_query(found.meaning)
            meant = float(self._sense_vectors[found.meaning] @ rest)
            lead = float(self.index.vectors["lead"][self._position[result.hits[0].entry.id]] @ rest)
            if meant >= PLACED_COSINE and meant - lead >= OTHER_SENSE_MARGIN:
                return replace(result, band=SUGGEST, close=0, confidence=UNPLACED_CONFIDENCE, far=True)
        if found.other is not None:
            named, other = (self._position[i] for i in (result.hits[0].entry.id, found.other))
            if near[named] > near[other]:
                hits = [h for h in result.hits if h.entry.id != found.other]
                close = min(CLOSE_MAX, sum(1 for h in hits if h.match == MENTION))
                return replace(result, hits=hits, close=close, note="")
            if near[other] >= SWAP_COSINE and near[other] - near[named] >= SWAP_MARGIN:
                # "what's a PRM in math reasoning", "a kernel in a cnn": the rest reads in the other
                # sense, whose entry answers, the glossary's own entry of the name beside it.
                first = next(h for h in result.hits if h.entry.id == found.other)
                hits = [replace(first, match=MENTION)] + [h for h in result.hits if h is not first]
                sense = self.senses[(result.hits[0].entry.id, found.key)]
                return replace(result, hits=hits, close=min(CLOSE_MAX, len(hits) - 1),
                               note=other_sense_note(sense, result.hits[0].entry.term,
                                                     result.hits[0].entry.definition))
        return result

    def _answer_placed(self, query: str, result: SearchResult) -> SearchResult:
        """A framed name whose rest holds a word the glossary never uses ("what is a warp in star
        trek") is left to the ranker; when the ranker answers with that very name, the rest must
        still read as some entry's field, as it must for a name looked up ("_in_context")."""
        whole, cut = framed_subject(query, whole_sentence=True), framed_subject(query)
        if not cut or not whole or whole == cut or self.embedder is None:
            return result
        rest = whole[len(cut):].strip()
        if result.best.entry.id not in self.names.exactly(cut) or not rest or self.names.in_text(rest):
            return result
        near = self.index.vectors["full"] @ self.embedder.embed_query(rest)
        if float(near.max()) >= PLACED_COSINE:
            return result
        return replace(result, band=SUGGEST, close=0, confidence=min(result.confidence, UNPLACED_CONFIDENCE))

    def _offer_framed_name(self, query: str, result: SearchResult) -> SearchResult:
        """A name the question frames leads an unsure reply and is never refused outright: "what is a
        tokenizer in huggingface" or "what's an agent in langchain" hold a word the glossary never
        uses, so they were not answered as a name, and the ranker may not be sure of them either
        (ReAct before Agent); offered first ("Did you mean"), the name is one click away. So is the
        glossary's sense of "attention in psychology", where the glossary may not cover the rest."""
        cut = framed_subject(query)
        ids = (self.names.exactly(cut) or self._names_only(cut)) if cut else self._names_only(query)
        if not ids or (result.band == SUGGEST and set(ids) <= {h.entry.id for h in result.hits[:len(ids)]}):
            return result
        place = {h.entry.id: n for n, h in enumerate(result.hits)}
        ids = sorted(ids, key=lambda i: place.get(i, len(place)))  # the ranker's order among the names
        if any(h.entry.id in ids for h in result.asked):
            return result  # "what is lora vs qlora": both sides are on screen already
        hits = [Hit(self.index.entries[i], MENTION, 1.0) for i in ids]
        hits += [h for h in result.hits if h.entry.id not in ids]
        return SearchResult(query, SUGGEST, hits[:max(len(result.hits), len(ids))], confidence=result.confidence,
                            far=result.far)

    def _names_only(self, text: str) -> list[int]:
        """The entries of a short text made of names and nothing else ("a cuda kernel", "ddpm
        sampler"); [] for any other text. Read together, neither name is sure to be the answer, but
        one of them most likely is."""
        if len(text.split()) > KIND_MAX_WORDS:
            return []
        names, covered, end = [], set(), 0
        for at, key, ids in self.features.names_in(text):  # "flash attention kernel": not "attention" too
            if at >= end:
                names.append(ids)
                end = at + len(key.split())
                covered.update(range(at, end))
        rest = [w for i, w in enumerate(lookup_key(text).split()) if i not in covered]
        if len(names) < 2 or any(w not in STOPWORDS for w in rest) or any(len(ids) != 1 for ids in names):
            return []
        return list(dict.fromkeys(ids[0] for ids in names))

    def complete(self, prefix: str, limit: int = 25) -> list[StoredEntry]:
        """Autocomplete: term prefix, then alias prefix, then fuzzy; no model call."""
        key = lookup_key(clean_query(prefix))
        ranked: list[int] = []
        if not key:
            ranked = list(self.index.entries)[:limit]
        else:
            term_prefix = [i for i, k in self.index.term_key.items() if k.startswith(key)]
            alias_prefix = [e for e, _a, k in self.names.rows if k.startswith(key) or f" {key}" in k]
            ranked = sorted(term_prefix, key=lambda i: len(self.index.entries[i].term))
            ranked += alias_prefix + [e for e, _s in self.fuzzy(prefix, limit)]
        return [self.index.entries[i] for i in dict.fromkeys(ranked)][:limit]

    # -- the one entry point --------------------------------------------------------

    def search(self, query: str, limit: int = 5) -> SearchResult:
        plain, query = plain_and_core(query or "")
        if not query:
            return SearchResult(query, NOT_FOUND, [], confidence=0.0)
        # A name that starts with a chatter word ("all reduce", "help desk") is a name first.
        found = (self._lookup(plain) if plain != query else None) or self._lookup(query)
        if found:
            return self._in_context(found) if found.rest and self.embedder is not None else found.result
        if asks_about_nothing(query):
            return SearchResult(query, NOT_FOUND, [], confidence=0.0, note=FOLLOW_UP_NOTE)
        if in_another_language(query):
            return self._in_another_language(query, limit)
        may_be_a_name = self.names.may_be_a_name(query)
        close = self.names.spelled_like(query, 5, strict=True) if may_be_a_name else []
        if close and close[0][1] >= FUZZY_ANSWER and not self.names.another_word(query, *close[0][::2]):
            # Entries sharing the matched name (a term and another entry's alias) answer together,
            # as an exact match of that name would.
            same = [e for e, sc, name in close if name == close[0][2] and sc == close[0][1]]
            rest = [sc for e, sc, _name in close if e not in same]
            if not rest or close[0][1] - rest[0] >= 3:
                key = close[0][2]
                same.sort(key=lambda e: self.index.term_key.get(e) != key)
                hits = [Hit(self.index.entries[e], FUZZY, close[0][1] / 100) for e in same]
                note, other, _meaning = self._other_sense(same, key)  # "tokne": Token (visual/audio), as "token"
                hits += [Hit(self.index.entries[other], MENTION, 1.0)] if other is not None else []
                return SearchResult(query, ANSWER, hits, close=len(hits) - len(same), note=note)
        result = self.ranked(query, limit)
        if result.band != ANSWER:
            result = self._offer_framed_name(query, result)
        else:
            result = self._answer_placed(query, result)
        # In a longer question a short subject spelled like a name ("the role of …": RoPE) is no
        # reason to offer that name; only a clear misspelling of one, above, is.
        short = len(query.split()) <= SHORT_QUERY_WORDS
        near = [(e, sc) for e, sc, _name in close if sc >= FUZZY_SUGGEST] if short else []
        sure_near = [(e, sc) for e, sc in near if sc >= FUZZY_ANSWER]
        lone_unknown_word = len(content_words(query, identifier_parts=False)) == 1 and self.names.misspelt(query)
        if near and (result.band == NOT_FOUND or (result.band == SUGGEST and (sure_near or lone_unknown_word))):
            # A near-miss spelling of two names ("adawm": Adam or AdamW), or one word the glossary never
            # uses, is better shown as the names it is spelled like than as what the model makes of
            # its letters.
            shown = sure_near or near
            hits = [Hit(self.index.entries[e], FUZZY, sc / 100) for e, sc in shown]
            hits += [h for h in result.hits if h.entry.id not in {e for e, _sc in shown}]
            return SearchResult(query, SUGGEST, hits[:limit], confidence=result.confidence)
        if result.band == NOT_FOUND and may_be_a_name:
            # "why is speculatve decodng fast": two slips are no answer, but the name is worth naming.
            # A short name spelled like a word is no hint ("what is an epoch": PoC, "dropout":
            # Rollout) unless it is a slip of it by the stricter rule that answers and offers.
            strict = {e for e, _sc, _name in self.names.spelled_like(query, CLOSE_MAX, strict=True)}
            spelled = [Hit(self.index.entries[e], FUZZY, sc / 100) for e, sc, name in
                       self.names.spelled_like(query, CLOSE_MAX)
                       if sc >= HINT_SPELLING and (len(name) >= HINT_NAME_CHARS or e in strict)]
            if spelled:
                kept = [h for h in result.hints if h.entry.id not in {s.entry.id for s in spelled}]
                result = replace(result, hints=tuple((spelled + kept)[:CLOSE_MAX]))
        return result

    def _in_another_language(self, query: str, limit: int) -> SearchResult:
        """"什么是注意力机制", "¿qué es el aprendizaje por refuerzo?": the model and the glossary read
        English only, so a question in another language is no evidence of a gap, and says so. The
        names of entries it holds ("was ist ein Transformer", "LoRA微调是什么原理") are what it can be
        read by: they lead a "Did you mean" ("comment transformer un pdf" names Transformer too)."""
        if not self.names.in_text(query):
            return SearchResult(query, NOT_FOUND, [], confidence=0.0, note=ENGLISH_ONLY_NOTE)
        result = self.ranked(query, limit)
        if result.band == ANSWER and result.best.match == MENTION:
            return result
        named = [h for h in result.hits if h.match == MENTION]
        if not named:
            return replace(result, band=NOT_FOUND, hints=(), note=ENGLISH_ONLY_NOTE)
        hits = named + [h for h in result.hits if h.match != MENTION]
        return SearchResult(query, SUGGEST, hits[:limit], confidence=result.confidence, asked=result.asked)

    def ranked(self, query: str, limit: int = 5) -> SearchResult:
        """The learned ranker's best entries for a cleaned query, with its calibrated verdict."""
        qvec = self.embedder.embed_query(query) if self.embedder is not None else None
        found = self.features.candidates(query, qvec)
        if not len(found.positions):
            return SearchResult(query, NOT_FOUND, [], confidence=0.0)
        ranker = self.ranker
        scores = ranker.scores(found.features)
        confidence = ranker.confidence(scores, found.features, found.groups)
        band = ANSWER if confidence >= ranker.answer_at else SUGGEST if confidence >= ranker.suggest_at else NOT_FOUND
        # "a 1200 kg car moves at 15 m/s, what is its momentum": an entry's name in another field's
        # question is no answer, and an offer of it says the glossary may not cover the question.
        outside = (band != NOT_FOUND and qvec is not None and self.field is not None
                   and self.field.is_outside(qvec, float(found.column("dense_full").max())))
        band = SUGGEST if outside else band
        shares = softmax(scores)
        order = np.argsort(-scores, kind="stable")
        compared = self._compared(query, found, order)
        taken = set(compared)
        rest = [i for i in order if i not in taken] if compared else order
        if compared and band != ANSWER and int(found.positions[order[0]]) not in found.named:
            # "ddp vs fsdp vs deepspeed": when unsure, the entries compared lead the "Did you mean",
            # ahead of one nobody named (ZeRO); an answer keeps the entry its confidence is about.
            order = np.concatenate([compared, rest])
            compared = compared[1:]
        elif compared:
            order = np.concatenate([rest[:1], compared, rest[1:]])
        order = order[: max(limit, 1 + CLOSE_MAX)].astype(np.int64)
        hits, near = [], []  # near: named, or close in meaning (what a refusal or a far offer may name)
        for i in order:
            pos = int(found.positions[i])
            if pos in found.named:
                kind = MENTION
            elif found.column("bm25")[i] >= 1.0 and found.column("dense_rank")[i] > 0:
                kind = KEYWORD  # the best keyword match, not the nearest in meaning
            else:
                kind = SEMANTIC
            hits.append(Hit(self.index.entries[int(self.index.entry_ids[pos])], kind, float(shares[i])))
            near.append(kind == MENTION or found.column("dense_full")[i] >= NEAR_COSINE)
        hints = [h for h, is_near in zip(hits, near) if is_near] if band == NOT_FOUND else []
        far = band == SUGGEST and (outside or not any(near[:SUGGESTIONS]))
        close = max(len(compared), sum(1 for h in hits[1 : 1 + CLOSE_MAX] if h.score >= ranker.close_share))
        # The entries compared are side by side when the one first is among them ("adam vs adamw");
        # not when the question reads as another field's, where its names may be everyday words.
        asked = hits[: 1 + len(compared)] if compared and hits[0].match == MENTION and not far else []
        if asked and band == NOT_FOUND:  # "difference between ddp and fsdp": both named, so never "not covered"
            band, hints = SUGGEST, []
        return SearchResult(query, band, hits[:max(limit, 1 + close)], confidence=confidence, close=close,
                            hints=tuple(hints[:CLOSE_MAX]), far=far, asked=self._in_question_order(query, asked))

    def _in_question_order(self, query: str, hits: list[Hit]) -> tuple[Hit, ...]:
        """`hits` in the order the question names them ("lora vs qlora": LoRA, then QLoRA); () for
        fewer than two, which is nothing to set side by side."""
        if len(hits) < 2:
            return ()
        words = lookup_key(query).split()
        first: dict[int, int] = {}
        for mention in self.features.spotter.spot(query):
            for entry_id in self.index.by_key.get(mention.key, ()):
                first.setdefault(entry_id, mention.start)
        # "ppo vs dpo for alignment": a name after "for", "in" … sets the scene and is no side.
        sides = [h for h in hits if first.get(h.entry.id, 0) == 0 or words[first[h.entry.id] - 1] not in _SCENE_WORDS]
        return tuple(sorted(sides, key=lambda h: first.get(h.entry.id, len(query)))) if len(sides) > 1 else ()

    @staticmethod
    def _compared(query: str, found: Candidates, order: np.ndarray) -> list[int]:
        """Candidates (rows, best first) that a comparing question ("bf16 vs fp16", "is LoRA or QLoRA
        better") names besides its best entry: shown beside the answer however far behind they score,
        since the question is about them too (at most CLOSE_MAX)."""
        if len(found.named) < 2 or len(query.split()) > 2 * SHORT_QUERY_WORDS or not _VERSUS.search(query):
            return []
        named = [i for i in order if int(found.positions[i]) in found.named and i != order[0]]
        return named[:CLOSE_MAX]

    # -- related terms ----------------------------------------------------------------

    def related(self, entry_id: int, limit: int = 5) -> list[Related]:
        """Explicit "see" references first, then terms its definition names or that
        name it (closest in meaning first), then nearest neighbours by embedding."""
        index = self.index
        pos = self._position[entry_id]
        sims = index.vectors["full"] @ index.vectors["full"][pos]
        picked: dict[int, str] = {}
        for link in index.links_from.get(entry_id, []):
            if link.kind == "see":
                picked.setdefault(link.entry_id, "see also")
        linked = {link.entry_id: "mentioned in its definition" for link in index.links_from.get(entry_id, [])}
        for link in index.links_to.get(entry_id, []):
            linked.setdefault(link.entry_id, "mentions this term")
        for other in sorted(linked, key=lambda e: -sims[self._position[e]]):
            picked.setdefault(other, linked[other])
        for other in np.argsort(-sims)[: limit + 1]:
            picked.setdefault(int(index.entry_ids[other]), "similar meaning")
        picked.pop(entry_id, None)
        return [Related(index.entries[i], reason) for i, reason in list(picked.items())[:limit]]
