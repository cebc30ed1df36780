"""A hand-written progress bar on stderr (only on a terminal): share, rate, ETA.

Progress is measured in ``modifiedAt`` seconds covered by completed windows, the
one quantity known in advance; the rate shown is rows and requests per minute.
The bar is an :class:`~loader.observe.Observer` of the run, like any other.
"""

from __future__ import annotations

import sys
import threading
import time
from datetime import datetime
from typing import TextIO

from loader.observe import Observer
from loader.stats import Counters

BAR_WIDTH = 24
REFRESH_SECONDS = 0.25


def format_seconds(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class Progress(Observer):
    """Thread-safe; silent unless ``stream`` is a TTY (or ``enabled`` says so)."""

    def __init__(self, label: str, total: float, counters: Counters,
                 stream: TextIO | None = None, enabled: bool | None = None) -> None:
        self._stream = stream or sys.stderr
        self.enabled = self._stream.isatty() if enabled is None else enabled
        self._label = label
        self._total = max(total, 1.0)
        self._counters = counters
        self._done = 0.0
        self._rows = 0
        self._started = time.monotonic()
        self._requests_at_start = counters.requests
        self._last_draw = 0.0
        self._lock = threading.Lock()

    def window_committed(self, stream: str, start: datetime, end: datetime, rows: int) -> None:
        if stream == self._label:
            self.advance((end - start).total_seconds() + 1, rows)

    def advance(self, amount: float, rows: int) -> None:
        with self._lock:
            self._done = min(self._done + amount, self._total)
            self._rows += rows
            if self.enabled and time.monotonic() - self._last_draw >= REFRESH_SECONDS:
                self._draw()

    def line(self) -> str:
        elapsed = max(time.monotonic() - self._started, 1e-6)
        share = self._done / self._total
        filled = int(share * BAR_WIDTH)
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        per_minute = (self._counters.requests - self._requests_at_start) * 60 / elapsed
        eta = format_seconds(elapsed * (1 - share) / share) if share > 0 else "?"
        return (f"{self._label} [{bar}] {share:6.1%}  {self._rows:,} rows  "
                f"{self._rows * 60 / elapsed:,.0f} rows/min  {per_minute:,.0f} req/min  ETA {eta}")

    def _draw(self) -> None:
        self._last_draw = time.monotonic()
        self._stream.write("\r" + self.line() + "\x1b[K")
        self._stream.flush()

    def close(self) -> None:
        with self._lock:
            if self.enabled:
                self._draw()
                self._stream.write("\n")
                self._stream.flush()
