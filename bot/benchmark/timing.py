"""Small timing and memory helpers for the benchmark.

The machines this runs on are shared and noisy, so every figure is a ratio
of two things measured side by side, interleaved call by call where possible,
so that a burst of load hits both sides alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    """fn()'s result and how long it took, in seconds."""
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def seconds(fn: Callable[[], object]) -> float:
    return timed(fn)[1]


def interleaved(calls: dict[str, Callable[[str], object]], inputs: Sequence[str], rounds: int = 3) -> dict:
    """Time each call on each input, alternating calls per input; seconds per call."""
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(rounds):
        for text in inputs:
            for name, fn in calls.items():
                started = time.perf_counter()
                fn(text)
                samples[name].append(time.perf_counter() - started)
    return samples


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0–100)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def rss_mb(pid: int | str = "self") -> float:
    """Resident memory of a process in MB (Linux /proc; 0 where unavailable)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def ms(value: float) -> float:
    return round(value * 1000, 2)
