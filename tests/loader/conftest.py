"""Fixtures for the loader tests (helpers live in ``tests/loader/kit.py``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from loader.database import Database
from sandbox import Sandbox
from sandbox.testing import sandbox_factory  # noqa: F401
from tests.loader.kit import Lake, Loader


@pytest.fixture
def make_loader(pg_database: Database) -> Callable[[Sandbox], Loader]:
    def make(sb: Sandbox) -> Loader:
        return Loader(sb, pg_database, Lake(pg_database))

    return make
