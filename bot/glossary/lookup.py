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

from .normalize import asked_about, discord_query, earlier_framed_subjects, framed_subject, place_moved_last
from .names import FUZZY_ANSWER
from .results import ALIAS, ANSWER, CLOSE_MAX, EXACT, MENTION, NOT_FOUND, SIDE_BY_SIDE_MAX, SUGGEST, Hit, SearchResult
from .senses import OtherSense, other_sense_note, sense_note
from .store import StoredEntry
from .terms import STOPWORDS, content_words, lookup_key, stem

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
# "lora for sdxl fine-tuning": a name placed without "what is", in a query no longer than this.
PLACED_MAX_WORDS = 8
_PLACING = frozenset({"in", "for", "when"})
_CLAUSE = frozenset({"and", "or", "but", "if"})  # … starts a clause of its own after a name, no place
# Autocomplete: how close by spelling (0–100) a name must be to fill the list, and beside names the
# text starts (for "kv": KV cache, not Distillation at 50).
COMPLETE_SPELLING, COMPLETE_BESIDE_PREFIX = 55.0, 70.0
# "lora finetuning", "flash attention cuda kernel": two names, as long as the glossary's longest two.
KIND_MAX_WORDS = 8
KIND_WITHIN_WORDS = 8  # … and the first name's definition says it is the second's kind this early
# Words that say a name is a thing of its kind without naming anything more: "attention mechanism",
# "unet architecture", "rag pipeline" ask about the name. Not "function" ("activation function" is
# no Activations) nor "layer" or "loss", which more often name something of their own.
_GENERIC_HEAD = re.compile(r"(?:\s+(?:mechanism|architecture|pipeline|algorithm|method|technique|approach|framework"
                           r"|concept|model|paper|library|trick|strategy|scheme|paradigm|idea|term|thing)s?)+\s*[?.!]*$",
                           re.IGNORECASE)


# "what is rlhf, dpo and ppo", "what are lora and qlora", "the difference between bf16, fp16 and fp8",
# "mqa and gqa": a list of names, each at most LIST_ITEM_WORDS long, asked about together. Beside two
# or more entries it names, a list may hold up to as many short names the glossary lacks ("what is
# rlhf, what is dpo, what is kto"): the reply says it has no entry for those.
_LIST_SEPARATOR = re.compile(r"\s*(?:[,;/&+]|\band\b|\bor\b|\bvs\b\.?|\bversus\b)\s*", re.IGNORECASE)
# What opens or closes a list besides a framing: "what r …", "whats the diff between …", "can u
# explain …", "… - explain", "… what are they all", "what do … measure"
_LIST_OPENING = re.compile(
    r"^(?:(?:what|whats|what's|wat)\s+(?:r|are|is|do|does)\s+|(?:can|could)\s+(?:u|you)\s+(?:explain|define)\s+"
    r"|(?:explain|define|compare)\s+|what\s+do\s+these\s+mean\s*:?\s*)?"
    r"(?:(?:what'?s\s+|whats\s+)?(?:the\s+)?diff(?:erence)?s?\s+between\s+)?", re.IGNORECASE)
_LIST_CLOSING = re.compile(r"(?:\s+(?:all|actually|really))?\s+(?:mean|measure|do|stand for|differences?)$",
                           re.IGNORECASE)  # "h.264 / vp9 / av1 differences?": the last name is "av1"
# "…? and …", "gelu, silu... what are they", and before a closing "what are they" with no stop ("ttft and itl
# what are they")
_LIST_BREAK = re.compile(r"\?+|\.\.\.+|\s+[-—–]+\s+|:\s|\n"
                         r"|\s+(?=(?:what|wat)\s+(?:are|is|r)\s+(?:they|these|those|them|it)\b[\s?!.]*$)", re.IGNORECASE)
_ARTICLE = re.compile(r"^(?:the|a|an)\s+", re.IGNORECASE)
LIST_ITEM_WORDS = 4
_FILLER = frozenset({"something", "anything", "everything", "else", "other", "others", "stuff", "thing", "things",
                     "etc", "whatever", "one", "ones", "them", "these", "those", "all", "both"})
# The heads a list item may leave off: the others in the list say what kind of thing it is.
_LIST_HEADS = ("model", "models", "decoding", "sampling", "method", "s method")  # "heun": Heun's method
LIST_MAX_CHARS = 200  # seven names of a few words each, framed; a pasted question is longer
UNKNOWN_ITEM_WORDS = 2
UNLISTED_MAX = 2  # names lacking beside the one entry of a list ("explain adam, lion and muon")
# How telling a name must be (FeatureMaker.specificity) for a list that names its entry beside names
# the glossary lacks to be answered with it ("gguf" 0.89, "adam" 0.70), not only offered ("batch" 0.45)
LISTED_ALONE_SPECIFICITY = 0.7
# A list that compares asks about its names ("lora vs dora"); a closing piece alone can ask too
# ("rrt, ompl and a* - explain", "…?? how do they compare").
_COMPARING = re.compile(r"\b(?:vs\.?|versus|differen(?:ces?|t)|compared?)\b", re.IGNORECASE)
_ASKING_ALONE = re.compile(r"(?:explain|define|compare|differences?|how do they (?:compare|differ|interact|work))"
                           r"(?: (?:them|pls|please))?", re.IGNORECASE)


def _coined(name: str) -> bool:
    """Whether a name is written as only a coined one is ("ALiBi", "E4M3", "exl2", "GGUF"): letters and
    digits together, a capital after a small letter, or capitals alone; an everyday word is not."""
    letters = [ch for ch in name if ch.isalpha()]
    if not letters:
        return False
    if any(ch.isdigit() for ch in name):
        return True
    mixed = any(a.islower() and b.isupper() for a, b in zip(name, name[1:]))
    return mixed or (len(letters) >= 2 and all(ch.isupper() for ch in letters))


class _ListItems(NamedTuple):
    named: list[int]  # the entries a list names, in its order
    unknown: list[str]  # its short names the glossary lacks, as typed
    asks: bool  # whether it asks about them (framed, a question, a comparison), not a bare list
    typed: dict[int, str]  # each entry's name as the list writes it (a lookup key)
    whole: bool  # whether all it says is names and their framing (no item a question of its own)


def _no_entry_note(unknown: list[str]) -> str:
    return ("The glossary has no entry for " + " or ".join(f"“{u}”" for u in unknown) + ".") if unknown else ""


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
    `embedder`, `_position` and `_sense_vectors`."""

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
        for candidate in dict.fromkeys((query, whole, cut, named, asked_about(query))):
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

    def _listed(self, query: str, listed: _ListItems | None = None, *, one_piece: bool = False) -> SearchResult | None:
        """The entries a list of names asks about, side by side ("what is rlhf, dpo and ppo"), or None
        when the text is no such list: an item too long, one that is a question of its own ("… and
        how do I use it"), one a spelling match would answer, one whose name has another sense here.
        `listed`: what `_list_items` read in the query, if it was read already; `one_piece`: as there."""
        listed = self._list_items(query, one_piece=one_piece) if listed is None else listed
        if listed is None or len(listed.named) < 2 or len(listed.unknown) > len(listed.named):
            return None
        named, unknown = listed.named, listed.unknown
        if (unknown and not listed.asks) or self._a_slip_among(unknown, named):
            return None
        hits = [Hit(self.index.entries[i], MENTION, 1.0) for i in named]
        return SearchResult(query, ANSWER, hits, close=min(len(hits) - 1, CLOSE_MAX), note=_no_entry_note(unknown),
                            asked=tuple(hits[:SIDE_BY_SIDE_MAX]),
                            unshown=tuple(h.entry for h in hits[SIDE_BY_SIDE_MAX:]), lacking=tuple(unknown))

    def _the_whole_list(self, result: SearchResult) -> SearchResult:
        """A search's result, with every entry its list of names asks about ("what's slo? what's sli?
        and error budget?": the framed names answered, "error budget" too) and a note of the names
        the glossary lacks ("what is rlhf? what is dpo? what is kto?", "rope vs alibi?")."""
        listed = self._list_items(result.query) if result.query else None
        if listed is None or not listed.named:
            return result
        if len(listed.named) == 1:
            return self._one_entry_listed(result, listed)
        together = self._listed(result.query, listed)
        if together is None:
            return result
        shown = {h.entry.id for h in result.asked} | {e.id for e in result.unshown}
        if result.band == ANSWER and result.best.match in (EXACT, ALIAS, MENTION):
            shown.add(result.best.entry.id)
        # (The ranker's own hits may name fewer than two of the entries: "… and arithmetic intensity?")
        # (…or the search's first is a name the list reads in its other sense: "prm vs orm", not the robot planner)
        misread = result.best is not None and result.best.match == MENTION and result.best.entry.id not in listed.named
        if misread or any(h.entry.id not in shown for h in together.hits) or (
                together.note and not result.note and self._names_lacking(listed)):
            return together
        return result

    def _one_entry_listed(self, result: SearchResult, listed: _ListItems) -> SearchResult:
        """"what are gguf and exl2?", "rope vs alibi?": a list naming one entry beside names the
        glossary lacks says it has none for those, and answers with the entry when the search is
        unsure (a word it never saw makes the ranker doubt the name beside it) or finds nothing, if
        its name is telling; else offers it first ("a batch and a whisk"). An answer, or a message
        saying more than its names, stays as the search gave it, noted only when it is about that
        entry; and a question the search finds far from the glossary is left alone: the list may be
        of everyday things."""
        far = result.far and not all(_coined(item) for item in listed.unknown)  # "ALiBi" is no alibi
        if (far or result.note or result.unshown or not listed.asks or len(listed.unknown) > UNLISTED_MAX
                or not self._names_lacking(listed) or self._a_slip_among(listed.unknown, listed.named)):
            return result
        entry_id = listed.named[0]
        note, lacking = _no_entry_note(listed.unknown), tuple(listed.unknown)
        if result.band == ANSWER or not listed.whole:
            # (what the message says besides its names, "whats monosemantic mean", may be what it asks)
            about = result.band != NOT_FOUND and result.best is not None and result.best.entry.id == entry_id
            return replace(result, note=note, lacking=lacking) if about else result
        entry = Hit(self.index.entries[entry_id], MENTION, 1.0)
        if self._specificity(listed.typed[entry_id]) >= LISTED_ALONE_SPECIFICITY:
            return SearchResult(result.query, ANSWER, [entry], note=note, lacking=lacking)
        hits = [entry] + [h for h in result.hits if h.entry.id != entry_id]
        return replace(result, band=SUGGEST, hits=hits[: max(len(result.hits), 1)], hints=(), note=note,
                       lacking=lacking)

    def _specificity(self, key: str) -> float:
        """How telling it is that a question names this (FeatureMaker.specificity)."""
        postings = self.index.postings([stem(w) for w in key.split()])
        return self.features.specificity(key, {word: len(ids) for word, (ids, _w) in postings.items()})

    def _list_items(self, query: str, *, one_piece: bool = False) -> _ListItems | None:
        """What a list of names holds: the entries it names, the short names the glossary lacks, and
        whether it asks; None when the text is no list of short names. `one_piece`: a list may be
        one short piece, names side by side without separators ("explain fp8 fp4 int8 bf16"); read
        so only once the ranker has found two names in it, since most short questions are one piece."""
        if len(query) > LIST_MAX_CHARS:
            return None  # a long question (a pasted issue) is no list of names
        # A list's pieces are short (a name, with its framing at most), but for one closing clause.
        short = [len(words) <= LIST_ITEM_WORDS + 3 for part in _LIST_BREAK.split(query)
                 for piece in _LIST_SEPARATOR.split(part) if (words := piece.split())]
        if (sum(short) < 2 and not (one_piece and short == [True])) or len(short) - sum(short) > 1:
            return None
        typed: dict[int, str] = {}  # entry → its name as written, in the list's order
        unknown: list[str] = []
        whole = True
        # A list that asks, not a bare one ("lora, dora"): framed, a question, or a comparison.
        asks = framed_subject(query) is not None or "?" in query or bool(_COMPARING.search(query))
        for part in _LIST_BREAK.split(query):
            subjects = [*earlier_framed_subjects(part, whole_sentence=True), framed_subject(part, whole_sentence=True)]
            subjects = [s for s in subjects if s] or [part]
            for subject in subjects:
                subject = subject.strip(" .?!:-—–")
                if _ASKING_ALONE.fullmatch(subject):
                    asks = True  # "rrt, ompl and a* - explain"
                    continue
                opened = _LIST_OPENING.sub("", subject, count=1)
                asks = asks or len(opened) < len(subject)
                subject = _LIST_CLOSING.sub("", opened).strip()
                whole_name = self.names.exactly(subject)[:1] if subject else []
                if not subject or whole_name:  # "what is precision and recall": one name
                    typed.update((i, lookup_key(subject)) for i in whole_name if i not in typed)
                    continue
                if all(w in STOPWORDS for w in lookup_key(subject).split()):
                    continue  # "… what are they all", "what do these mean: …"
                items = [_ARTICLE.sub("", item.strip(" .?!:-—–")) for item in _LIST_SEPARATOR.split(subject)]
                found = [(item, self._list_item(item, in_list=len(items) > 1)) for item in items if item]
                if any(ids is None for _item, ids in found):
                    whole = False
                    continue  # "… and how do I use it": a question of its own, no name in a list
                for item, ids in found:
                    unknown += [] if ids else [item]
                    typed.update((i, lookup_key(item) if len(ids) == 1 else self.index.term_key[i])
                                 for i in ids if i not in typed)
        named, typed = self._in_the_lists_sense(typed)
        return _ListItems(named, unknown, asks, typed, whole)

    def _in_the_lists_sense(self, typed: dict[int, str]) -> tuple[list[int], dict[int, str]]:
        """A list's entries and their names as typed, each name with another sense that has an entry
        read in whichever sense is nearer the list's other entries: "prm vs orm" is the process
        reward model beside the outcome one, not the robot planner PRM."""
        read = dict(typed)
        vectors = self.index.vectors["full"]
        for entry_id, key in typed.items():
            sense = self._other_sense([entry_id], key)[1]
            others = [self._position[i] for i in typed if i != entry_id]
            if sense is None or sense.entry_id is None or not others or sense.entry_id in typed:
                continue
            own, other = (vectors[others] @ vectors[self._position[i]] for i in (entry_id, sense.entry_id))
            if float(other.max()) > float(own.max()):
                read = {sense.entry_id if i == entry_id else i: k for i, k in read.items()}
        return list(read), read

    def _names_lacking(self, listed: _ListItems) -> bool:
        """Whether what a list holds besides its entries is surely names the glossary lacks ("alibi",
        "muon", "E4M3"), not words of a question that merely read as items ("what's the catch",
        "nothing fancier", "a shard"): every word one the glossary never uses. What a note beside
        the entries a reply shows anyway asks for; a list of several entries read as one asks less."""
        # (whole: "ALiBi" is one name, not the glossary's words "li" and "bi")
        return bool(listed.unknown) and all(
            any(ch.isalpha() for ch in item) and not self.index.postings(content_words(item, identifier_parts=False))
            for item in listed.unknown)

    def _a_slip_among(self, unknown: list[str], named: list[int]) -> bool:
        """Whether a name the list seems to lack is a slip the search answers as the name it is spelled
        like ("qlroa"); not one of a name the list holds already ("grpo, gae and trpo")."""
        for item in unknown:
            close = self.names.spelled_like(item, 1, strict=True)
            if (close and close[0][1] >= FUZZY_ANSWER and close[0][0] not in named
                    and not self.names.another_word(item, close[0][0], close[0][2])):
                return True
        return False

    def _list_item(self, item: str, in_list: bool) -> list[int] | None:
        """The entries one item of a list names ("ddp fsdp" beside "and zero": both), [] for a short
        name the glossary lacks ("kto"), None for what is no name at all ("how do i use it", "or
        something else"). Two names alone are one thing ("int8 calibration"), three a list."""
        if len(item.split()) > LIST_ITEM_WORDS:
            return None
        ids = self.names.exactly(item)
        if ids:
            # A name with another sense is no item of a list alone ("what is rank"); beside other names
            # it is, read in the sense nearer them (`_in_the_lists_sense`).
            alone = not in_list and self._other_sense(ids[:1], lookup_key(item))[1] is not None
            return None if alone else ids[:1]
        words = lookup_key(item).split()
        each = [self.names.exactly(w) for w in words]
        # "explain fp8 fp4 int8 bf16": every word a name, and no two of them one ("token embedding layer")
        if ((len(words) > 2 or (len(words) == 2 and in_list)) and all(each)
                and [m.key for m in self.features.spotter.spot(item)] == words):
            return None if any(self._other_sense(e[:1], w)[1] is not None for e, w in zip(each, words)) else \
                [e[0] for e in each]
        if len(words) > UNKNOWN_ITEM_WORDS or any(w in STOPWORDS or w in _FILLER for w in words):
            return None
        if in_list and len(words) == 1:
            # "gan vs vae vs diffusion", "greedy vs sampling": beside other names, a word is the name
            # it heads when the glossary has one such name only ("Diffusion model", "Greedy decoding")
            headed = {i for head in _LIST_HEADS for i in self.names.exactly(f"{words[0]} {head}")}
            if len(headed) == 1:
                return sorted(headed)
        return []  # unless a spelling match would answer it (checked once the list is found)

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
        (no framing, kinds or spelling as `named` allows); no model call."""
        entry = self.index.entry_named(term)
        if entry is None:
            ids = set(self.names.exactly(term))
            entry = self.index.entries[ids.pop()] if len(ids) == 1 else None
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
                return replace(result, hits=hits, close=min(CLOSE_MAX, len(hits) - 1),
                               note=other_sense_note(found.sense, result.hits[0].entry.term,
                                                     result.hits[0].entry.definition))
        return result

    def _answer_placed(self, query: str, result: SearchResult) -> SearchResult:
        """A framed name whose rest holds a word the glossary never uses ("what is a warp in star
        trek") is left to the ranker; when the ranker answers with that very name, the rest must
        still read as some entry's field, as it must for a name looked up ("_in_context")."""
        text = place_moved_last(query) or query  # "in QLoRA what is NF4"
        whole, cut = framed_subject(text, whole_sentence=True), framed_subject(text)
        if not cut or not whole or whole == cut or self.embedder is None:
            return result
        rest = whole[len(cut):].strip()
        if _coined(cut) and self.names.misspelt(cut) and result.best.entry.id in self.names.in_text(rest):
            # "what is NF4 in QLoRA": a coined name the glossary never uses, asked about in an entry it
            # has; that entry is offered, not answered for a name it does not explain.
            return replace(result, band=SUGGEST, close=0, note=_no_entry_note([cut]), lacking=(cut,))
        if result.best.entry.id not in self.names.exactly(cut) or not rest or self.names.in_text(rest):
            return result
        return self._in_context(_NameLookup(result, rest, rest_names=False, other=None))

    def _offer_framed_name(self, query: str, result: SearchResult, placed: int | None = None) -> SearchResult:
        """A name the question frames leads an unsure reply and is never refused outright: "what is a
        tokenizer in huggingface" or "what's an agent in langchain" hold a word the glossary never
        uses, so they were not answered as a name, and the ranker may not be sure of them either
        (ReAct before Agent); offered first ("Did you mean"), the name is one click away. So is the
        glossary's sense of "attention in psychology", where the glossary may not cover the rest, and a
        name a short query places without "what is" (`placed`)."""
        cut = framed_subject(query)
        ids = (self.names.exactly(cut) or self._names_only(cut)) if cut else self._names_only(query)
        ids = [placed] if placed is not None else ids  # "gqa in llama 2 70b" (_placed_name)
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
