"""Retrieval quality on a JSONL file of {"id", "kind", "query", "expected": [terms]}.

Every query is searched as a user's message would be, and judged on what the
reply would show. Queries whose `expected` is empty are off-glossary: they should
be refused (`not_found`) or at most hedged (`suggest`), never answered.

Measures (hit and MRR over answerable queries only):
- hit@1, hit@5, MRR: where the first expected entry is in the ranking;
- answer_precision: of the replies in the `answer` band, the share whose top entry is
  expected (an off-glossary query answered counts as wrong);
- shown@3: the share of answerable queries whose expected entry is among the first three
  on screen — the answer and its "other matches", or the "did you mean" choices (a
  refusal shows none);
- confident_wrong: the share of answerable queries answered with a wrong entry;
- negatives_answered: the share of off-glossary queries answered;
- refusal / false_refusal: off-glossary refused, answerable refused.
`summarize` works on per-query results, so cross-validation can pool the folds'.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from .bank import expected_terms
from .errors import EvalFileError
from .parse import editor_lines
from .search import ANSWER, NOT_FOUND, SUGGEST, SearchResult, Searcher

# shown@3 counts the first three entries a reply shows: the answer and its first two other
# matches (a third may follow), or the three "did you mean" choices.
SHOWN = 3


@dataclass(frozen=True)
class Case:
    id: str
    kind: str
    query: str
    expected: tuple[str, ...]
    style: str | None = None


def load_cases(path: Path) -> list[Case]:
    cases = []
    try:
        # JSON lines end at \n only: a question may hold U+2028 or U+0085 as they were typed.
        lines = editor_lines(Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalFileError(f"cannot read {path}: {exc}") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            # QA73: a misspelt "expected" was scored as an off-glossary question, a null query searched as "None"
            if "expected" not in obj:
                raise KeyError('"expected" is missing ([] for a question the glossary should refuse)')
            if not isinstance(obj["query"], str):
                raise TypeError(f'"query" must be text, not {json.dumps(obj["query"])[:40]}')
            style = obj.get("style")
            cases.append(
                Case(str(obj.get("id", number)), str(obj.get("kind", "all")), str(obj["query"]),
                     expected_terms(obj), str(style) if style else None)
            )
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError, ValueError) as exc:
            raise EvalFileError(f"{path}:{number}: not an eval case ({exc})") from None
    if not cases:
        raise EvalFileError(f"{path} holds no eval case: write one JSON object a line, with \"query\" and "
                            "\"expected\" (a list of terms, [] for not in the glossary)")
    return cases


def shown_terms(result: SearchResult) -> list[str]:
    """The entries a reply puts on screen, best first."""
    if result.band == ANSWER:
        hits = [result.best, *result.others] if result.best else []
    elif result.band == SUGGEST:
        hits = result.hits
    else:
        hits = []
    return [h.entry.term for h in hits[:SHOWN]]


def judge(case: Case, result: SearchResult) -> dict:
    """One query's outcome, as `glossary-bot eval --json` lists it."""
    terms = [h.entry.term for h in result.hits]
    rank = next((i for i, t in enumerate(terms, start=1) if t in case.expected), None)
    return {
        "id": case.id, "kind": case.kind, "style": case.style, "query": case.query,
        "expected": list(case.expected), "band": result.band, "top": terms[:3],
        "score": round(result.confidence, 4), "rank": rank,
        "shown": any(t in case.expected for t in shown_terms(result)),
        "far": result.far,  # offered as "the glossary may not cover it" (SearchResult.far)
    }


def evaluate(searcher: Searcher, cases: list[Case]) -> dict:
    return summarize([judge(case, searcher.search(case.query, limit=5)) for case in cases])


def _ranks(results: list[dict]) -> dict[str, float]:
    n = len(results)
    if not n:
        return {"n": 0, "hit@1": 0.0, "hit@5": 0.0, "mrr": 0.0}
    ranks = [r["rank"] for r in results]
    return {
        "n": n,
        "hit@1": round(sum(1 for r in ranks if r == 1) / n, 4),
        "hit@5": round(sum(1 for r in ranks if r is not None and r <= 5) / n, 4),
        "mrr": round(sum(1 / r for r in ranks if r is not None) / n, 4),
    }


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def summarize(results: list[dict]) -> dict:
    answerable = [r for r in results if r["expected"]]
    negatives = [r for r in results if not r["expected"]]
    answered = [r for r in results if r["band"] == ANSWER]
    by_kind: dict[str, list[dict]] = defaultdict(list)
    by_style: dict[str, list[dict]] = defaultdict(list)
    for r in answerable:
        by_kind[r["kind"]].append(r)
        if r.get("style"):
            by_style[r["style"]].append(r)
    failures = [r for r in results
                if (r["expected"] and (r["rank"] != 1 or r["band"] == NOT_FOUND))
                or (not r["expected"] and r["band"] == ANSWER)]  # hedging an off-glossary query is allowed
    return {
        "overall": _ranks(answerable),
        "by_kind": {kind: _ranks(rs) for kind, rs in sorted(by_kind.items())},
        "by_style": {style: _ranks(rs) for style, rs in sorted(by_style.items())},
        "answer_precision": _share(sum(1 for r in answered if r["rank"] == 1), len(answered)),
        "shown@3": _share(sum(1 for r in answerable if r["shown"]), len(answerable)),
        "confident_wrong": _share(sum(1 for r in answerable if r["band"] == ANSWER and r["rank"] != 1),
                                  len(answerable)),
        "negatives_answered": _share(sum(1 for r in negatives if r["band"] == ANSWER), len(negatives)),
        "refusal": _share(sum(1 for r in negatives if r["band"] == NOT_FOUND), len(negatives)),
        "false_refusal": _share(sum(1 for r in answerable if r["band"] == NOT_FOUND), len(answerable)),
        "bands": {band: sum(1 for r in results if r["band"] == band) for band in (ANSWER, SUGGEST, NOT_FOUND)},
        "failures": failures,
        "results": results,
    }


MEASURES = ("answer_precision", "shown@3", "confident_wrong", "negatives_answered", "refusal", "false_refusal")


def format_report(report: dict) -> str:
    lines = [f"{'kind':<12} {'n':>4} {'hit@1':>7} {'hit@5':>7} {'mrr':>7}"]
    rows = [*report["by_kind"].items(), *report["by_style"].items(), ("overall", report["overall"])]
    for kind, m in rows:
        lines.append(f"{kind:<12} {m['n']:>4} {m['hit@1']:>7.3f} {m['hit@5']:>7.3f} {m['mrr']:>7.3f}")
    for name in MEASURES:
        if report[name] is not None:
            lines.append(f"{name}: {report[name]:.3f}")
    lines.append("bands: " + ", ".join(f"{band} {count}" for band, count in report["bands"].items()))
    if report["failures"]:
        lines.append(f"{len(report['failures'])} misses:")
        for f in report["failures"]:
            lines.append(f"  [{f['kind']}] {f['query'][:70]!r} expected {f['expected']} got {f['top']} "
                         f"({f['band']}, {f['score']:.2f})")
    return "\n".join(lines)
