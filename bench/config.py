"""The knobs: ``BENCH_SCALE`` multiplies every size, ``BENCH_MINUTES`` bounds the run.

Scale 1 is the size the issue asks for; ``BENCH_SCALE=0.01`` gives a look at every
benchmark in a few minutes. Sizes never drop below a floor that still exercises
the code path (a handful of pages, a few hundred rows).

Every measurement runs at least once; repeats (for the medians) run while the time
budget allows, so ``make bench`` stays within ``BENCH_MINUTES`` (default 27: with a
fresh clone's install and database start-up, under half an hour) however busy the
shared machine is. The results say how many runs each median is over.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field


class ConfigError(ValueError):
    """A bench setting from the environment is unusable (one-line message)."""


def _number(env: Mapping[str, str], name: str, default: str, low: float, high: float) -> float:
    raw = env.get(name, default)
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if not low < value <= high:
        raise ConfigError(f"{name} must be in ({low:g}, {high:g}], got {raw!r}")
    return value


@dataclass(frozen=True)
class TimeBudget:
    """A deadline shared by every benchmark of one run (monotonic clock)."""

    seconds: float
    started: float = field(default_factory=time.monotonic)

    def left(self) -> float:
        return self.seconds - (time.monotonic() - self.started)

    def allows(self, seconds: float) -> bool:
        """True when ``seconds`` more work still ends before the deadline."""
        return seconds <= self.left()


@dataclass(frozen=True)
class BenchConfig:
    scale: float = 1.0
    seed: int = 42
    budget: TimeBudget = field(default_factory=lambda: TimeBudget(27 * 60))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> BenchConfig:
        env = os.environ if env is None else env
        scale = _number(env, "BENCH_SCALE", "1", 0, 10)
        minutes = _number(env, "BENCH_MINUTES", "27", 0, 24 * 60)
        try:
            seed = int(env.get("BENCH_SEED", "42"))
        except ValueError:
            raise ConfigError("BENCH_SEED must be an integer") from None
        return cls(scale=scale, seed=seed, budget=TimeBudget(minutes * 60))

    def size(self, full: int, minimum: int) -> int:
        """``full`` scaled, at least ``minimum``."""
        return max(minimum, round(full * self.scale))
