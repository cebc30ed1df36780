"""``modifiedAt`` windows: where a run starts and ends, and how the span is cut.

Windows are kept at second precision, consecutive ones ``[A, B]``, ``[B+1s, C]``,
...: no gap, no overlap. The query asks for ``[A TO B+1s]`` (inclusive bounds, as
Help Scout's range query has them): should the API keep fractions of a second in
``modifiedAt``, a change at ``B+0.5s`` would otherwise fall between two windows.
The shared boundary second costs a duplicate row now and then, which dbt removes.

Where a run starts is derived from ``load_windows`` alone (no state file): the
*watermark* is the end of the gapless chain of completed windows that starts at the
earliest one. Windows may complete out of order (several in flight, or a failed one
in the middle): only the contiguous prefix counts, so a failure leaves a hole that
the next run fills, never skips.

Window sizes adapt: a run starts with ``--window``-sized windows (cheap over empty
years) and, from each window's ``totalElements``, sizes the next to hold about
``target`` conversations; a window announcing more than twice that is split before
any of it is read.
"""

from __future__ import annotations

import heapq
import math
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from loader.config import DEFAULT_SINCE, iso

ONE_SECOND = timedelta(seconds=1)


def floor_second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


@dataclass(frozen=True, order=True)
class Window:
    """An inclusive ``modifiedAt`` range ``[start, end]`` at second precision."""

    start: datetime
    end: datetime

    @property
    def seconds(self) -> int:
        return int((self.end - self.start).total_seconds()) + 1

    def query(self) -> str:
        return f"(modifiedAt:[{iso(self.start)} TO {iso(self.end + ONE_SECOND)}])"

    def split(self, parts: int) -> list[Window]:
        """At most ``parts`` gapless pieces of (nearly) equal length, at least 1s each."""
        parts = max(1, min(parts, self.seconds))
        step = self.seconds / parts
        bounds = [self.start + timedelta(seconds=round(i * step)) for i in range(parts)]
        ends = [b - ONE_SECOND for b in bounds[1:]] + [self.end]
        return [Window(b, e) for b, e in zip(bounds, ends, strict=True)]

    def __str__(self) -> str:
        return f"[{iso(self.start)} .. {iso(self.end)}]"


def watermark(completed: Iterable[tuple[datetime, datetime]]) -> datetime | None:
    """End of the gapless chain of completed windows that starts at the earliest one."""
    chain_end: datetime | None = None
    for start, end in sorted(completed):
        if chain_end is None:
            chain_end = end
        elif start <= chain_end + ONE_SECOND:
            chain_end = max(chain_end, end)
        else:
            break
    return chain_end


def run_span(now: datetime, *, since: datetime | None, until: datetime | None,
             mark: datetime | None, overlap: timedelta, lag: timedelta) -> Window | None:
    """The span a run covers, or None when there is nothing new to read.

    Start: ``--since`` if given; else the watermark plus one second minus the
    overlap; else :data:`DEFAULT_SINCE`. End: one second before ``now - lag``
    (a change stamped in the current second could still land behind us), and
    before ``--until`` (exclusive) if given.
    """
    end = floor_second(now - lag) - ONE_SECOND
    if until is not None:
        end = min(end, until - ONE_SECOND)
    if since is not None:
        start = since
    elif mark is not None:
        start = mark + ONE_SECOND - overlap
    else:
        start = DEFAULT_SINCE
    start = floor_second(start)
    return Window(start, end) if start <= end else None


class WindowPlanner:
    """Hands windows to workers in time order, sizing them adaptively; thread-safe."""

    def __init__(self, span: Window, max_size: timedelta, target: int) -> None:
        self.span = span
        self._cursor = span.start
        self._max_seconds = max(int(max_size.total_seconds()), 1)
        self._size = self._max_seconds
        self._target = max(target, 1)
        self._pending: list[Window] = []  # a heap: the earliest window goes first
        self._lock = threading.Lock()

    def next(self) -> Window | None:
        with self._lock:
            if self._pending:
                return heapq.heappop(self._pending)
            if self._cursor > self.span.end:
                return None
            end = min(self._cursor + timedelta(seconds=self._size - 1), self.span.end)
            window = Window(self._cursor, end)
            self._cursor = end + ONE_SECOND
            return window

    def too_big(self, window: Window, total: int) -> bool:
        """Whether a window announcing ``total`` conversations should be split first."""
        return total > 2 * self._target and window.seconds > 1

    def observe(self, window: Window, total: int) -> None:
        """Size the next windows from this one's density."""
        seconds = window.seconds * self._target / max(total, 1)
        with self._lock:
            self._size = int(min(max(seconds, 1), self._max_seconds))

    def split(self, window: Window, total: int) -> list[Window]:
        """Cut ``window`` into pieces of about ``target`` and hand those out next."""
        pieces = window.split(math.ceil(total / self._target))
        self.requeue(pieces)
        return pieces

    def requeue(self, windows: list[Window]) -> None:
        """Hand these windows out before any new one."""
        with self._lock:
            for window in windows:
                heapq.heappush(self._pending, window)
