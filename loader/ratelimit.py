"""One pacer shared by every worker: spend the per-minute budget evenly.

Help Scout's budget is per account and per minute, announced on every answer in
``X-RateLimit-Limit-Minute``/``X-RateLimit-Remaining-Minute``. Bursting until the
budget is gone and then sleeping wastes the rest of the minute and invites a 429
storm from every worker at once; spacing request *starts* ``60 / (limit * target)``
seconds apart keeps any 60-second span (fixed or sliding window) under the limit
while using ``target`` (default 98%) of it, given enough workers to fill the slots.

A 429 pauses every worker for exactly the announced ``Retry-After``; the slots
after the pause are spaced again, so the workers do not all fire at once.
Until the first answer tells us the limit, requests are not paced.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime

from loader.stats import Counters

LIMIT_HEADER = "X-RateLimit-Limit-Minute"
REMAINING_HEADER = "X-RateLimit-Remaining-Minute"
RETRY_AFTER_HEADERS = ("X-RateLimit-Retry-After", "Retry-After")


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value.strip())
    except ValueError:
        return None


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from ``X-RateLimit-Retry-After`` or ``Retry-After`` (seconds or date)."""
    for name in RETRY_AFTER_HEADERS:
        raw = headers.get(name)
        if raw is None:
            continue
        seconds = _number(raw)
        if seconds is not None:
            return max(seconds, 0.0)
        try:
            moment = parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            continue
        return max(moment.timestamp() - (time.time() if now is None else now), 0.0)
    return None


class Pacer:
    """Hands out evenly spaced request slots; thread-safe."""

    def __init__(self, counters: Counters, target: float = 0.98,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._counters = counters
        self._target = target
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._interval = 0.0
        self._next_slot = 0.0
        self._paused_until = 0.0
        self.limit: int | None = None
        self.remaining: int | None = None

    @property
    def interval(self) -> float:
        return self._interval

    def acquire(self) -> None:
        """Block until this caller's slot comes."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_slot, self._paused_until)
            self._next_slot = slot + self._interval
        wait = slot - now
        if wait > 0:
            self._counters.add(throttle_sleeps=1, throttle_seconds=wait)
            self._sleep(wait)

    def observe(self, headers: Mapping[str, str]) -> None:
        """Learn the budget from an answer's headers."""
        limit = _number(headers.get(LIMIT_HEADER))
        remaining = _number(headers.get(REMAINING_HEADER))
        with self._lock:
            if limit is not None and limit > 0:
                self.limit = int(limit)
                self._interval = 60.0 / (limit * self._target)
            if remaining is not None:
                self.remaining = int(remaining)

    def pause(self, seconds: float) -> None:
        """No request starts for ``seconds`` (a 429's Retry-After), for any worker."""
        with self._lock:
            until = self._clock() + seconds
            self._paused_until = max(self._paused_until, until)
            self._next_slot = max(self._next_slot, self._paused_until)
