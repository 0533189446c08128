"""Name lookups: a query answered by the entry it names, with little or no model.

An exact term or alias (of the text, or of what its "what is …" asks about), a name and the kind of
thing it is ("lora finetuning"), a name said of itself with a generic word ("attention mechanism"),
and the words after a framed name that may place it in another field ("a batch in baking") or in
the name's other sense ("a PRM in math reasoning": one short model call). Also what an unsure
ranked reply owes a framed name or a question of nothing but names: to offer them first.
`Searcher` (search.py) is built on these; they read its index, names, features, senses and model.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import NamedTuple

from .normalize import (american, asked_about, discord_query, earlier_framed_subjects, framed_subject,
                        place_moved_last)
from .names import SHORT_QUERY_WORDS
from .results import ALIAS, ANSWER, CLOSE_MAX, EXACT, MENTION, NOT_FOUND, SIDE_BY_SIDE_MAX, SUGGEST, Hit, SearchResult
from .lists import no_entry_named_note, no_entry_note
from .senses import OtherSense, other_sense_note, sense_note
from .store import StoredEntry
from .terms import STOPWORDS, coined, content_words, lookup_key

# Words after a framed name that name no entry ("what is a batch in baking") keep it the answer only if
# some entry is this close to them in meaning (the shipped model's cosine). Of 48 such questions written
# to probe it, the qualifiers of ML questions reached 0.23–0.64 ("in Hugging Face" lowest), those of
# other fields 0.20–0.36 ("in baking" 0.22, "in weaving" 0.35); on 34 more by another writer, 20 of 21
# ML questions stay answers and 9 of 13 from other fields become offers (docs/retrieval.md). A name so
# offered is as likely meant in the one field as in the other.
PLACED_COSINE = 0.3
PLACED_OURS_BELOW = 0.5  # the field model thinks it more likely ours than not
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
# "lora for sdxl fine-tuning": a name placed without "what is", in a query no longer than this.
PLACED_MAX_WORDS = 8
# How telling a name must be for a short question that names it never to be refused outright
# ("perplexity" and "flashattention" 0.79; "checkpoint" 0.70, "checkpoint at airport security"; "lora"
# 0.60, the glossary's text using it often). Stricter than lists.LISTED_ALONE_SPECIFICITY (0.7), which
# answers a list's one entry: here the ranker has already refused the question.
TELLING_SPECIFICITY = 0.75
_PLACING = frozenset({"in", "for", "when"})
# "who was pinocchio", "who is triton": the glossary defines things, not people.
_WHO = re.compile(r"^who\s+(?:is|was|are|were)\s+(?:an?\s+|the\s+)?(.+?)[\s?!.]*$", re.IGNORECASE)
_CLAUSE = frozenset({"and", "or", "but", "if"})  # … starts a clause of its own after a name, no place
# "what does the jacobian mean in robotics": the verb before the place ("mean in robotics"), and
# words after a name that place it nowhere ("what does SIMT mean in practice")
_ASKING_VERB = re.compile(r"^(?:mean|means|do|does|stand for|stands for|refer to|refers to)\b\s*", re.IGNORECASE)
_NO_PLACE = re.compile(r"(?:in|for)\s+(?:practice|general|short|theory|particular|fact|reality|real life|a nutshell"
                       r"|detail|depth|this case|simple terms|simple words|plain english)\b", re.IGNORECASE)
# Autocomplete: how close by spelling (0–100) a name must be to fill the list, and beside names the
# text starts (for "kv": KV cache, not Distillation at 50).
COMPLETE_SPELLING, COMPLETE_BESIDE_PREFIX = 55.0, 70.0
# "lora finetuning", "flash attention cuda kernel": two names, as long as the glossary's longest two.
KIND_MAX_WORDS = 8
UNKNOWN_LEAD_MAX_WORDS = 5  # "what is GAIL imitation learning": a name and a few words placing it
KIND_WITHIN_WORDS = 8  # … and the first name's definition says it is the second's kind this early
# Words that say a name is a thing of its kind without naming anything more: "attention mechanism",
# "unet architecture", "rag pipeline" ask about the name. Not "function" ("activation function" is
# no Activations) nor "layer" or "loss", which more often name something of their own.
_GENERIC_HEAD = re.compile(r"(?:\s+(?:mechanism|architecture|pipeline|algorithm|method|technique|approach|framework"
                           r"|concept|model|paper|library|trick|strategy|scheme|paradigm|idea|term|thing)s?)+\s*[?.!]*$",
                           re.IGNORECASE)


INFLECTED_STEM = 4  # "caching" and "cache" share "cach"
FRAMING_MAX_WORDS = 3  # "can you explain", "what is a": a question that is nothing but its framing and name


def _framing_before(subject: str) -> re.Pattern:
    """"what is / what's / what are / define / explain" right before the subject: after "what does",
    the subject's last word is a verb ("what does a sweep involve"), not a thing named."""
    return re.compile(r"\b(?:what(?:'s|’s| is| are)|define|explain)\s+(?:(?:an?|the)\s+)?" + re.escape(subject),
                      re.IGNORECASE)


class _NameLookup(NamedTuple):
    result: SearchResult
    rest: str  # the words after a name a framing cut short ("what is a batch in baking": "in baking"), or ""
    rest_names: bool  # whether they name an entry ("a kernel in CUDA"): then they are the glossary's field
    other: int | None  # the entry of the name's other sense, shown beside it only for that sense
    sense: OtherSense | None = None  # the name's other sense (senses.py), if it has one

    @property
    def meaning(self) -> str:
        """That other sense's words when the glossary has no entry for it ("singular value decomposition")."""
        return self.sense.meaning if self.sense is not None and self.sense.entry_id is None else ""


class NameLookups:
    """The name lookups of a `Searcher`, which sets `index`, `names`, `features`, `senses`,
    `embedder`, `_position` and `_sense_vectors`, and has a name's specificity from
    `ListLookups._specificity` (lists.py)."""

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
        # "what about temperature then": the name it asks about, after a reply the bot did not keep
        typed = (query, whole, cut, named, asked_about(query))
        for candidate in dict.fromkeys((*typed, *(american(t) for t in typed if t))):
            if not candidate:
                continue
            ids, kind, spelled = self.names.exactly(candidate), [], True
            if not ids:
                ids, kind = self._name_and_its_kind(candidate)
                spelled = False
            if not ids and _GENERIC_HEAD.search(candidate):
                # "attention mechanism", "unet architecture", "rag pipeline": the name, said of itself
                ids = self.names.exactly(_GENERIC_HEAD.sub("", candidate))
            if not ids:
                continue
            key = lookup_key(candidate)
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
            # "what does the jacobian mean in robotics": the place is "in robotics", not "mean in robotics"
            rest = _ASKING_VERB.sub("", whole[len(cut):].strip()) if qualified else ""
            rest = "" if _NO_PLACE.match(rest) else rest  # "… mean in practice" places it nowhere
            if rest and rest.split()[0].lower() in _CLAUSE:
                rest = ""  # "what is gradient checkpointing and would it help": a clause of its own, no place
            rest_names = bool(also)
            # "what is rlhf, what is dpo, and what is ppo": the earlier questions' entries too.
            asked = []
            for earlier in earlier_framed_subjects(query) if candidate == cut else ():
                asked += [i for i in self.names.exactly(earlier) if i not in ids and i not in asked]
            also += [i for i in asked if i not in also]
            # "what is AI": the glossary's AI is arithmetic intensity, and the reply says so. The
            # entry of the other sense comes after those the question names ("a kernel in CUDA").
            note, sense = self._other_sense(ids, key)
            other = sense.entry_id if sense is not None else None
            if other is not None and other not in also:
                also.append(other)
            else:
                other = None  # the question names it: it stays, whatever sense the rest reads in
            # Several questions in one message show every entry asked about, up to a row of buttons.
            shown = max(CLOSE_MAX, min(len(asked), SIDE_BY_SIDE_MAX - 1))
            hits += [Hit(self.index.entries[i], MENTION, 1.0) for i in also[:shown]]
            together = [h for h in hits if h.entry.id in asked or h.entry.id == ids[0]] if asked else []
            placed = {h.entry.id for h in together}
            result = SearchResult(query, ANSWER, hits, close=min(len(also) + len(kind), CLOSE_MAX), note=note,
                                  asked=self._in_question_order(query, together),
                                  unshown=tuple(self.index.entries[i] for i in asked if i not in placed))
            return _NameLookup(result, rest, rest_names, other, sense)
        return None

    def _place_first(self, query: str) -> _NameLookup | None:
        """"in lora, what does the rank mean": a name framed after the place it is asked in, read as
        "what does the rank mean in lora" would be (`place_moved_last`), with the query as written."""
        moved = place_moved_last(query)
        found = self._lookup(moved) if moved else None
        return found._replace(result=replace(found.result, query=query)) if found else None

    def _placed_name(self, query: str) -> _NameLookup | None:
        """"lora for sdxl fine-tuning", "gqa in llama 2 70b": a short query that opens with a name,
        then places it ("in", "for" …), asks about that name as "what is …" would; read the same
        way, with the words after it (`_in_context`)."""
        words = query.lower().split()
        if len(words) > PLACED_MAX_WORDS or _PLACING.isdisjoint(words[1:]) or framed_subject(query) is not None:
            return None
        found = self._lookup(f"what is {query}")
        if found is None or not found.rest or found.rest.split()[0].lower() not in _PLACING:
            return None  # "base model vs instruct model" is a comparison, for the ranker
        # Even a place that names an entry must read as the glossary's field ("hopper for grain
        # storage" names Storage): unframed, the name is less surely the question's subject.
        return found._replace(result=replace(found.result, query=query), rest_names=False)

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

    def _other_sense(self, ids: list[int], key: str) -> tuple[str, OtherSense | None]:
        """The note for an answer of one entry by a name with another sense (senses.py), and that
        sense (its `entry_id`, resolved against this index, is the entry of it if the glossary has
        one); "" and None for any other answer."""
        sense = self.senses.get((ids[0], key)) if len(ids) == 1 else None
        if sense is None:
            return "", None
        other_term = self.index.entries[sense.entry_id].term if sense.entry_id is not None else None
        return sense_note(sense, self.index.entries[ids[0]].term, other_term), sense

    def named(self, term: str, *, cut: bool = False) -> StoredEntry | None:
        """The entry `term` names: exactly (`cut`: or cut short, see GlossaryIndex.entry_named),
        or by a term or alias match; no model call."""
        entry = self.index.entry_named(term, cut=cut)
        if entry is None:
            found = self.lookup(term)
            entry = found.best.entry if found and found.best else None
        return entry

    def entry_now_named(self, term: str) -> StoredEntry | None:
        """The entry a name stored earlier (a review card's term) stands for in this index: the entry
        called exactly that, else the one entry with it as a term or alias, as written or without its
        spaces (an entry renamed with its old name kept as an alias). None when no entry has the name
        or several do: a stored name is followed only where the glossary says where, never guessed
        (no framing, kinds or spelling as `named` allows); no model call. Last, a name an earlier
        build gave the entry (a typo fixed in its term, its definition unchanged: earlier_names.py)."""
        entry = self.index.entry_named(term)
        if entry is None:
            ids = set(self.names.exactly(term))
            entry = self.index.entries[ids.pop()] if len(ids) == 1 else None
        if entry is None and (now := self.index.former.get(lookup_key(term))) is not None:
            entry = self.index.entry_named(now)
        return entry

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
        elsewhere = 1.0 if found.rest_names or self.field is None else self.field.outside(rest, float(near.max()))
        # A place near no entry is another field's, unless the field model is sure enough it is ours: a
        # model or a tool the glossary gives no entry ("gqa in llama 2 70b", "kv cache in llama.cpp"
        # were offered as one "Did you mean" each; QA74), not "a batch in baking".
        placing = found.rest.split()[0].lower() in _PLACING  # "in llama 2", not "and exl2" (a list's)
        if not found.rest_names and float(near.max()) < PLACED_COSINE and (elsewhere >= PLACED_OURS_BELOW
                                                                           or not placing):
            return replace(result, band=SUGGEST, close=0, confidence=UNPLACED_CONFIDENCE)
        if not found.rest_names and self.field is not None and elsewhere >= self.field.outside_at:
            return replace(result, band=SUGGEST, close=0, confidence=UNPLACED_CONFIDENCE, far=True)
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
                return replace(result, hits=hits, close=min(CLOSE_MAX, len(hits) - 1),
                               note=other_sense_note(found.sense, result.hits[0].entry.term,
                                                     result.hits[0].entry.definition))
        return result

    def _asked_who(self, query: str, result: SearchResult) -> SearchResult:
        """"who is triton", "who was pinocchio": an answer by the name asked about is offered instead,
        and said to be perhaps not covered: the glossary's entries are things, not people."""
        who = _WHO.match(query)
        if result.band != ANSWER or not who or result.best.entry.id not in self.names.exactly(who.group(1)):
            return result
        return replace(result, band=SUGGEST, close=0, confidence=UNPLACED_CONFIDENCE, far=True)

    def _answer_placed(self, query: str, result: SearchResult) -> SearchResult:
        """A framed name whose rest holds a word the glossary never uses ("what is a warp in star
        trek") is left to the ranker; when the ranker answers with that very name, the rest must
        still read as some entry's field, as it must for a name looked up ("_in_context")."""
        result = self._asked_who(query, result)
        text = place_moved_last(query) or query  # "in QLoRA what is NF4"
        whole, cut = framed_subject(text, whole_sentence=True), framed_subject(text)
        lead = self._unknown_coined_lead(cut, result.best.entry.id)
        if lead is not None:
            # "what is GAIL imitation learning" answered BC, "what is BCQ offline rl" CQL: the domain's
            # words made the ranker sure of the domain, not of the name asked about
            return replace(result, band=SUGGEST, close=0, note=no_entry_note([lead]), lacking=(lead,))
        if cut and self.names.names_a_kind(cut, result.best.entry.id) and _framing_before(cut).search(text):
            # "what is vanilla javascript" answered Vanilla: the name qualifies a thing the glossary
            # never speaks of, as "fp6 quantization" does by spelling (Names._qualified)
            return replace(result, band=SUGGEST, close=0, note=no_entry_note([cut]), lacking=(cut,))
        if not cut or not whole or whole == cut or self.embedder is None:
            return result
        rest = whole[len(cut):].strip()
        if coined(cut) and self.names.misspelt(cut) and result.best.entry.id in self.names.in_text(rest):
            # "what is NF4 in QLoRA": a coined name the glossary never uses, asked about in an entry it
            # has; that entry is offered, not answered for a name it does not explain.
            return replace(result, band=SUGGEST, close=0, note=no_entry_note([cut]), lacking=(cut,))
        if result.best.entry.id not in self.names.exactly(cut) or not rest or self.names.in_text(rest):
            return result
        return self._in_context(_NameLookup(result, rest, rest_names=False, other=None))

    def _unknown_coined_lead(self, cut: str | None, answer_id: int) -> str | None:
        """The coined name a framed subject of a few words opens with ("GAIL" in "GAIL imitation
        learning", "tf32" in "tf32 precision") when it names no entry and neither the answer's text nor
        its vocabulary uses it: the thing asked about, which the glossary has no entry for (TF32 is in
        Tensor Core's vocabulary, not float32's, which was answered); None otherwise."""
        words = cut.split() if cut else []
        if not 2 <= len(words) <= UNKNOWN_LEAD_MAX_WORDS:
            return None
        first = words[0].strip(",.:;!?")
        if not (coined(first) and sum(ch.isalpha() for ch in first) >= 2) or self.names.exactly(first):
            return None
        position = self._position[answer_id]
        stems = content_words(first)
        if any(position in at for at, _w in (*self.index.postings(stems).values(),
                                             *self.index.vocabulary_postings(stems).values())):
            return None  # the answer's own word: practitioners' or the glossary's
        return first

    def _offer_framed_name(self, query: str, result: SearchResult, placed: int | None = None, *,
                           spelled: bool = False) -> SearchResult:
        """A name the question frames leads an unsure reply and is never refused outright: "what is a
        tokenizer in huggingface" or "what's an agent in langchain" hold a word the glossary never
        uses, so they were not answered as a name, and the ranker may not be sure of them either
        (ReAct before Agent); offered first ("Did you mean"), the name is one click away. So is the
        glossary's sense of "attention in psychology", where the glossary may not cover the rest, and a
        name a short query places without "what is" (`placed`). `spelled`: the query is spelled like
        a name, which the search offers instead ("flash-attn": FlashAttention, not Attention's "attn")."""
        cut = framed_subject(query)
        ids = (self.names.exactly(cut) or self._names_only(cut)) if cut else self._names_only(query)
        ids = [placed] if placed is not None else ids  # "gqa in llama 2 70b" (_placed_name)
        # "perplexity of gpt-2 on wikitext": a short question refused although it names a telling
        # name is offered that name, saying the glossary may not cover the rest
        told = self._telling_name(query) if not ids and result.band == NOT_FOUND and not spelled else None
        ids = [told] if told is not None else ids
        if not ids or (result.band == SUGGEST and set(ids) <= {h.entry.id for h in result.hits[:len(ids)]}):
            return result
        place = {h.entry.id: n for n, h in enumerate(result.hits)}
        ids = sorted(ids, key=lambda i: place.get(i, len(place)))  # the ranker's order among the names
        if any(h.entry.id in ids for h in result.asked):
            return result  # "what is lora vs qlora": both sides are on screen already
        hits = [Hit(self.index.entries[i], MENTION, 1.0) for i in ids]
        hits += [h for h in result.hits if h.entry.id not in ids]
        return SearchResult(query, SUGGEST, hits[:max(len(result.hits), len(ids))], confidence=result.confidence,
                            far=result.far or told is not None)

    def _no_entry_named(self, query: str, result: SearchResult) -> SearchResult:
        """"what is machine learning", "what is a gpu", "what is rnn": an unsure reply to a framed
        name that is no entry's name says so, so the entries offered are not read as that name
        ("Not sure which entry that is" implied one of them was). Said of a name only: a framed
        phrase that holds a name, or words of a question ("the best optimizer"), is left as it is."""
        if result.band != SUGGEST or result.note or result.lacking or not result.hits:
            return result
        cut = framed_subject(query)
        if not cut or cut != framed_subject(query, whole_sentence=True) or not self._a_missing_name(cut):
            return result
        if len(query.split()) > len(cut.split()) + FRAMING_MAX_WORDS:  # "… so what's happening": no name
            return result
        if self._inflects_an_offer(cut, result):
            return result
        return replace(result, note=no_entry_named_note(cut), lacking=(cut,))

    def _inflects_an_offer(self, text: str, result: SearchResult) -> bool:
        """Whether the text is an offered entry's name in another form ("kv caching": KV cache), word
        for word the same start: that entry is the one meant, under its own name."""
        words = lookup_key(text).split()
        offered = {h.entry.id for h in result.hits[:CLOSE_MAX + 1]}
        names = [self.index.term_key.get(i, "") for i in offered]
        names += [key for entry_id, _alias, key in self.names.rows if entry_id in offered]
        return any(len(name.split()) == len(words) and all(
            a[:INFLECTED_STEM] == b[:INFLECTED_STEM] for a, b in zip(words, name.split())) for name in names)

    def _telling_name(self, query: str) -> int | None:
        """The one entry a short query names by a telling name (TELLING_SPECIFICITY: "perplexity",
        "gguf", not "checkpoint" or "batch"), or None."""
        if len(query.split()) > SHORT_QUERY_WORDS:
            return None
        named = {i for _at, key, ids in self.features.names_in(query) for i in ids
                 if self._specificity(key) >= TELLING_SPECIFICITY or self._coined_and_one_sense(i, key)}
        return named.pop() if len(named) == 1 else None

    def _coined_and_one_sense(self, entry_id: int, key: str) -> bool:
        """Whether the glossary writes this name of the entry as only a coined name is ("LoRA",
        "GGUF"), three letters or more, and knows no other sense of it: telling however many
        definitions use it ("lora alpha", "lora dropout" were refused: LoRA's name is in 40 of them)."""
        written = self.names.written(entry_id, key)
        return (coined(written) and sum(ch.isalpha() for ch in written) >= 3
                and not any(sense_key[0] == entry_id for sense_key in self.senses))

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
        key = lookup_key(discord_query(prefix or ""))
        ranked: list[int] = []
        if not key:
            ranked = list(self.index.entries)[:limit]
        else:
            term_prefix = [i for i, k in self.index.term_key.items() if k.startswith(key)]
            alias_prefix = [e for e, _a, k in self.names.rows if k.startswith(key) or f" {key}" in k]
            ranked = sorted(term_prefix, key=lambda i: len(self.index.entries[i].term))
            ranked += alias_prefix
            # Spelling fills the list only with names near what is typed: "kv" once offered Distillation
            # and FK / IK after KV cache. Beside names it starts, a slip must be closer still.
            floor = COMPLETE_BESIDE_PREFIX if ranked else COMPLETE_SPELLING
            ranked += [e for e, score in self.fuzzy(prefix, limit) if score >= floor]
        return [self.index.entries[i] for i in dict.fromkeys(ranked)][:limit]
