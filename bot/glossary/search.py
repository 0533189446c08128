"""One entry point from any query to ranked glossary entries, with a verdict.

Order of attempts, cheapest and most certain first (step 1, and what an unsure step 3 owes the
names a question frames, are the name lookups in lookup.py; results.py holds what all return):
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
from dataclasses import replace
from typing import Literal

import numpy as np

from .embeddings import Embedder
from .features import Candidates, FeatureMaker
from .field import FieldModel, field_model_for
from .language import ENGLISH_NAMES_NOTE, ENGLISH_ONLY_NOTE, in_another_language
from .lists import ListLookups
from .lookup import NameLookups
from .names import FUZZY_ANSWER, FUZZY_SUGGEST, SHORT_QUERY_WORDS, Names
from .normalize import MAX_QUERY_CHARS, discord_query, has_link, plain_and_core
from .ranker import Ranker, ranker_for, softmax
from .results import (ALIAS, ANSWER, CLOSE_MAX, EXACT, FUZZY, KEYWORD, MENTION, NOT_FOUND, SEMANTIC, SUGGEST,
                      SUGGESTIONS, Hit, Related, SearchResult)
from .same_thing import SameThings
from .senses import Senses
from .store import GlossaryIndex, StoredEntry
from .terms import STOPWORDS, coined, content_words, lookup_key, stem, tokens

log = logging.getLogger(__name__)

# Beside a refusal, an entry is named only if the question names it or it is this close in meaning
# (the shipped model's cosine): of the entries nearest to 358 off-glossary questions, 9 of 306 are
# ("what's the capital of France" had NVAE, Linear probe, Bottleneck), while the answerable questions
# refused under cross-validation keep 3 of the 4 answers they named (docs/retrieval.md).
NEAR_COSINE = 0.35
# … or its name is spelled this much like the question's subject (rapidfuzz ratio, 0–100): no refused
# question of the development or off-glossary sets has one above 65.
HINT_SPELLING = 70.0
HINT_NAME_CHARS = 10  # … and is this long ("speculative decoding"), or a slip by the strict rule
_SCENE_WORDS = frozenset("about at during for in inside on under using with within".split())

__all__ = ["ANSWER", "SUGGEST", "NOT_FOUND", "EXACT", "ALIAS", "FUZZY", "MENTION", "KEYWORD", "SEMANTIC", "CLOSE_MAX",
           "SUGGESTIONS", "MAX_QUERY_CHARS", "Hit", "SearchResult", "Related", "Searcher", "clean_query"]


# A question that sets entries against each other: "bf16 vs fp16", "lora or qlora?", "difference between …",
# "compare adam and sgd", "diff between bf16 and fp16", "is ddim faster than ddpm", "lora instead of full
# fine-tuning", "why dpo over ppo" (over only after a choosing word: "softmax over logits" compares nothing).
_VERSUS = re.compile(r"\b(?:vs\.?|versus|or|compared? (?:to|with)|diff?e?r+e?n(?:ces?|t)|differ|same as"
                     r"|\w+er than|worse than|(?:more|less) \w+ than|instead of|rather than|in place of)\b"
                     r"|\b(?:why|prefer|preferred|choose|chose|pick|use|using)\b.*\bover\b"
                     r"|^(?:compare|diff)\b"
                     r"|\w\s*/\s*\w", re.IGNORECASE)
# … of which these stand between the sides ("lora vs qlora", "ddim faster than ddpm"), so a name on
# each side of one is needed: "probability tensor contains either inf, nan or element < 0" and
# "why is DDIM faster than the default" compare no two entries.
_BETWEEN_WORDS = frozenset({"vs", "versus", "or", "than", "instead", "rather", "place", "over"})
_SIDES_AROUND = re.compile(r"\b(?:compared? (?:to|with)|diff?e?r+e?n(?:ces?|t)|differ|same as)\b|^(?:compare|diff)\b",
                           re.IGNORECASE)
# A slash stands between sides too ("kv cache / paged attention"): "hallucination triage, sorting
# answers into right / abstained / wrong" compares nothing.
_SLASH = re.compile(r"\w\s*/\s*\w")


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
# Questions about the bot itself, the first things a newcomer types ("who are you", "what can you
# do"): they name no term, and were answered as follow-ups or with random entries ("who made you":
# SynthID). Whole messages only: "what can you do with lora" asks about LoRA.
_ABOUT_THE_BOT = re.compile(
    r"(?:who (?:are|r|made|built|created|wrote|programmed) (?:you|u)|what (?:are|r) (?:you|u)"
    r"|what(?:'s| is) your name|are (?:you|u) (?:a bot|an? ai|an? llm|human|real|chatgpt)"
    r"|what (?:can|do) (?:you|u) (?:do|know|answer)|what (?:can|should|do) (?:i|we) ask(?: (?:you|u))?"
    r"|how (?:do|does) (?:you|u|this bot|the bot) work|how (?:do|can|should) (?:i|we) use (?:you|u|this|this bot|the bot)"
    r"|(?:can|could) (?:you|u) help(?: me| us)?|help me|what is this bot|what's this bot)")
ABOUT_ME_NOTE = ("I answer from a machine-learning glossary, with its own words: ask me about a term, "
                 "e.g. “what is attention?”, or a question such as “why is LoRA cheap?”. "
                 "To study, there are /quiz and /review too.")
# A definition naming another entry by an everyday word, and no closer in meaning than this, most
# likely uses the word in another sense ("FID scores" is no diffusion Score, "the context's tokens"
# no Token (visual/audio)): the link is not offered as a related term. (Read on the shipped glossary:
# nearly all the links this drops were of another sense or said nothing of the entry; between 0.1 and
# 0.25 most mentions are real, so the floor stays low.)
WEAK_MENTION_COSINE = 0.1
# …and one whose name senses.tsv knows another sense of (AI, Token (visual/audio), rank, Kernel)
# links only this close: of the 34 such links under it, read by hand, about 26 were the other
# sense ("AI clusters" in InfiniBand, text tokens in TTFT, a leaderboard's rank) and about 8 the
# glossary's own (NVSwitch's nodes, Hessian's calibration); FSDP's rank (0.222) and the GPU
# kernels of Scheduler and CUTLASS sit above it.
OTHER_SENSE_MENTION_COSINE = 0.22
# A message whose only subject was a link ("what is https://…?"): the bot opens no links.
LINK_NOTE = "Links aren't opened, so name the term you mean: “what is LoRA?”, not a link to it."


def asks_about_the_bot(query: str) -> bool:
    """Whether the whole message asks about the bot itself ("who are you?", "what can you do")."""
    if len(query) > 60:  # every one of them is short: a long question is not read for them
        return False
    return bool(_ABOUT_THE_BOT.fullmatch(re.sub(r"[\s?!.,:;]+$", "", " ".join(query.lower().split()))))


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


def _sides_first(result: SearchResult) -> SearchResult:
    """A reply sets a comparison's sides out in the order the question names them ("ddp vs fsdp
    memory usage?": DDP, then FSDP), so its hits lead with them in that order too, whichever the
    ranker put first: what is first is what the user sees first."""
    if not result.asked or result.band == NOT_FOUND:
        return result
    shown = {h.entry.id for h in result.asked}
    hits = [*result.asked, *(h for h in result.hits if h.entry.id not in shown)]
    return replace(result, hits=hits[: max(len(result.hits), len(result.asked))])


def clean_query(text: str) -> str:
    """The query as searched: Discord decoration and chatter off, one line, bounded."""
    return discord_query(text or "")


class Searcher(NameLookups, ListLookups):
    def __init__(self, index: GlossaryIndex, embedder: Embedder | None, ranker: Ranker | None = None,
                 features: FeatureMaker | None = None, senses: Senses | None = None,
                 field: FieldModel | None | Literal["shipped"] = "shipped", same_things: SameThings | None = None):
        self.index = index
        # entries for the same thing lead each other's related terms (same_thing.py); by default
        # those the index shows, without the list beside the glossary
        self.same_things = same_things or SameThings(index)
        # "shipped": the field model fitted on this index's embedding model, if any (field.py);
        # None: no reply hedges for seeming outside machine learning.
        self.field = field_model_for(index.model_id) if field == "shipped" else field
        self.senses = senses or {}
        self.embedder = embedder
        if ranker is None:
            ranker, matches = ranker_for(index.model_id)
            if not matches:
                log.warning("no ranker was trained on model %s; using %s (answers may be less sure)",
                            index.model_id, ranker.name)
        self.ranker = ranker
        self.features = features or FeatureMaker(index, vocabulary=ranker.reads_vocabulary)
        self.names = Names(index, self.features.spotter)
        self._position = self.features.position
        self._sense_vectors: dict[str, np.ndarray] = {}  # a few fixed phrases from senses.tsv, embedded once

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

    @property
    def _english(self) -> frozenset[str]:
        """Everyday English words, as the model's tokenizer knows them (made on first use, not at start-up)."""
        return getattr(self.embedder, "whole_words", frozenset())

    # -- the one entry point --------------------------------------------------------

    def search(self, query: str, limit: int = 5) -> SearchResult:
        return self._fact_unsaid(query, _setup_failure(query, _sides_first(self._the_whole_list(
            self._search(query, limit)))))

    def _fact_unsaid(self, query: str, result: SearchResult) -> SearchResult:
        """A short question after a fact no entry states about the thing it names (its licence, a
        download or mirror, a URL, its price or authors) is offered, saying the glossary may not
        cover it, unless the first entry's own text or vocabulary uses the word asked about: "what's
        the license of the celeba dataset" was answered with CelebA's definition, which does not say."""
        if (result.band == NOT_FOUND or result.far or result.asked or not result.hits
                or len(query.split()) > FACT_ASKED_MAX_WORDS):
            return result
        asked = {w for found in _FACT_ASKED.findall(_STORY_OPENER.sub("", query)) for w in content_words(found)}
        if not asked:
            return result
        position = self._position[result.hits[0].entry.id]
        said = {w for w, (at, _w) in (*self.index.postings(list(asked)).items(),
                                      *self.index.vocabulary_postings(list(asked)).items()) if position in at}
        return result if asked <= said else replace(result, band=SUGGEST, close=0, far=True)

    def _search(self, query: str, limit: int) -> SearchResult:
        raw = query or ""
        plain, query = plain_and_core(raw)
        if not query:
            return SearchResult(query, NOT_FOUND, [], confidence=0.0, note=LINK_NOTE if has_link(raw) else "")
        # A name that starts with a chatter word ("all reduce", "help desk") is a name first.
        found = (self._lookup(plain) if plain != query else None) or self._place_first(query) or self._lookup(query)
        if found:
            if found.rest and self.embedder is not None:
                return self._in_context(found)
            return self._asked_who(query, found.result)
        placed = self._placed_name(query) if self.embedder is not None else None
        if placed:
            # "lora for sdxl fine-tuning" read as "what is …"; when its place is unclear ("q-former in
            # blip-2"), the ranker decides, the name leading if it is unsure.
            answer = self._in_context(placed)
            if answer.band == ANSWER:
                return answer
        if asks_about_the_bot(query) or asks_about_the_bot(plain):  # "help me" reads as framing and "me"
            return SearchResult(query, NOT_FOUND, [], confidence=0.0, note=ABOUT_ME_NOTE)
        if asks_about_nothing(query):
            return SearchResult(query, NOT_FOUND, [], confidence=0.0,
                                note=LINK_NOTE if has_link(raw) else FOLLOW_UP_NOTE)
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
                note, sense = self._other_sense(same, key)  # "tokne": Token (visual/audio), as "token"
                other = sense.entry_id if sense is not None else None
                hits += [Hit(self.index.entries[other], MENTION, 1.0)] if other is not None else []
                return SearchResult(query, ANSWER, hits, close=len(hits) - len(same), note=note)
        respelled = self.names.respelled(query, lambda: self._english)
        result = self.ranked(respelled, limit)
        if respelled != query:
            result = replace(result, query=query)
        if sum(h.match == MENTION for h in result.hits) >= 2:
            # "what are rlhf, dpo and ppo", "mqa and gqa": a list of names, every one side by side
            # (read only when the question names two entries: it costs no more than that then)
            listed = self._listed(query, one_piece=True)
            shown = {h.entry.id for h in result.asked}
            if listed and (listed.note or listed.unshown or any(h.entry.id not in shown for h in listed.asked)):
                return listed  # (a comparison the ranker already sets side by side keeps its other matches)
        if result.band == ANSWER and self.names.another_version(query, result.best.entry.id):
            result = replace(result, band=SUGGEST)  # "what is Imagen 2": Imagen 3 is offered, not given as it
        if result.band != ANSWER:
            result = self._offer_framed_name(query, result, placed.result.best.entry.id if placed else None,
                                             spelled=bool(close))
        else:
            result = self._answer_placed(query, result)
        # In a longer question a short subject spelled like a name ("the role of …": RoPE) is no
        # reason to offer that name; only a clear misspelling of one, above, is.
        short = len(query.split()) <= SHORT_QUERY_WORDS
        near = [(e, sc) for e, sc, _name in close if sc >= FUZZY_SUGGEST] if short else []
        sure_near = [(e, sc) for e, sc in near if sc >= FUZZY_ANSWER]
        unsure = result.band == SUGGEST and (sure_near or (near and self._lone_unknown_word(query)))
        if near and (result.band == NOT_FOUND or unsure):
            # A near-miss spelling of two names ("adawm": Adam or AdamW), or one word the glossary never
            # uses, is better shown as the names it is spelled like than as what the model makes of
            # its letters.
            shown = sure_near or near
            hits = [Hit(self.index.entries[e], FUZZY, sc / 100) for e, sc in shown]
            hits += [h for h in result.hits if h.entry.id not in {e for e, _sc in shown}]
            return self._no_entry_named(query, SearchResult(query, SUGGEST, hits[:limit], confidence=result.confidence))
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
        return self._no_entry_named(query, result)

    def _lone_unknown_word(self, query: str) -> bool:
        """Whether the query is one word, and one the glossary never uses."""
        return len(content_words(query, identifier_parts=False)) == 1 and self.names.misspelt(query)

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
        return SearchResult(query, SUGGEST, hits[:limit], confidence=result.confidence, asked=result.asked,
                            note=ENGLISH_NAMES_NOTE)

    def ranked(self, query: str, limit: int = 5) -> SearchResult:
        """The learned ranker's best entries for a cleaned query, with its calibrated verdict."""
        qvec = self.embedder.embed_query(query) if self.embedder is not None else None
        ranker = self.ranker
        share = ranker.real_share(query)
        found = self.features.candidates(query, qvec, vocabulary=ranker.vocabulary_for(share))
        if not len(found.positions):
            return SearchResult(query, NOT_FOUND, [], confidence=0.0)
        scores = ranker.scores(found.features, share)
        shares = softmax(scores)
        order = np.argsort(-scores, kind="stable")
        confidence = ranker.confidence(scores, found.features, found.groups, int(order[0]), shares)
        answer_at = ranker.answer_at_for(share)
        band = ANSWER if confidence >= answer_at else SUGGEST if confidence >= ranker.suggest_at else NOT_FOUND
        # "a 1200 kg car moves at 15 m/s, what is its momentum": an entry's name in another field's
        # question is no answer, and an offer of it says the glossary may not cover the question.
        outside = (band != NOT_FOUND and qvec is not None and self.field is not None
                   and self.field.is_outside(qvec, float(found.column("dense_full").max())))
        band = SUGGEST if outside else band
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
        first, typed, pieces, _starts = self._names_as_sides(query)
        # "ppo vs dpo for alignment": a name after "for", "in" … sets the scene and is no side.
        sides = [h for h in hits if first.get(h.entry.id, 0) == 0 or words[first[h.entry.id] - 1] not in _SCENE_WORDS]
        sides = [h for h in sides if h.entry.id not in pieces]
        # "is writing kernels in Triton easier than raw CUDA": the first entry set the scene's way
        # is what is asked about, and the rest no comparison of it.
        if len(sides) < 2 or sides[0] is not hits[0]:
            return ()
        sides.sort(key=lambda h: first.get(h.entry.id, len(query)))
        # "prm vs orm, which one grades each step": each side in the sense nearer the others (the
        # process reward model, not the robot planner PRM)
        read, _typed = self._in_the_lists_sense({h.entry.id: typed.get(h.entry.id, "") for h in sides})
        return tuple(h if h.entry.id == i else Hit(self.index.entries[i], MENTION, h.score) for h, i in zip(sides, read))

    def _compared(self, query: str, found: Candidates, order: np.ndarray) -> list[int]:
        """Candidates (rows, best first) that a comparing question ("bf16 vs fp16", "is LoRA or QLoRA
        better") names besides its best entry: shown beside the answer however far behind they score,
        since the question is about them too (at most CLOSE_MAX). A name typed only as a piece of an
        identifier ("`dist.all_gather(tensor_list)` vs all_reduce") is no side of the comparison."""
        if len(found.named) < 2 or len(query.split()) > 2 * SHORT_QUERY_WORDS or not _VERSUS.search(query):
            return []
        _first, _typed, pieces, starts = self._names_as_sides(query)
        if not _SIDES_AROUND.search(query):
            between = [i for i, word in enumerate(lookup_key(query).split()) if word in _BETWEEN_WORDS]
            # a slash is no word: it stands just before the word after it
            between += [len(lookup_key(query[: m.start() + 1]).split()) - 0.5 for m in _SLASH.finditer(query)]
            if not any(min(starts, default=at) < at < max(starts, default=at) for at in between):
                return []
        sides = found.named - {self._position[entry_id] for entry_id in pieces}
        named = [i for i in order if int(found.positions[i]) in sides and i != order[0]]
        return named[:CLOSE_MAX]

    def _names_as_sides(self, query: str) -> tuple[dict[int, int], dict[int, str], set[int], list[int]]:
        """The names a comparison may set side by side: for each entry the question names, where it is
        first named (a word of lookup_key's) and its name as typed there; the entries it names only as
        a piece of an identifier (`tensor_list`) or of a name run together ("paged attention" names no
        Attention); and where every name standing alone starts."""
        first: dict[int, int] = {}
        typed: dict[int, str] = {}
        pieces: set[int] = set()
        starts: list[int] = []
        for at, key, ids, alone in self.features.names_standing(query):  # spotted, and run together
            if not alone:
                pieces.update(ids)
                continue
            starts.append(at)
            for entry_id in ids:
                first.setdefault(entry_id, at)
                typed.setdefault(entry_id, key)
        return first, typed, pieces - set(first), starts

    # -- related terms ----------------------------------------------------------------

    def _everyday_name(self, entry_id: int) -> bool:
        """Whether the entry goes by an everyday word (Score, copy, Token (visual/audio)) or a name the
        glossary uses in another sense than people usually mean (senses.tsv: rank), which a definition
        may use in another sense; not an acronym or a coined name (GANs, ZeRO)."""
        word = re.sub(r"\s*\([^()]*\)$", "", self.index.entries[entry_id].term)
        everyday = " " not in word and word.isalpha() and sum(ch.isupper() for ch in word) <= 1
        return everyday or self._has_other_sense(entry_id)

    def _has_other_sense(self, entry_id: int) -> bool:
        """Whether senses.tsv knows another sense of one of the entry's names ("AI", "token", "rank")."""
        return any(key[0] == entry_id for key in self.senses)

    def related(self, entry_id: int, limit: int = 5) -> list[Related]:
        """Explicit "see" references first, then entries for the same thing or a kind of it
        (same_thing.py: Swish's SiLU, matmul's GEMM), then terms its definition names or that
        name it, then nearest neighbours by embedding (each group closest in meaning first)."""
        index = self.index
        pos = self._position[entry_id]
        sims = index.vectors["full"] @ index.vectors["full"][pos]
        picked: dict[int, str] = {}
        for link in index.links_from.get(entry_id, []):
            if link.kind == "see":
                picked.setdefault(link.entry_id, "see also")
        same = self.same_things.leading(entry_id)
        for other in sorted(same, key=lambda e: -sims[self._position[e]]):
            picked.setdefault(other, same[other])
        linked = {link.entry_id: "mentioned in its definition" for link in index.links_from.get(entry_id, [])}
        for link in index.links_to.get(entry_id, []):
            linked.setdefault(link.entry_id, "mentions this term")
        for other in sorted(linked, key=lambda e: -sims[self._position[e]]):
            named = other if linked[other] == "mentioned in its definition" else entry_id  # whose name was used
            near = sims[self._position[other]]
            if near < WEAK_MENTION_COSINE and self._everyday_name(named):
                continue  # "our refund policy" names Policy, "the shape of your data" Shape: another sense
            if near < OTHER_SENSE_MENTION_COSINE and self._has_other_sense(named):
                continue  # a name senses.tsv knows another sense of is mostly written in it: InfiniBand's "AI"
            picked.setdefault(other, linked[other])
        for other in np.argsort(-sims)[: limit + 1]:
            picked.setdefault(int(index.entry_ids[other]), "similar meaning")
        picked.pop(entry_id, None)
        return [Related(index.entries[i], reason) for i, reason in list(picked.items())[:limit]]


# An install, build, driver or disk failure pasted: no entry's text explains why a package did not
# install or a driver did not load, whatever tool the message names ("ninja: build stopped" while
# building DeepSpeed's ops was offered DeepSpeed as though it were the answer). Signatures only
# such a failure prints; none is in a question the glossary answers (every evaluation set).
_SETUP_FAILURE = re.compile(
    r"No module named|cannot import name|Could not find a version that satisfies|No matching distribution found"
    r"|Failed building wheel|subprocess-exited-with-error|No space left on device|\[Errno \d+\]"
    r"|ninja: build stopped|couldn't communicate with the NVIDIA driver|NVIDIA-SMI has failed"
    r"|unknown model architecture|command not found", re.IGNORECASE)


# What a question asks of a named thing that no definition states (_fact_unsaid): the word asked
# about is the group. Only in a short question: in a longer one such a word is mostly part of the
# story ("downloaded an mm_sd_v15 motion adapter … what does that file do", "half the urls don't work").
# ("version" is everyday English too often: "an independent version", "the soft version".)
FACT_ASKED_MAX_WORDS = 12
# "downloaded llama-3-8b.Q4_K_M.gguf, what does the q4_k_m part mean": a story's first words, not a fact
# asked ("where are downloaded gguf files stored" asks one; review 55)
_STORY_OPENER = re.compile(r"^\s*(?:(?:i|we)(?:'ve|\s+have)?\s+)?(?:just\s+)?downloaded\b", re.IGNORECASE)
_FACT_ASKED = re.compile(
    r"\b(licen[cs]e[sd]?|licensing|download(?:s|ed|ing)?|mirrors?|urls?|pric(?:e[sd]?|ing)"
    r"|authors?)\b", re.IGNORECASE)


def _setup_failure(query: str, result: SearchResult) -> SearchResult:
    """A pasted setup failure is offered what it names, saying the glossary may not cover it."""
    if result.band == NOT_FOUND or not _SETUP_FAILURE.search(query):
        return result
    return replace(result, band=SUGGEST, close=0, far=True)
