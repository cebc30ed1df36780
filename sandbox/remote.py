"""Talking to a sandbox from outside it: tokens, clients, pagination, a child process.

:func:`api_client` gives an httpx client already holding a token;
:func:`serve_subprocess` runs ``python -m sandbox serve`` in a child process and
hands back a :class:`ServedSandbox` driven over the admin endpoints. Tests and the
benchmarks use these; the pytest fixtures live in ``tests/sandbox_fixtures.py``.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from sandbox.core import Sandbox


def fetch_token(token_url: str, client_id: str, client_secret: str) -> str:
    response = httpx.post(token_url, data={"grant_type": "client_credentials",
                                           "client_id": client_id,
                                           "client_secret": client_secret})
    response.raise_for_status()
    return str(response.json()["access_token"])


def api_client(sb: Sandbox, timeout: float = 30.0) -> httpx.Client:
    """An httpx client on ``sb.base_url`` with a fresh bearer token."""
    token = fetch_token(sb.token_url, sb.client_id, sb.client_secret)
    return httpx.Client(base_url=sb.base_url, timeout=timeout,
                        headers={"Authorization": f"Bearer {token}"})


@dataclass
class ServedSandbox:
    """A sandbox running in a child process (connection details from its first line)."""

    base_url: str
    token_url: str
    admin_url: str
    client_id: str
    client_secret: str
    process: subprocess.Popen[str]

    def advance(self, steps: int = 10, **kinds: int) -> dict[str, Any]:
        response = httpx.post(f"{self.admin_url}/advance", json={"steps": steps, **kinds},
                              timeout=120)
        response.raise_for_status()
        return dict(response.json())

    def issued_tokens(self) -> list[str]:
        response = httpx.get(f"{self.admin_url}/tokens", timeout=30)
        response.raise_for_status()
        return list(response.json()["tokens"])

    def truth(self) -> Any:
        from sandbox.truth import GroundTruth

        response = httpx.get(f"{self.admin_url}/truth", timeout=300)
        response.raise_for_status()
        return GroundTruth.from_json(response.json())


@contextlib.contextmanager
def serve_subprocess(*args: str, env: dict[str, str] | None = None) -> Iterator[ServedSandbox]:
    """Run ``python -m sandbox serve --json <args>``; stop it (SIGTERM) on exit."""
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "serve", "--json", *args],
        stdout=subprocess.PIPE, text=True, env={**os.environ, **(env or {})},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"sandbox subprocess exited with {process.wait()}")
        info = json.loads(line)
        yield ServedSandbox(process=process, **info)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def all_pages(client: httpx.Client, path: str, key: str, **params: Any) -> list[dict[str, Any]]:
    """Follow ``_links.next`` exactly as given until the last page; return every item."""
    response = client.get(path, params=params)
    items: list[dict[str, Any]] = []
    while True:
        response.raise_for_status()
        body = response.json()
        items.extend(body.get("_embedded", {}).get(key, []))
        nxt = body["_links"].get("next")
        if nxt is None:
            return items
        response = client.get(nxt["href"])
