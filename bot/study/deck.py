"""Which card of a deck a name typed by its owner means (/review remove, on Discord and in the
console), by the card's own name: a card whose term left the glossary has no entry to find it by,
and must be as easy to name as one that has."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..glossary.terms import fold, lookup_key

#: from strict to loose: as typed, in any case, then as a glossary lookup forgives (accents,
#: hyphens and punctuation, plurals); a looser one is tried only when the stricter finds nothing
_KEYS: tuple[Callable[[str], str], ...] = (str, fold, lookup_key)


def card_named(deck: Iterable[str], typed: str) -> str | None:
    """The deck's term `typed` names, or None: none does, or several do at the loosest match that
    finds any ("aether winds" for "Aether wind" and "Aether-Wind") and a guess could drop the wrong card."""
    terms = list(deck)
    for key in _KEYS:
        wanted = key(typed.strip())
        found = [term for term in terms if key(term) == wanted]
        if found:
            return found[0] if len(found) == 1 else None
    return None
