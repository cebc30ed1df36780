"""Sandbox fixtures (``sandbox``, ``sandbox_factory``) and an authorised client."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from sandbox import Sandbox
from sandbox.remote import api_client
from tests.sandbox_fixtures import sandbox, sandbox_factory  # noqa: F401


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[httpx.Client]:  # noqa: F811
    with api_client(sandbox) as c:
        yield c
