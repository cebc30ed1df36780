"""``python -m tests.loader.crashing --after-pages N|--after-windows N <hs-load args>``.

The loader's public entry point with one extra observer that SIGKILLs the process
right after the N-th conversation page is written into its still-open window
transaction, or right after the N-th window committed: the crash tests' way to
prove that a kill leaves whole windows or nothing. Nothing in the loader knows.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from datetime import datetime

from loader.cli import main
from loader.observe import Observer


class KillAfter(Observer):
    def __init__(self, pages: int | None, windows: int | None) -> None:
        self.pages, self.windows = pages, windows
        self._seen = {"pages": 0, "windows": 0}
        self._lock = threading.Lock()

    def _count(self, what: str, limit: int | None) -> None:
        with self._lock:
            self._seen[what] += 1
            if limit is not None and self._seen[what] >= limit:
                os.kill(os.getpid(), signal.SIGKILL)

    def page_written(self, stream: str, rows: int) -> None:
        if stream == "conversations":
            self._count("pages", self.pages)

    def window_committed(self, stream: str, start: datetime, end: datetime, rows: int) -> None:
        self._count("windows", self.windows)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--after-pages", type=int)
    parser.add_argument("--after-windows", type=int)
    known, rest = parser.parse_known_args()
    sys.exit(main(rest, observers=[KillAfter(known.after_pages, known.after_windows)]))
