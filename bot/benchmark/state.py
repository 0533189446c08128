"""The state database on its two backends: what one read and one write cost on PostgreSQL
(a throwaway local server, when PostgreSQL is installed) against SQLite, p50 and p99."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from ..state import StateStore
from .postgres import PostgresServer, find_bin
from .timing import median, ms, percentile, seconds

OPERATIONS = 300


def _time_store(store: StateStore, operations: int) -> dict[str, list[float]]:
    """A read (a server's settings and a user's deck counts, what /review start reads) and a
    write (a scored quiz answer, what a click writes), `operations` of each."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for user in range(50):
        store.study.add_card(user, f"term {user}", now)
    reads, writes = [], []
    for n in range(operations):
        user = n % 50
        reads.append(seconds(lambda u=user: (store.config(1), store.study.deck_stats(u, now))))
        writes.append(seconds(lambda u=user, k=n: store.study.record_answer(1, u, f"bench:{k}", True, 5,
                                                                            now + timedelta(seconds=k))))
    return {"read": reads, "write": writes}


def compare_backends(workdir: Path, operations: int = OPERATIONS) -> dict:
    sqlite = StateStore(workdir / "bench-state.db")
    try:
        results = {"sqlite": _time_store(sqlite, operations)}
    finally:
        sqlite.close()
    if find_bin() is None:
        return {"skipped": "PostgreSQL is not installed", **_summary(results)}
    server = PostgresServer().start()
    try:
        postgres = StateStore(server.create_database("bench"))
        try:
            results["postgresql"] = _time_store(postgres, operations)
        finally:
            postgres.close()
    finally:
        server.stop()
    summary = _summary(results)
    for kind in ("read", "write"):
        summary[f"{kind}_p99_postgresql_vs_sqlite"] = round(
            percentile(results["postgresql"][kind], 99) / percentile(results["sqlite"][kind], 99), 2)
    return summary


def _summary(results: dict[str, dict[str, list[float]]]) -> dict:
    return {f"{backend}_{kind}_{stat}_ms": ms(fn(times))
            for backend, kinds in results.items() for kind, times in kinds.items()
            for stat, fn in (("p50", median), ("p99", lambda t: percentile(t, 99)))}
