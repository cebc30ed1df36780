"""Thread-safe counters of one run, for the summary line, ``load_runs`` and the bench."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, fields


@dataclass
class Counters:
    """What a run did; every worker thread adds to the same instance."""

    requests: int = 0          # HTTP requests sent to the API (token requests included)
    rate_limited: int = 0      # 429 answers received
    throttle_sleeps: int = 0   # times the pacer made a request wait
    throttle_seconds: float = 0.0
    retries: int = 0           # resends after 5xx, timeouts, dropped connections, bad JSON
    reauths: int = 0           # new tokens fetched after a 401
    pages: int = 0
    rows: int = 0              # lake rows written (committed or not)
    thread_fetches: int = 0    # conversations whose full thread list was fetched
    rescans: int = 0           # window rescans after a page shift
    splits: int = 0            # windows split because they held too many conversations
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **amounts: float) -> None:
        with self._lock:
            for name, amount in amounts.items():
                setattr(self, name, getattr(self, name) + amount)

    def snapshot(self) -> dict[str, float]:
        with self._lock:
            return {
                f.name: (round(getattr(self, f.name), 3)
                         if isinstance(getattr(self, f.name), float) else getattr(self, f.name))
                for f in fields(self) if not f.name.startswith("_")
            }
