"""What a rebuilt index remembers of the builds before it, so that what learners and servers stored
under the glossary of its day still finds its entry (QA71).

- **Former names.** A term the keepers corrected ("Gradient penalt" → "Gradient penalty") or renamed
  without keeping the old name as an alias: the old name, mapped to the entry's term now. An entry
  is known for the same one when its definition is unchanged, word for word, and no other entry has
  that definition. Review cards, server notes and aliases, round questions and votes stored under
  the old name follow it (`Lookups.entry_now_named`), as they follow a name kept as an alias.
- **Earlier ids.** Entry ids are places in the file: an entry added near the top moves every id
  after it. A quiz question on screen carries ids (and a hash of the terms they stood for), so the
  last few builds' id → term maps let a click on it be judged on the entries it showed.

Pure functions: `index.py` reads the previous build's rows and writes what these return.
"""

from __future__ import annotations

from collections import Counter

from .terms import lookup_key

#: builds back whose ids a quiz question on screen may still carry (a quiz of the day lasts a day)
ID_GENERATIONS = 3


def former_names(old_entries: dict[int, tuple[str, str]], new_entries: list[tuple[str, str]],
                 live_keys: set[str], kept: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """lookup key → (the former name as written, the entry's term now).

    `old_entries`: the previous build's id → (term, definition); `new_entries`: this build's (term,
    definition) in order; `live_keys`: the lookup keys of every term and alias this build has (a
    name the glossary uses now is never a former one); `kept`: the previous build's former names."""
    terms_now = {term for term, _ in new_entries}
    definitions = Counter(definition for _, definition in new_entries)
    term_of_definition = {definition: term for term, definition in new_entries if definitions[definition] == 1}
    renamed: dict[str, str] = {}
    for old_term, definition in old_entries.values():
        if lookup_key(old_term) in live_keys:
            continue
        new_term = term_of_definition.get(definition)
        if new_term is not None and new_term != old_term:
            renamed[old_term] = new_term
    former: dict[str, tuple[str, str]] = {}
    for key, (name, term) in kept.items():  # renamed again since: followed to the latest name
        term = term if term in terms_now else renamed.get(term)
        if term is not None and key not in live_keys:
            former[key] = (name, term)
    for old_term, new_term in renamed.items():
        former[lookup_key(old_term)] = (old_term, new_term)
    return former


def earlier_ids(old_terms: dict[int, str], new_terms: dict[int, str],
                kept: list[dict[int, str]]) -> list[dict[int, str]]:
    """The id → term maps of the builds before this one, the latest first (at most ID_GENERATIONS):
    the previous build's joins them when its ids meant other entries than this build's do."""
    moved = any(new_terms.get(entry_id) != term for entry_id, term in old_terms.items())
    return ([old_terms] + kept if moved and old_terms else kept)[:ID_GENERATIONS]
