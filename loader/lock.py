"""One run or reconcile per lake at a time: a PostgreSQL advisory lock.

Two loaders on one lake would both load everything (every conversation twice) and
share one API budget. Each ``run`` and ``reconcile`` takes a session-level advisory
lock named for the lake's schema on its main connection before it records its run;
PostgreSQL releases it when that connection ends, however the process ends (even
SIGKILL), so a lock is never left behind. ``status`` takes no lock.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from loader.config import iso
from loader.errors import LakeBusy
from loader.lake import RunLog

POLL_SECONDS = 1.0


def _key(schema: str) -> str:
    return f"helpscout-load:{schema}"


def _try(conn, schema: str) -> bool:
    with conn.cursor() as cur:
        cur.execute("select pg_try_advisory_lock(hashtext(%s))", (_key(schema),))
        taken = cur.fetchone()[0]
    conn.commit()
    return bool(taken)


def _holder(conn, runlog: RunLog) -> str:
    running = runlog.running(conn)
    if running is None:
        return "another hs-load run or reconcile"
    run_id, command, started = running
    return f"another hs-load {command} (run {str(run_id)[:8]}, started {iso(started)})"


def acquire(conn, runlog: RunLog, *, wait: bool = False, notice: TextIO | None = None) -> None:
    """Take the lake's lock or raise :class:`LakeBusy`; with ``wait``, poll until free.

    Waiting polls (rather than blocking in ``pg_advisory_lock``) so that Ctrl-C and
    SIGTERM still stop a waiting loader at once.
    """
    if _try(conn, runlog.schema):
        return
    holder = _holder(conn, runlog)
    if not wait:
        raise LakeBusy(f"{holder} is loading the lake {runlog.schema}; "
                       "try again when it ends, or pass --wait")
    print(f"waiting: {holder} is loading the lake {runlog.schema}",
          file=notice or sys.stderr, flush=True)
    while not _try(conn, runlog.schema):
        time.sleep(POLL_SECONDS)


def hold_for_transaction(conn, runlog: RunLog, *, command: str) -> None:
    """Take the lake's lock until the current transaction ends, or raise :class:`LakeBusy`.

    For a one-transaction writer such as the erasure: it conflicts with a run's
    session lock, and committing or rolling back releases it.
    """
    with conn.cursor() as cur:
        cur.execute("select pg_try_advisory_xact_lock(hashtext(%s))", (_key(runlog.schema),))
        if not cur.fetchone()[0]:
            raise LakeBusy(f"{_holder(conn, runlog)} is loading the lake {runlog.schema};"
                           f" {command} refused, try again when it ends")
