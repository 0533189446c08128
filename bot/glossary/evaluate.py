"""Retrieval quality on a JSONL file of {"id", "kind", "query", "expected": [terms]}.

A hit means the top result's term is in `expected`. Queries whose `expected`
is empty should be answered `not_found` (refusal); answerable queries answered
`not_found` count as false refusals. Hit/MRR figures are over answerable
queries only.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from .errors import EvalFileError
from .search import NOT_FOUND, Searcher


@dataclass(frozen=True)
class Case:
    id: str
    kind: str
    query: str
    expected: tuple[str, ...]


def load_cases(path: Path) -> list[Case]:
    cases = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalFileError(f"cannot read {path}: {exc}") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            cases.append(
                Case(str(obj.get("id", number)), str(obj.get("kind", "all")), str(obj["query"]),
                     tuple(str(t) for t in obj.get("expected", [])))
            )
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise EvalFileError(f"{path}:{number}: not an eval case ({exc})") from None
    return cases


def _metrics(ranks: list[int | None]) -> dict[str, float]:
    n = len(ranks)
    if not n:
        return {"n": 0, "hit@1": 0.0, "hit@5": 0.0, "mrr": 0.0}
    return {
        "n": n,
        "hit@1": round(sum(1 for r in ranks if r == 1) / n, 4),
        "hit@5": round(sum(1 for r in ranks if r is not None and r <= 5) / n, 4),
        "mrr": round(sum(1 / r for r in ranks if r is not None) / n, 4),
    }


def evaluate(searcher: Searcher, cases: list[Case]) -> dict:
    ranks_by_kind: dict[str, list[int | None]] = defaultdict(list)
    all_ranks: list[int | None] = []
    negatives = refused = answerable = false_refused = 0
    failures = []
    for case in cases:
        result = searcher.search(case.query, limit=5)
        if not case.expected:
            negatives += 1
            refused += result.band == NOT_FOUND
            if result.band != NOT_FOUND:
                failures.append({"id": case.id, "kind": case.kind, "query": case.query,
                                 "expected": [], "got": result.best.entry.term if result.best else None,
                                 "band": result.band})
            continue
        answerable += 1
        terms = [h.entry.term for h in result.hits]
        rank = next((i for i, t in enumerate(terms, start=1) if t in case.expected), None)
        if result.band == NOT_FOUND:
            false_refused += 1
        ranks_by_kind[case.kind].append(rank)
        all_ranks.append(rank)
        if rank != 1 or result.band == NOT_FOUND:
            failures.append({"id": case.id, "kind": case.kind, "query": case.query,
                             "expected": list(case.expected), "got": terms[:3], "band": result.band})
    return {
        "overall": _metrics(all_ranks),
        "by_kind": {kind: _metrics(r) for kind, r in sorted(ranks_by_kind.items())},
        "refusal": round(refused / negatives, 4) if negatives else None,
        "false_refusal": round(false_refused / answerable, 4) if answerable else None,
        "failures": failures,
    }


def format_report(report: dict) -> str:
    lines = [f"{'kind':<10} {'n':>4} {'hit@1':>7} {'hit@5':>7} {'mrr':>7}"]
    for kind, m in [*report["by_kind"].items(), ("overall", report["overall"])]:
        lines.append(f"{kind:<10} {m['n']:>4} {m['hit@1']:>7.3f} {m['hit@5']:>7.3f} {m['mrr']:>7.3f}")
    if report["refusal"] is not None:
        lines.append(f"refusal (off-glossary answered not_found): {report['refusal']:.3f}")
    if report["false_refusal"] is not None:
        lines.append(f"false refusal (answerable answered not_found): {report['false_refusal']:.3f}")
    if report["failures"]:
        lines.append(f"{len(report['failures'])} misses:")
        for f in report["failures"]:
            lines.append(f"  [{f['kind']}] {f['query'][:70]!r} expected {f['expected']} got {f['got']} ({f['band']})")
    return "\n".join(lines)
