"""Fixtures for the loader tests (helpers live in ``tests/loader/kit.py``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest

from loader.connection import Database
from sandbox import Sandbox
from tests.sandbox_fixtures import sandbox_factory  # noqa: F401

# kit's helpers assert too: have pytest explain their failures.
pytest.register_assert_rewrite("tests.loader.kit")
from tests.loader.kit import Lake, Loader  # noqa: E402


@pytest.fixture(params=[False, True], ids=["count-all-threads", "count-excludes-lineitems"])
def account_factory(request, sandbox_factory) -> Callable[..., Sandbox]:  # noqa: F811
    """Sandboxes whose generated history ends a few seconds ago, served both ways.

    A run reads up to one second before now, so history stamped in the current
    second would make the first run wait; ending it earlier keeps tests quick.
    Every loader test runs against both thread counts the API may have: every
    thread, or all but line items (what v2 counts is unconfirmed).
    """

    def make(**kw) -> Sandbox:
        kw.setdefault("now", datetime.now(timezone.utc) - timedelta(seconds=3))
        kw.setdefault("thread_count_excludes_lineitems", request.param)
        return sandbox_factory(**kw)

    return make


@pytest.fixture
def make_loader(pg_database: Database) -> Callable[[Sandbox], Loader]:
    def make(sb: Sandbox) -> Loader:
        loader = Loader(sb, pg_database, Lake(pg_database))
        loader.settle()  # the generated history may end in the current second
        return loader

    return make
