"""What can go wrong on the wire: injected faults, the rate limit, token expiry.

Faults draw from a seeded generator, so a single-threaded client sees the same
sequence on every run; ``limit`` caps how many are injected (``error_rate=1,
limit=2`` fails exactly the next two requests) and ``path_pattern`` aims them.
"""

from __future__ import annotations

import math
import random
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass


@dataclass
class FaultConfig:
    error_rate: float = 0.0
    error_statuses: tuple[int, ...] = (500, 502, 503)
    latency_ms: int = 0
    drop_rate: float = 0.0
    truncate_rate: float = 0.0
    expire_tokens_after: int | None = None  # API requests until every token expires
    limit: int | None = None  # stop injecting after this many faults
    path_pattern: str | None = None  # only requests whose path matches (re.search)
    include_token_endpoint: bool = False
    seed: int = 0


class FaultInjector:
    """Decides, request by request, which fault (if any) to inject."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.config = FaultConfig()
        self._rng = random.Random(0)
        self._injected = 0
        self._until_expiry: int | None = None
        self.counts: dict[str, int] = {}

    def configure(self, config: FaultConfig) -> None:
        with self._lock:
            self.config = config
            self._rng = random.Random(config.seed)
            self._injected = 0
            self._until_expiry = config.expire_tokens_after

    def decide(self, path: str, is_token: bool) -> str | None:
        """One of None, "drop", "error:<status>", "truncate"; latency is separate."""
        cfg = self.config
        if is_token and not cfg.include_token_endpoint:
            return None
        if cfg.path_pattern and not re.search(cfg.path_pattern, path):
            return None
        with self._lock:
            if cfg.limit is not None and self._injected >= cfg.limit:
                return None
            roll = self._rng.random()
            fault = None
            if roll < cfg.drop_rate:
                fault = "drop"
            elif roll < cfg.drop_rate + cfg.error_rate:
                fault = f"error:{self._rng.choice(cfg.error_statuses)}"
            elif roll < cfg.drop_rate + cfg.error_rate + cfg.truncate_rate:
                fault = "truncate"
            if fault is not None:
                self._injected += 1
                name = fault.split(":")[0]
                self.counts[name] = self.counts.get(name, 0) + 1
            return fault

    def tokens_expire_now(self) -> bool:
        """Count one authenticated request; True once when the expiry point is reached."""
        with self._lock:
            if self._until_expiry is None:
                return False
            self._until_expiry -= 1
            if self._until_expiry <= 0:
                self._until_expiry = None
                self.counts["token_expiry"] = self.counts.get("token_expiry", 0) + 1
                return True
            return False

    def latency(self) -> float:
        return self.config.latency_ms / 1000


class RateLimiter:
    """Sliding one-minute window: a request is allowed when fewer than ``limit`` were
    allowed in the last 60 s. Retry-After is the wait until the oldest of them leaves
    the window, rounded up, so waiting that long always frees a slot. Refused
    requests do not count. Tests may shorten the window (``window`` seconds)."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._times: deque[float] = deque()
        self._lock = threading.Lock()

    def check(self) -> tuple[bool, int, int]:
        """(allowed, remaining, retry_after_seconds)."""
        if self.limit <= 0:
            return True, 0, 0
        now = time.monotonic()
        with self._lock:
            while self._times and self._times[0] <= now - self.window:
                self._times.popleft()
            if len(self._times) >= self.limit:
                wait = self._times[0] + self.window - now
                return False, 0, max(1, math.ceil(wait))
            self._times.append(now)
            return True, self.limit - len(self._times), 0

    def remaining(self) -> int:
        """Slots left in the current window, without using one."""
        now = time.monotonic()
        with self._lock:
            while self._times and self._times[0] <= now - self.window:
                self._times.popleft()
            return max(0, self.limit - len(self._times))

    def set_limit(self, limit: int) -> None:
        with self._lock:
            self.limit = limit
            self._times.clear()


class TokenStore:
    """Issued bearer tokens and their expiry (monotonic clock)."""

    def __init__(self, lifetime: int) -> None:
        self.lifetime = lifetime
        self._tokens: dict[str, float] = {}
        self._lock = threading.Lock()
        self.issued = 0
        self._every: list[str] = []

    def issue(self) -> str:
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = time.monotonic() + self.lifetime
            self.issued += 1
            self._every.append(token)
        return token

    def every_issued(self) -> list[str]:
        """Every token ever issued, expired ones too (leak checks search for them)."""
        with self._lock:
            return list(self._every)

    def valid(self, token: str) -> bool:
        with self._lock:
            expiry = self._tokens.get(token)
            return expiry is not None and time.monotonic() < expiry

    def expire_all(self) -> None:
        with self._lock:
            self._tokens.clear()
