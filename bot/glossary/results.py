"""What a search returns: its verdict (band), the entries found and how each was matched.

Shared by the name lookups (lookup.py), the ranked search (search.py) and everything that renders a
result; `bot.glossary.search` re-exports all of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .store import StoredEntry

ANSWER, SUGGEST, NOT_FOUND = "answer", "suggest", "not_found"
EXACT, ALIAS, FUZZY, MENTION, KEYWORD, SEMANTIC = "exact", "alias", "fuzzy", "mention", "keyword", "semantic"
CLOSE_MAX = 3  # other matches shown beside an answer
SIDE_BY_SIDE_MAX = 5  # entries one message asks about, shown side by side (a row of Discord buttons)
SUGGESTIONS = 3  # entries a "Did you mean" offers


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
    note: str = ""  # a line to show with the reply: the name typed has another sense (senses.py), the
    # question names nothing to look up (FOLLOW_UP_NOTE), or names some the glossary lacks (`lacking`)
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
    # Entries the message asks about too that did not fit beside them (more than SIDE_BY_SIDE_MAX),
    # in the order it names them: the reply names them, to be asked about one at a time.
    unshown: tuple[StoredEntry, ...] = ()
    # Names the message asks about that the glossary has no entry for, as typed ("rope vs alibi":
    # "alibi"); the note says so.
    lacking: tuple[str, ...] = ()

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.hits else None

    @property
    def nothing_near(self) -> bool:
        """Not answered, and no entry near the question: a refusal that names none (`hints`), or an
        offer whose entries are all far from it (`far`)."""
        return (self.band == NOT_FOUND and not self.hints) or (self.band == SUGGEST and self.far)

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


@dataclass(frozen=True)
class Related:
    entry: StoredEntry
    reason: str
