"""Pytest fixtures for tests that talk HTTP to an in-process sandbox.

Use in a ``conftest.py``: ``from tests.sandbox_fixtures import sandbox, sandbox_factory``.
``sandbox_factory(**kw)`` builds a started :class:`~sandbox.Sandbox` (small, rate
limit off, by default) and stops it after the test; ``sandbox`` is one such with the
defaults.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sandbox import Sandbox

DEFAULTS: dict[str, Any] = {"size": 300, "seed": 7, "start": "2025-01-01", "rate_limit": 0}


@pytest.fixture
def sandbox_factory() -> Iterator[Callable[..., Sandbox]]:
    """Make started sandboxes (``DEFAULTS`` overridden by keywords); all stop at teardown."""
    made: list[Sandbox] = []

    def make(**kw: Any) -> Sandbox:
        sb = Sandbox(**{**DEFAULTS, **kw})
        made.append(sb)
        return sb

    yield make
    for sb in made:
        sb.stop()


@pytest.fixture
def sandbox(sandbox_factory: Callable[..., Sandbox]) -> Sandbox:
    """A started sandbox with ``DEFAULTS``."""
    return sandbox_factory()
