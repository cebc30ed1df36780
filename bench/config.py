"""The one knob: ``BENCH_SCALE`` multiplies every size and duration.

Scale 1 is the size the issue asks for; ``BENCH_SCALE=0.01`` gives a look at every
benchmark in a minute or two. Sizes never drop below a floor that still exercises
the code path (a handful of pages, a few hundred rows).
"""

from __future__ import annotations

import os
from dataclasses import dataclass


class ConfigError(ValueError):
    """A bench setting from the environment is unusable (one-line message)."""


@dataclass(frozen=True)
class BenchConfig:
    scale: float = 1.0
    seed: int = 42

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> BenchConfig:
        env = dict(os.environ if env is None else env)
        raw = env.get("BENCH_SCALE", "1")
        try:
            scale = float(raw)
        except ValueError:
            raise ConfigError(f"BENCH_SCALE must be a number, got {raw!r}") from None
        if not 0 < scale <= 10:
            raise ConfigError(f"BENCH_SCALE must be in (0, 10], got {raw!r}")
        try:
            seed = int(env.get("BENCH_SEED", "42"))
        except ValueError:
            raise ConfigError("BENCH_SEED must be an integer") from None
        return cls(scale=scale, seed=seed)

    def size(self, full: int, minimum: int) -> int:
        """``full`` scaled, at least ``minimum``."""
        return max(minimum, round(full * self.scale))
