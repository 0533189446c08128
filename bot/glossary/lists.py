"""Lists of names: "what are rlhf, dpo and ppo", "lora vs qlora vs dora", "ttft and itl what are they".

The entries a list names set side by side, and the short names it holds that the glossary lacks
("what is rlhf, what is dpo, what is kto": the reply says it has no entry for kto). Read from the
text alone, after the ranker (`Searcher.search` asks only when the ranker's top five name two
entries) and on every reply (`_the_whole_list`). A name with another sense is read in the one
nearer the list's other names, for a comparison the ranker sets side by side too.
`Searcher` (search.py) is built on these; they read its index, names, features and `_position`,
and a name's other sense from `NameLookups._other_sense` (lookup.py).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import NamedTuple

from .names import FUZZY_ANSWER
from .normalize import earlier_framed_subjects, framed_subject
from .results import ALIAS, ANSWER, CLOSE_MAX, EXACT, MENTION, NOT_FOUND, SIDE_BY_SIDE_MAX, SUGGEST, Hit, SearchResult
from .terms import STOPWORDS, coined, content_words, lookup_key, stem

# "what is rlhf, dpo and ppo", "what are lora and qlora", "the difference between bf16, fp16 and fp8",
# "mqa and gqa": a list of names, each at most LIST_ITEM_WORDS long, asked about together. Beside two
# or more entries it names, a list may hold up to as many short names the glossary lacks ("what is
# rlhf, what is dpo, what is kto"): the reply says it has no entry for those.
_LIST_SEPARATOR = re.compile(r"\s*(?:[,;/&+]|\band\b|\bor\b|\bvs\b\.?|\bversus\b)\s*", re.IGNORECASE)
# What opens or closes a list besides a framing: "what r …", "whats the diff between …", "can u
# explain …", "… - explain", "… what are they all", "what do … measure"
_LIST_OPENING = re.compile(
    r"^(?:(?:what|whats|what's|wat)\s+(?:r|are|is|do|does)\s+|(?:can|could)\s+(?:u|you)\s+(?:explain|define)\s+"
    r"|(?:explain|define|compare)\s+|what\s+do\s+these\s+mean\s*:?\s*|how\s+(?:do|does)\s+(?=.*\bdiffer\W*$))?"
    r"(?:(?:what'?s\s+|whats\s+|wats\s+)?(?:the\s+)?(?:diff?e?r+e?nces?|diffs?)\s+(?:between|betwen|btwn|b/w)\s+)?",
    re.IGNORECASE)  # (misspelt as typed: "diffrence btwn dpo & ppo", "the diff b/w …")
_LIST_CLOSING = re.compile(r"(?:\s+(?:all|actually|really))?\s+(?:mean|measure|do|stand for|differences?|differ)$",
                           re.IGNORECASE)  # "h.264 / vp9 / av1 differences?": the last name is "av1"
# "…? and …", "gelu, silu... what are they", and before a closing "what are they" with no stop ("ttft and itl
# what are they")
_LIST_BREAK = re.compile(r"\?+|\.\.\.+|\s+[-—–]+\s+|:\s|\n"
                         r"|\s+(?=(?:what|wat)\s+(?:are|is|r)\s+(?:they|these|those|them|it)\b[\s?!.]*$)", re.IGNORECASE)
_ARTICLE = re.compile(r"^(?:the|a|an)\s+", re.IGNORECASE)
LIST_ITEM_WORDS = 4
_FILLER = frozenset({"something", "anything", "everything", "else", "other", "others", "stuff", "thing", "things",
                     "etc", "whatever", "one", "ones", "them", "these", "those", "all", "both",
                     # "adam vs the rest", "lora vs vanilla": the other side is no name
                     "rest", "alternatives", "alternative", "competitors", "baseline", "baselines", "normal", "regular",
                     "standard", "vanilla", "default", "traditional", "classic", "usual",
                     # "… and what's the catch": what a question asks of the names, no name itself
                     "catch", "point", "deal", "tradeoff", "tradeoffs", "trade-off", "trade-offs", "downside",
                     "downsides", "upside", "benefit", "benefits", "pros", "cons"})
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
_COMPARING = re.compile(r"\b(?:vs\.?|versus|diff?e?r+e?n(?:ces?|t)|differ|diff|compared?)\b", re.IGNORECASE)
_SCENE = re.compile(r"\s+(?:for|in|on|at|with|when|during)\s+.*$", re.IGNORECASE)
_ASKING_ALONE = re.compile(r"(?:explain|define|compare|differences?|how do they (?:compare|differ|interact|work))"
                           r"(?: (?:them|pls|please))?", re.IGNORECASE)


# A question of its own in a message that asks about several things ("what is lora? how is qlora
# different?"): it opens on a question word, and is short.
_OWN_QUESTION = re.compile(r"^(?:(?:and|also|then|so|but)\s+)*(?:how|why|what|when|which|where|is|are|does|do|can"
                           r"|should)\b", re.IGNORECASE)
QUESTION_ITEM_WORDS = 10


def _a_short_question(text: str) -> bool:
    return len(text.split()) <= QUESTION_ITEM_WORDS and bool(_OWN_QUESTION.match(text.strip()))


class _ListItems(NamedTuple):
    named: list[int]  # the entries a list names, in its order
    unknown: list[str]  # its short names the glossary lacks, as typed
    asks: bool  # whether it asks about them (framed, a question, a comparison), not a bare list
    typed: dict[int, str]  # each entry's name as the list writes it (a lookup key)
    whole: bool  # whether all it says is names and their framing (no item a question of its own)


def no_entry_note(unknown: list[str]) -> str:
    return ("The glossary has no entry for " + " or ".join(f"“{u}”" for u in unknown) + ".") if unknown else ""


UNNAMED_MAX_WORDS = 3
# Words that make a framed phrase part of a question, not a name: "what is the best optimizer",
# "what is the point of dropout", "explain your sources".
_NOT_A_NAME = frozenset({"best", "worst", "difference", "point", "purpose", "use", "meaning", "idea", "goal",
                         "reason", "problem", "issue", "way", "thing", "something", "this", "that", "it", "these",
                         "those", "your", "my", "our", "their", "you", "me", "us", "we", "i", "good", "bad",
                         "better", "next", "latest", "new", "main", "role"})


def _a_bare_name(text: str) -> bool:
    """Whether a framed subject reads as a bare name ("machine learning", "a gpu"), not as words of a
    question ("the best optimizer", "the point of dropout"): few words, and nothing but an article
    among them that a name would not hold."""
    words = re.sub(r"^(?:an?|the)\s+", "", text.strip(), flags=re.IGNORECASE).lower().split()
    return (0 < len(words) <= UNNAMED_MAX_WORDS and not any(w in STOPWORDS or w in _NOT_A_NAME for w in words)
            and any(ch.isalpha() for ch in text))


def no_entry_named_note(name: str) -> str:
    return f"The glossary has no entry named “{name}”."


class ListLookups:
    """The list readings of a `Searcher`."""

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
        return SearchResult(query, ANSWER, hits, close=min(len(hits) - 1, CLOSE_MAX), note=no_entry_note(unknown),
                            asked=tuple(hits[:SIDE_BY_SIDE_MAX]),
                            unshown=tuple(h.entry for h in hits[SIDE_BY_SIDE_MAX:]), lacking=tuple(unknown))

    def _the_whole_list(self, result: SearchResult) -> SearchResult:
        """A search's result, with every entry its list of names asks about ("what's slo? what's sli?
        and error budget?": the framed names answered, "error budget" too) and a note of the names
        the glossary lacks ("what is rlhf? what is dpo? what is kto?", "rope vs alibi?")."""
        listed = self._list_items(result.query) if result.query else None
        if listed is not None and not listed.named:
            return self._none_listed(result, listed)
        if listed is None:
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

    def _none_listed(self, result: SearchResult, listed: _ListItems) -> SearchResult:
        """"what is the difference between supervised and unsupervised learning": an unsure reply to a
        comparison of two names the glossary has neither of says so, so its offers are not read as
        either. (Two: a third item is more often a topic said first, "SQL question: … LEFT JOIN …".)"""
        if (result.band != SUGGEST or result.note or not listed.whole or len(listed.unknown) != 2
                or not _COMPARING.search(result.query)):
            return result
        if not all(self._a_missing_name(item) for item in listed.unknown):
            return result
        return replace(result, note=no_entry_note(listed.unknown), lacking=tuple(listed.unknown))

    def _a_missing_name(self, text: str) -> bool:
        """Whether the text reads as a bare name (_a_bare_name) that holds no name of the glossary's:
        "machine learning", not "gradient descent" (Gradients) nor "the best optimizer"."""
        return _a_bare_name(text) and not self.names.exactly(text) and not self.features.names_in(text)

    def _one_entry_listed(self, result: SearchResult, listed: _ListItems) -> SearchResult:
        """"what are gguf and exl2?", "rope vs alibi?": a list naming one entry beside names the
        glossary lacks says it has none for those, and answers with the entry when the search is
        unsure (a word it never saw makes the ranker doubt the name beside it) or finds nothing, if
        its name is telling; else offers it first ("a batch and a whisk"). An answer, or a message
        saying more than its names, stays as the search gave it, noted only when it is about that
        entry; and a question the search finds far from the glossary is left alone: the list may be
        of everyday things."""
        far = result.far and not all(coined(item) for item in listed.unknown)  # "ALiBi" is no alibi
        if (far or result.note or result.unshown or not listed.asks or len(listed.unknown) > UNLISTED_MAX
                or self._a_slip_among(listed.unknown, listed.named)):
            return result
        entry_id = listed.named[0]
        # "gpt-4v vs llava": one word written as only a coined name is, is a name the glossary lacks too
        # (not "l2 reg", short for L2 regularization)
        if not (self._names_lacking(listed) or all(coined(item) and " " not in item for item in listed.unknown)
                or self._side_lacking(result.query, listed)):
            return result
        note, lacking = no_entry_note(listed.unknown), tuple(listed.unknown)
        if result.band == ANSWER or not listed.whole:
            # (what the message says besides its names, "whats monosemantic mean", may be what it asks)
            about = result.band != NOT_FOUND and result.best is not None and result.best.entry.id == entry_id
            return replace(result, note=note, lacking=lacking) if about else result
        entry = Hit(self.index.entries[entry_id], MENTION, 1.0)
        typed = listed.typed[entry_id]
        # An acronym the glossary writes as one ("cnn": CNN) is telling however many longer names
        # hold it (PixelCNN, DCGAN): "cnn vs rnn" asks about CNN as "rope vs alibi" about RoPE.
        if self._specificity(typed) >= LISTED_ALONE_SPECIFICITY or self._acronym_of(entry.entry, typed):
            return SearchResult(result.query, ANSWER, [entry], note=note, lacking=lacking)
        hits = [entry] + [h for h in result.hits if h.entry.id != entry_id]
        return replace(result, band=SUGGEST, hits=hits[: max(len(result.hits), 1)], hints=(), note=note,
                       lacking=lacking)

    @staticmethod
    def _acronym_of(entry, typed: str) -> bool:
        """Whether `typed` is the entry's name or alias, in any case, which the glossary writes as an
        acronym (capitals alone, or with digits): "cnn" for CNN, not "batch" for Batch."""
        return any(name.casefold() == typed.casefold() and name.isupper() and " " not in name
                   for name in (entry.term, *entry.aliases))  # (LoRA, many entries' piece, stays offered)

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
        # A list's pieces are short (a name, with its framing at most), but for one closing clause; a
        # sentence that is a short question of its own counts as one ("what is a tokenizer? and why does
        # BPE split words in weird places?").
        short = []
        for part in _LIST_BREAK.split(query):
            pieces = [len(words) <= LIST_ITEM_WORDS + 3 for piece in _LIST_SEPARATOR.split(part) if (words := piece.split())]
            short += [True] if not all(pieces) and _a_short_question(part) else pieces
        if (sum(short) < 2 and not (one_piece and short == [True])) or len(short) - sum(short) > 1:
            return None
        typed: dict[int, str] = {}  # entry → its name as written, in the list's order
        unknown: list[str] = []
        whole = True
        # A list that asks, not a bare one ("lora, dora"): framed, a question, or a comparison.
        asks = framed_subject(query) is not None or "?" in query or bool(_COMPARING.search(query))
        sentences = [part for part in _LIST_BREAK.split(query) if part.strip(" .?!:-—–")]
        for part in sentences:
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
                if len(items) > 1 and _COMPARING.search(subject):
                    # "mamba vs transformer for long context": the scene of a comparison is no part of its last side
                    items[-1] = _SCENE.sub("", items[-1])
                # "static vs dynamic quantization": a word before the last item may share its head
                last = lookup_key(items[-1]).split() if len(items) > 1 else []
                head = last[-1] if len(last) >= 2 else None
                found = [(item, self._list_item(item, in_list=len(items) > 1, head=head)) for item in items if item]
                if any(ids is None for _item, ids in found):
                    whole = False
                    # "… and how do I use it": a question of its own, no name in a list; but "what is
                    # lora? how is qlora different?" and "what's rlhf and why do people use dpo instead"
                    # ask about the one name it holds too, beside the names in the list
                    # (after names only: in "does zero shard the params, or the gradients too" the names
                    # that follow the question are what it asks about ZeRO; and a question before any
                    # name, "are activations the same as weights, or …", is read no further, unless it is
                    # a sentence of its own before another: "does GPTQ only work for GPT models? and
                    # what's the Hessian used for")
                    first_question = next(n for n, (_item, ids) in enumerate(found) if ids is None)
                    after_names = bool(typed) or any(ids for _item, ids in found[:first_question])
                    own_sentence = (len(found) == 1 and subject == part.strip(" .?!:-—–")
                                    and self._a_name_framed_after(sentences, part))
                    if not (after_names or own_sentence) or any(ids is not None for _item, ids in found[first_question:]):
                        continue
                    asked_too = {item: self._asked_in_a_question(item) for item, ids in found if ids is None}
                    if any(asked_too.values()):
                        for item, ids in found:
                            named_here = asked_too[item] if ids is None else {i: lookup_key(item) for i in ids}
                            typed.update((i, key) for i, key in named_here.items() if i not in typed)
                    continue
                for item, ids in found:
                    unknown += [] if ids else [item]
                    typed.update((i, lookup_key(item) if len(ids) == 1 else self.index.term_key[i])
                                 for i in ids if i not in typed)
        named, typed = self._in_the_lists_sense(typed)
        return _ListItems(named, unknown, asks, typed, whole)

    def _a_name_framed_after(self, sentences: list[str], part: str) -> bool:
        """Whether a sentence after `part` asks "what is …" of a name: then the message asks several
        things, and `part` is one ("why do you use cross entropy? is it the same as InfoNCE" asks
        about InfoNCE, against cross entropy)."""
        later = sentences[sentences.index(part) + 1:]
        return any((subject := framed_subject(s, whole_sentence=True)) and self.names.exactly(subject) for s in later)

    def _asked_in_a_question(self, item: str) -> dict[int, str]:
        """The one entry a short question of its own asks about beside the others a message names
        ("how is qlora different", "and how does flash attention speed it up", "why do people use dpo
        instead"): the only name in it, standing alone (not `dpo_config`); {} for anything else
        ("how do I use it", "which is better for adam or sgd")."""
        if len(item.split()) > QUESTION_ITEM_WORDS or not _OWN_QUESTION.match(item):
            return {}
        # "how does flash attention speed it up": FlashAttention, not Attention inside it too
        names = [(key, ids) for _at, key, ids, alone in self.features.names_standing(item) if alone]
        entries = {i for _key, ids in names for i in ids}
        if (len(entries) != 1 or self._other_sense(sorted(entries), names[0][0])[1] is not None
                or self._specificity(names[0][0]) < LISTED_ALONE_SPECIFICITY):
            return {}  # "how long is each clip": an everyday word, not CLIP
        return {entries.pop(): names[0][0]}

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

    def _side_lacking(self, query: str, listed: _ListItems) -> bool:
        """"vllm vs ray serve", "lora vs merging": the other side of a comparison is a thing compared, so a name
        even in words the glossary uses; one it lacks, unless some glossary name shares a word with it
        ("lora vs full fine-tuning" compares a kind of Fine-tuning, "adam vs the rest" nothing named)."""
        if len(listed.unknown) != 1 or len(listed.named) != 1 or not _COMPARING.search(query):
            return False
        words = lookup_key(listed.unknown[0]).split()
        return all(any(ch.isalpha() for ch in w) and w not in self.names.name_words for w in words)

    def _a_slip_among(self, unknown: list[str], named: list[int]) -> bool:
        """Whether a name the list seems to lack is a slip the search answers as the name it is spelled
        like ("qlroa"); not one of a name the list holds already ("grpo, gae and trpo")."""
        for item in unknown:
            close = self.names.spelled_like(item, 1, strict=True)
            if (close and close[0][1] >= FUZZY_ANSWER and close[0][0] not in named
                    and not self.names.another_word(item, close[0][0], close[0][2])):
                return True
        return False

    def _list_item(self, item: str, in_list: bool, head: str | None = None) -> list[int] | None:
        """The entries one item of a list names ("ddp fsdp" beside "and zero": both), [] for a short
        name the glossary lacks ("kto"), None for what is no name at all ("how do i use it", "or
        something else"). Two names alone are one thing ("int8 calibration"), three a list."""
        if len(item.split()) > LIST_ITEM_WORDS:
            return None
        shared = self.names.exactly(f"{item} {head}") if head and in_list and len(item.split()) == 1 else []
        if len(shared) == 1:
            return shared  # "tensor vs pipeline parallelism": Tensor parallelism, not Tensor
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
            heads = (*_LIST_HEADS, head) if head else _LIST_HEADS
            headed = {i for h in heads for i in self.names.exactly(f"{words[0]} {h}")}
            if len(headed) == 1:
                return sorted(headed)
        return []  # unless a spelling match would answer it (checked once the list is found)
