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

Window sizes adapt (:class:`WindowPlanner`): the first window is the whole span
(or ``--window``), windows grow to the rest of the span after an empty one and are
sized from each window's ``totalElements`` to hold about ``target`` conversations; a
window announcing more than twice that is split before any of it is read.
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
    """Hands windows to workers in time order, sizing them adaptively; thread-safe.

    The first window is ``first`` long (the whole span when None), so a small account
    is one window whatever its empty years. Then every window is sized from what the
    last one announced: after an empty window the next runs to the end of the span
    (empty years cost one request, not one per ``--window``); after a non-empty one
    it is sized to hold about ``target`` conversations at the density just seen; a
    window announcing more than twice ``target`` is split before it is read.

    Densities are measured from a *hint*: the earliest moment a window's first item
    (in ``modifiedAt`` order) can have been modified, read from its visible
    timestamps. Hints only shape sizes: every second of the span is still in some
    window, so a wrong hint costs requests, never data.

    The *head* (the window starting at the span's start) goes alone: no other window
    is handed out until it has committed. It is the window that anchors the gapless
    chain of a fresh lake and that reads the span's rare statuses (spam) once, so
    no window may commit before it (see :class:`loader.extract.ConversationWindows`).
    """

    def __init__(self, span: Window, first: timedelta | None, target: int) -> None:
        self.span = span
        self._cursor = span.start
        self._size = span.seconds if first is None else max(int(first.total_seconds()), 1)
        self._target = max(target, 1)
        self._pending: list[Window] = []  # a heap: the earliest window goes first
        self._in_flight = 0
        self._head_done = False
        self._closed = False
        self._ready = threading.Condition()

    def is_head(self, window: Window) -> bool:
        return window.start == self.span.start

    def next(self) -> Window | None:
        """The next window; waits while the head is in flight or while windows in
        flight may still be split; None once the span is handed out (or closed)."""
        with self._ready:
            while True:
                if self._closed:
                    return None
                if self._head_done or self._in_flight == 0:
                    window = self._take()
                    if window is not None:
                        self._in_flight += 1
                        return window
                    if self._in_flight == 0:
                        return None
                self._ready.wait()

    def _take(self) -> Window | None:
        if self._pending:
            return heapq.heappop(self._pending)
        if self._cursor > self.span.end:
            return None
        end = min(self._cursor + timedelta(seconds=self._size - 1), self.span.end)
        window = Window(self._cursor, end)
        self._cursor = end + ONE_SECOND
        return window

    def done(self, window: Window, *, committed: bool) -> None:
        """A window handed out is over: committed, or replaced (split) or failed."""
        with self._ready:
            self._in_flight -= 1
            if committed and self.is_head(window):
                self._head_done = True
            self._ready.notify_all()

    def close(self) -> None:
        """Hand out nothing more (the run stops); wakes every waiting worker."""
        with self._ready:
            self._closed = True
            self._ready.notify_all()

    def too_big(self, window: Window, total: int) -> bool:
        """Whether a window announcing ``total`` conversations should be split first."""
        return total > 2 * self._target and window.seconds > 1

    def observe(self, window: Window, total: int, hint: datetime | None = None) -> None:
        """Size the next windows from this one's count (and hint)."""
        with self._ready:
            if total <= 0:
                self._size = max(self.span.seconds, 1)  # grow to the rest of the span
                return
            seconds = _dense_part(window, hint).seconds * self._target / total
            self._size = max(int(seconds), 1)

    def split(self, window: Window, total: int, hint: datetime | None = None) -> list[Window]:
        """Cut ``window`` into pieces of about ``target`` and hand those out next.

        The pieces divide the part after the hint; the first one reaches back to the
        window's start, so a hint that was wrong leaves nothing uncovered.
        """
        dense = _dense_part(window, hint)
        pieces = dense.split(math.ceil(total / self._target))
        if dense.start > window.start:
            pieces[0] = Window(window.start, pieces[0].end)
        self.requeue(pieces)
        return pieces

    def requeue(self, windows: list[Window]) -> None:
        """Hand these windows out before any new one."""
        with self._ready:
            for window in windows:
                heapq.heappush(self._pending, window)
            self._ready.notify_all()


def _dense_part(window: Window, hint: datetime | None) -> Window:
    """The part of ``window`` from its hint on (all of it without a usable hint)."""
    if hint is None:
        return window
    start = min(max(floor_second(hint), window.start), window.end)
    return Window(start, window.end)
