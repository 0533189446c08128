"""Write a synthetic query set that names every entry: plain, as a variant, and with one typo.

    python scripts/name_queries.py --seed 11 > /tmp/names.jsonl
    glossary-bot eval /tmp/names.jsonl

dev.jsonl has fifteen queries of each of these kinds; this stresses the name layer (exact and
alias lookup, spelling match) on all 690 entries. Typos are one slip in the name's longest word
(a letter dropped, doubled, swapped with its neighbour, or replaced by a key next to it), like
the ones people make. Variants: the name in brackets on its own ("automatic speech recognition"),
hyphen and space swapped, singular and plural. Some variants are not really the entry's name
("attention" out of "Heads (attention)"), so a few misses there are the set's, not the search's.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.glossary.parse import parse_file  # noqa: E402

KEY_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


def neighbour_key(char: str, rng: random.Random) -> str:
    for row in KEY_ROWS:
        at = row.find(char)
        if at >= 0:
            return rng.choice([row[j] for j in (at - 1, at + 1) if 0 <= j < len(row)])
    return char


def one_slip(word: str, rng: random.Random) -> str:
    """The word with one slip; never the word itself (swapping two equal letters would be)."""
    while (slipped := _slip_once(word, rng)) == word:
        pass
    return slipped


def _slip_once(word: str, rng: random.Random) -> str:
    at = rng.randrange(1, len(word) - 1)
    kind = rng.choice(("drop", "swap", "neighbour", "double"))
    if kind == "drop":
        return word[:at] + word[at + 1:]
    if kind == "swap":
        return word[:at] + word[at + 1] + word[at] + word[at + 2:]
    if kind == "neighbour":
        return word[:at] + neighbour_key(word[at], rng) + word[at + 1:]
    return word[:at] + word[at] + word[at:]


def queries_for(term: str, rng: random.Random) -> list[tuple[str, str]]:
    """(kind, query) pairs naming `term`."""
    base = re.sub(r"\s*\(.*?\)\s*", " ", term).strip()
    out = [("exact", base.lower())]
    words = re.findall(r"[A-Za-z]{5,}", base)
    if words:
        longest = max(words, key=len).lower()
        out.append(("typo", base.lower().replace(longest, one_slip(longest, rng), 1)))
    out += [("variant", inner.lower()) for inner in re.findall(r"\((.*?)\)", term) if len(inner) > 3]
    if "-" in base:
        out.append(("variant", base.replace("-", " ").lower()))
    elif len(base.split()) == 2:
        out.append(("variant", base.replace(" ", "-").lower()))
    if len(base) > 4 and base.endswith("s") and not base.endswith("ss"):
        out.append(("variant", base[:-1].lower()))
    elif len(base) > 4 and re.search(r"[a-z]$", base):
        out.append(("variant", base.lower() + "s"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--glossary", type=Path, default=ROOT / "data" / "glossary.txt")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    n = 0
    for entry in parse_file(args.glossary).entries:
        for kind, query in queries_for(entry.term, rng):
            n += 1
            print(json.dumps({"id": f"n{n}", "kind": kind, "query": query, "expected": [entry.term]}))


if __name__ == "__main__":
    main()
