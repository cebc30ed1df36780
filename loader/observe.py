"""Observers: who wants to know how a run advances (the progress bar, tests, callers).

A run tells its observers when a page of rows has been written into a unit's
still-open transaction and when a window has committed. The progress bar is one
observer; a caller of :func:`loader.runner.load` or :func:`loader.cli.main` may pass
its own (the crash tests pass one that kills the process at a chosen point). The
loader itself never changes what it does because of an observer.

Methods are called from the worker threads, so an observer must be thread-safe;
one that raises stops the unit it was called from, like any other error.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime


class Observer:
    """Every event a no-op: subclass and override the ones you need."""

    def page_written(self, stream: str, rows: int) -> None:
        """``rows`` of ``stream`` went into a unit's transaction (not committed yet)."""

    def window_committed(self, stream: str, start: datetime, end: datetime, rows: int) -> None:
        """The ``[start, end]`` window of ``stream`` committed with ``rows`` rows."""


class Observers(Observer):
    """Several observers as one, told in the order given."""

    def __init__(self, observers: Iterable[Observer] = ()) -> None:
        self._observers = tuple(observers)

    def with_(self, *more: Observer) -> Observers:
        return Observers((*self._observers, *more))

    def page_written(self, stream: str, rows: int) -> None:
        for observer in self._observers:
            observer.page_written(stream, rows)

    def window_committed(self, stream: str, start: datetime, end: datetime, rows: int) -> None:
        for observer in self._observers:
            observer.window_committed(stream, start, end, rows)
