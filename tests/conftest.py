"""Shared fixtures: a real PostgreSQL (the embedded one unless PG* say otherwise).

Each test that needs a database gets a throwaway one on the same server, so
tests never see each other's lake and can run while a demo database exists.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from loader.database import Database, resolve


@pytest.fixture(scope="session")
def pg_server() -> Database:
    """The configured server (embedded, started on demand)."""
    return resolve()


def _admin(server: Database):
    conn = server.with_dbname("postgres").connect()
    conn.autocommit = True
    return conn


@pytest.fixture
def pg_database(pg_server: Database) -> Iterator[Database]:
    """A fresh, empty database, dropped after the test."""
    name = f"hs_test_{uuid.uuid4().hex[:12]}"
    conn = _admin(pg_server)
    with conn.cursor() as cur:
        cur.execute(f'create database "{name}"')
    try:
        yield pg_server.with_dbname(name)
    finally:
        with conn.cursor() as cur:
            cur.execute(f'drop database if exists "{name}" with (force)')
        conn.close()


@pytest.fixture(scope="module")
def module_pg_database(pg_server: Database) -> Iterator[Database]:
    """Like ``pg_database`` but shared by one test module (for slow setups)."""
    name = f"hs_test_{uuid.uuid4().hex[:12]}"
    conn = _admin(pg_server)
    with conn.cursor() as cur:
        cur.execute(f'create database "{name}"')
    try:
        yield pg_server.with_dbname(name)
    finally:
        with conn.cursor() as cur:
            cur.execute(f'drop database if exists "{name}" with (force)')
        conn.close()
