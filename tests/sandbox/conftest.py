"""Sandbox fixtures (``sandbox``, ``sandbox_factory``) and an authorised client."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from sandbox import Sandbox
from sandbox.testing import api_client, sandbox, sandbox_factory  # noqa: F401


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[httpx.Client]:  # noqa: F811
    with api_client(sandbox) as c:
        yield c
