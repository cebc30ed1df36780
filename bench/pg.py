"""Throwaway databases on the configured server, and a sampler of their size.

Every benchmark works in its own ``bench_*`` database, dropped on the way out even
when the benchmark fails, so a bench run never touches the user's lake and runs
beside the test suite of the other engineers on the same server.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from loader.connection import Database
from ops.database import resolve


def _admin(server: Database):
    conn = server.with_dbname("postgres").connect()
    conn.autocommit = True
    return conn


@contextmanager
def throwaway_database(label: str, server: Database | None = None) -> Iterator[Database]:
    """A fresh empty database named ``bench_<label>_<random>``, dropped afterwards."""
    server = server or resolve()
    name = f"bench_{label}_{uuid.uuid4().hex[:8]}"
    conn = _admin(server)
    try:
        with conn.cursor() as cur:
            cur.execute(f'create database "{name}"')
        yield server.with_dbname(name)
    finally:
        with conn.cursor() as cur:
            cur.execute(f'drop database if exists "{name}" with (force)')
        conn.close()


def database_size(database: Database) -> int:
    """``pg_database_size`` in bytes (tables, indexes, TOAST; not the shared WAL)."""
    conn = _admin(database)
    try:
        with conn.cursor() as cur:
            cur.execute("select pg_database_size(%s)", (database.dbname,))
            return int(cur.fetchone()[0])
    finally:
        conn.close()


class SizeSampler:
    """Polls ``pg_database_size`` in a thread to catch the peak a build passes through.

    dbt swaps tables (``__dbt_tmp`` then rename, old copy dropped), so the size just
    after a build understates what the disk must hold during it.
    """

    def __init__(self, database: Database, interval: float = 1.0) -> None:
        self._database = database
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._paused = threading.Event()
        self.peak = 0

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Ignore the size meanwhile (scratch tables that are not the lake's nor dbt's)."""
        self._paused.set()
        try:
            yield
        finally:
            self._paused.clear()

    def sample(self) -> int:
        size = database_size(self._database)
        self.peak = max(self.peak, size)
        return size

    def _run(self) -> None:
        conn = _admin(self._database)
        try:
            with conn.cursor() as cur:
                while not self._stop.wait(self._interval):
                    if self._paused.is_set():
                        continue
                    cur.execute("select pg_database_size(%s)", (self._database.dbname,))
                    size = int(cur.fetchone()[0])
                    if not self._paused.is_set():
                        self.peak = max(self.peak, size)
        finally:
            conn.close()

    def __enter__(self) -> SizeSampler:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()
