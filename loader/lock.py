"""One writer per lake: the advisory lock that loads, reconciles and erasures share.

PostgreSQL advisory locks live with the server, so a process that dies (kill -9,
a lost connection) releases its lock at once: there is no stale lock file to clean.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

from loader.errors import LoaderError


class LakeBusy(LoaderError):
    """Another run holds the lake."""


def lock_name(schema: str) -> str:
    return f"helpscout-lake:{schema}"


def lake_lock(conn, schema: str, *, command: str) -> AbstractContextManager[None]:
    """Take the lake's lock for the current transaction, or raise :class:`LakeBusy`."""
    with conn.cursor() as cur:
        cur.execute("select pg_try_advisory_xact_lock(hashtext(%s))", (lock_name(schema),))
        if not cur.fetchone()[0]:
            raise LakeBusy(f"another load, reconcile or erasure is using the lake {schema}"
                           f" ({command} needs it alone)")
    return nullcontext()
