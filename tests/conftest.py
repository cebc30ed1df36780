"""Shared fixtures: a real PostgreSQL (the embedded one unless PG* say otherwise).

Each test that needs a database gets a throwaway one on the same server, so
tests never see each other's lake and can run while a demo database exists.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from loader.connection import Database
from ops.database import resolve


@pytest.fixture(scope="session")
def pg_server() -> Database:
    """The configured server (embedded, started on demand)."""
    return resolve()


@contextmanager
def _throwaway_database(server: Database) -> Iterator[Database]:
    name = f"hs_test_{uuid.uuid4().hex[:12]}"
    conn = server.with_dbname("postgres").connect()
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'create database "{name}"')
    try:
        yield server.with_dbname(name)
    finally:
        with conn.cursor() as cur:
            cur.execute(f'drop database if exists "{name}" with (force)')
        conn.close()


@pytest.fixture
def pg_database(pg_server: Database) -> Iterator[Database]:
    """A fresh, empty database, dropped after the test."""
    with _throwaway_database(pg_server) as database:
        yield database


@pytest.fixture(scope="module")
def module_pg_database(pg_server: Database) -> Iterator[Database]:
    """Like ``pg_database`` but shared by one test module (for slow setups)."""
    with _throwaway_database(pg_server) as database:
        yield database
