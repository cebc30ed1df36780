"""Timing, medians and ratios: the arithmetic every benchmark shares."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Samples:
    """Repeated measurements of one figure; the median is what gets reported."""

    unit: str
    values: list[float] = field(default_factory=list)

    def add(self, value: float) -> None:
        self.values.append(value)

    @property
    def median(self) -> float:
        return statistics.median(self.values) if self.values else float("nan")

    def as_dict(self) -> dict[str, object]:
        return {"median": self.median, "unit": self.unit,
                "samples": [round(v, 6) for v in self.values]}


@contextmanager
def stopwatch() -> Iterator[Callable[[], float]]:
    """``with stopwatch() as elapsed: ...``; ``elapsed()`` is seconds, frozen on exit."""
    start = time.perf_counter()
    end: list[float] = []
    yield lambda: (end[0] if end else time.perf_counter()) - start
    end.append(time.perf_counter())


def ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``; NaN rather than an error when either is missing."""
    if not denominator or denominator != denominator or numerator != numerator:
        return float("nan")
    return numerator / denominator
