"""What a rebuilt index remembers of the builds before it, so that what learners and servers stored
under the glossary of its day still finds its entry (QA71).

- **Which entry became which.** An entry of the build before is the same entry in this one when
  its definition is unchanged, word for word, and no other entry has that definition on either
  side; else when an entry has its very term (`entry_map`).
- **Former names.** A name an entry had before (its term, or an alias) that no entry has now: a typo
  fixed in its term, a rename without the old name kept, an alias dropped. Mapped to the entry's
  term now, and followed through later renames. Review cards, server notes and aliases, round
  questions and votes stored under the old name follow it (`Lookups.entry_now_named`), as they
  follow a name kept as an alias.
- **Earlier ids.** Entry ids are places in the file: an entry added near the top moves every id
  after it. A quiz question on screen carries ids (a hash of the terms they stood for, and the
  stamp of its build), so the builds of the last few days keep, per id, the term it stood for then
  and the id of that entry now, with their stamps.

Pure functions: `index.py` reads the previous build's rows and writes what these return.
"""

from __future__ import annotations

from collections import Counter

from .terms import lookup_key

#: how long a build's ids are kept after the next build replaced them (a quiz of the day scores for
#: two days), and at most how many builds: saving the glossary a few times in a day rebuilds each time
KEEP_IDS_SECONDS = 3 * 86400
MAX_ID_GENERATIONS = 20

#: one build's ids: id → (the term it stood for then, the id of that entry now, or None when it is gone)
IdGeneration = dict[int, tuple[str, int | None]]

#: hex digits of a build's fingerprint that a quiz button carries, to say which build's ids it holds
STAMP_CHARS = 4


def build_stamp(fingerprint: str | None) -> str | None:
    """The short stamp of the build with this fingerprint (None for an index without one). Two builds
    of the same sources share it, and number their entries alike."""
    return fingerprint[:STAMP_CHARS] if fingerprint else None


def entry_map(old: dict[int, tuple[str, str]], new: dict[int, tuple[str, str]]) -> dict[int, int]:
    """Old id → new id of the same entry (see above); `old`, `new`: id → (term, definition)."""
    old_definitions = Counter(definition for _, definition in old.values())
    new_definitions = Counter(definition for _, definition in new.values())
    by_definition = {definition: i for i, (_, definition) in new.items() if new_definitions[definition] == 1}
    by_term: dict[str, int] = {}
    for i, (term, _) in new.items():
        by_term.setdefault(term, i)
    same: dict[int, int] = {}
    for i, (_, definition) in old.items():  # the same words first: they are the entry
        if old_definitions[definition] == 1 and (j := by_definition.get(definition)) is not None:
            same[i] = j
    taken = Counter(same.values())
    claims: dict[int, list[int]] = {}
    for i, (term, _) in old.items():  # then the same term, for an entry no definition claimed
        if i not in same and (j := by_term.get(term)) is not None and not taken[j]:
            claims.setdefault(j, []).append(i)
    # two old entries claiming one new one (definitions moved over, one reworded): neither is known
    same.update({ids[0]: j for j, ids in claims.items() if len(ids) == 1})
    return same


def former_names(old_names: dict[int, list[str]], same: dict[int, int], new_terms: dict[int, str],
                 live: dict[str, set[int]], kept: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """lookup key → (the former name as written, the entry's term now).

    `old_names`: the previous build's id → its names (term and aliases); `same`: entry_map's;
    `new_terms`: this build's id → term; `live`: this build's lookup key → the ids with that name
    (a name the glossary uses now is never a former one); `kept`: the previous build's former names."""
    former: dict[str, tuple[str, str]] = {}
    for old_id, names in old_names.items():
        new_id = same.get(old_id)
        if new_id is None:
            continue
        for name in names:
            key = lookup_key(name)
            if key not in live:
                former.setdefault(key, (name, new_terms[new_id]))
    old_id_of = {names[0]: old_id for old_id, names in old_names.items() if names}
    for key, (name, term) in kept.items():
        if key in live or key in former:
            continue
        # the entry it named then (`term` in the build before) is followed as an entry, not as a name
        # another entry may have taken since; without that entry there, by the name as it stands
        if (old_id := old_id_of.get(term)) is not None:
            now = new_terms[same[old_id]] if old_id in same else None
        else:
            ids = live.get(lookup_key(term), set())
            now = new_terms[next(iter(ids))] if len(ids) == 1 else former.get(lookup_key(term), (None, None))[1]
        if now is not None:
            former[key] = (name, now)
    return former


Kept = tuple[float, str | None, IdGeneration]  # when it was replaced, its builds' stamps (spaced), its ids


def ids_moved(old_terms: dict[int, str], same: dict[int, int], new_terms: dict[int, str]) -> bool:
    """Whether an id of the build before names another entry now, or none."""
    return any(same.get(i) != i or new_terms.get(i) != term for i, term in old_terms.items())


def earlier_ids(old_terms: dict[int, str], same: dict[int, int], new_terms: dict[int, str],
                kept: list[Kept], now: float, old_stamps: str | None = None) -> list[Kept]:
    """The builds before this one whose ids a question on screen may carry, the latest first, each
    with when it was replaced and its stamps: the previous build's (`old_stamps`: its own and those
    of the builds numbered alike before it) joins them when an id of it names another entry now (or
    none), and each kept one's ids are carried over to this build's."""
    carried = [(when, stamp, {i: (term, None if j is None else same.get(j)) for i, (term, j) in ids.items()})
               for when, stamp, ids in kept if now - when <= KEEP_IDS_SECONDS]
    if ids_moved(old_terms, same, new_terms) and old_terms:
        carried.insert(0, (now, old_stamps, {i: (term, same.get(i)) for i, term in old_terms.items()}))
    return carried[:MAX_ID_GENERATIONS]


def numbered_alike(moved: bool, old_stamp: str | None, old_alike: list[tuple[str, float]],
                   now: float) -> list[tuple[str, float]]:
    """The stamps of the builds before this one that numbered its entries as it does (stamp, when
    replaced), the latest first: a rebuild that moved no id (a definition reworded) keeps the one
    before's, so that a quiz button of that build is still read with these ids, and a later build
    that moves them keeps it with that generation (review 55: reworded, then two names swapped)."""
    if moved or not old_stamp:
        return []
    kept = [(stamp, when) for stamp, when in old_alike if now - when <= KEEP_IDS_SECONDS and stamp != old_stamp]
    return [(old_stamp, now), *kept][:MAX_ID_GENERATIONS]
