"""SIGTERM handled like Ctrl-C: the run stops where it is and is recorded.

Python turns SIGINT into :class:`KeyboardInterrupt`; SIGTERM (what systemd,
Airflow and container runtimes send) would end the process on the spot, leaving its
run row ``running``. While :func:`stop_signals` is active, SIGTERM raises
:class:`TerminateSignal`, a :class:`KeyboardInterrupt`, so both travel the same
path: the unit in progress is rolled back, the run row says ``interrupted``, one
line is printed and the exit code tells the two apart (130, 143).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from loader.errors import Interrupted, Terminated


class TerminateSignal(KeyboardInterrupt):
    """SIGTERM arrived."""


def _raise_terminate(signum: int, frame: object) -> None:
    raise TerminateSignal()


@contextmanager
def stop_signals() -> Iterator[None]:
    """SIGTERM raises :class:`TerminateSignal` inside the block (main thread only:
    only it can install handlers or receive the exception)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def as_error(interrupt: KeyboardInterrupt) -> Interrupted:
    """The loader error, message and exit code for an interrupt."""
    if isinstance(interrupt, TerminateSignal):
        return Terminated("terminated (SIGTERM); completed windows are kept, rerun to resume")
    return Interrupted("interrupted; completed windows are kept, rerun to resume")
