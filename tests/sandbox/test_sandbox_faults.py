"""Rate limiting, injected faults and token expiry, observed over real HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import httpx
import pytest

from sandbox import Sandbox
from sandbox.remote import api_client, fetch_token


def test_rate_limit_headers_and_429(sandbox_factory: Callable[..., Sandbox]) -> None:
    sb = sandbox_factory(rate_limit=5, rate_window=2.0)
    with api_client(sb) as client:
        remaining = []
        for _ in range(5):
            answer = client.get("/users")
            assert answer.status_code == 200
            assert answer.headers["X-RateLimit-Limit-Minute"] == "5"
            remaining.append(int(answer.headers["X-RateLimit-Remaining-Minute"]))
        assert remaining == [4, 3, 2, 1, 0]
        refused = client.get("/users")
        assert refused.status_code == 429
        assert refused.json() == {"message": "API rate limit exceeded"}
        assert "X-RateLimit-Remaining-Minute" in refused.headers
        retry_after = int(refused.headers["X-RateLimit-Retry-After"])
        assert 1 <= retry_after <= 2
        time.sleep(retry_after)  # truthful: after waiting that long a call goes through
        assert client.get("/users").status_code == 200
    assert sb.stats()["rate_limited"] == 1


def test_token_requests_carry_the_headers_without_spending(sandbox_factory) -> None:
    sb = sandbox_factory(rate_limit=3)
    for _ in range(5):
        answer = httpx.post(sb.token_url, data={"grant_type": "client_credentials",
                                                "client_id": sb.client_id,
                                                "client_secret": sb.client_secret})
        assert answer.status_code == 200
        assert answer.headers["X-RateLimit-Remaining-Minute"] == "3"


def test_rate_limit_can_change_and_be_switched_off(sandbox_factory) -> None:
    sb = sandbox_factory(rate_limit=2)
    with api_client(sb) as client:
        assert [client.get("/tags").status_code for _ in range(3)] == [200, 200, 429]
        sb.set_rate_limit(0)
        assert all(client.get("/tags").status_code == 200 for _ in range(5))
        sb.set_rate_limit(1)
        assert [client.get("/tags").status_code for _ in range(2)] == [200, 429]


def test_error_faults_are_counted_and_limited(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.set_faults(error_rate=1.0, error_statuses=(500, 502, 503), limit=6, seed=3)
    statuses = [client.get("/conversations").status_code for _ in range(8)]
    assert all(s in (500, 502, 503) for s in statuses[:6])
    assert statuses[6:] == [200, 200]
    assert sandbox.stats()["faults"]["error"] == 6


def test_gateway_errors_come_as_html(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.set_faults(error_rate=1.0, error_statuses=(502,), limit=1)
    answer = client.get("/conversations")
    assert answer.status_code == 502
    assert answer.headers["content-type"].startswith("text/html")


def test_faults_are_seeded(sandbox: Sandbox, client: httpx.Client) -> None:
    def run() -> list[int]:
        sandbox.set_faults(error_rate=0.4, seed=11)
        return [client.get("/users").status_code for _ in range(30)]

    first, second = run(), run()
    assert first == second
    assert 200 in first and any(s >= 500 for s in first)


def test_faults_can_target_paths(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.set_faults(error_rate=1.0, path_pattern=r"/threads$")
    assert client.get("/conversations").status_code == 200
    cid = client.get("/conversations", params={"status": "all"}).json()[
        "_embedded"]["conversations"][0]["id"]
    assert client.get(f"/conversations/{cid}/threads").status_code >= 500
    sandbox.clear_faults()
    assert client.get(f"/conversations/{cid}/threads").status_code == 200


def test_dropped_connection(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.set_faults(drop_rate=1.0, limit=1)
    with pytest.raises(httpx.TransportError):
        client.get("/conversations")
    assert client.get("/conversations").status_code == 200
    assert sandbox.stats()["faults"]["drop"] == 1


def test_truncated_body(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.set_faults(truncate_rate=1.0, limit=1)
    answer = client.get("/conversations", params={"status": "all"})
    assert answer.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(answer.content)
    assert client.get("/conversations", params={"status": "all"}).json()["page"]


def test_added_latency(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.set_faults(latency_ms=300)
    began = time.monotonic()
    assert client.get("/users").status_code == 200
    # a lower bound only: the sandbox sleeps at least this long before answering
    assert time.monotonic() - began >= 0.3


def test_tokens_expire_mid_run(sandbox: Sandbox) -> None:
    sandbox.set_faults(expire_tokens_after=3)
    with api_client(sandbox) as client:
        assert [client.get("/users").status_code for _ in range(4)] == [200, 200, 401, 401]
    with api_client(sandbox) as fresh:  # a new token works again
        assert fresh.get("/users").status_code == 200


def test_token_lifetime(sandbox_factory) -> None:
    sb = sandbox_factory(token_lifetime=1)
    token = fetch_token(sb.token_url, sb.client_id, sb.client_secret)
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{sb.base_url}/users", headers=headers).status_code == 200
    time.sleep(1.1)
    assert httpx.get(f"{sb.base_url}/users", headers=headers).status_code == 401


def test_token_endpoint_faults_only_when_asked(sandbox: Sandbox) -> None:
    sandbox.set_faults(error_rate=1.0)
    assert fetch_token(sandbox.token_url, sandbox.client_id, sandbox.client_secret)
    sandbox.set_faults(error_rate=1.0, include_token_endpoint=True, error_statuses=(503,))
    with pytest.raises(httpx.HTTPStatusError):
        fetch_token(sandbox.token_url, sandbox.client_id, sandbox.client_secret)


def test_request_log_records_what_was_asked(sandbox: Sandbox, client: httpx.Client) -> None:
    client.get("/conversations", params={"status": "closed", "page": 2})
    last = sandbox.request_log[-1]
    assert (last.method, last.path, last.status) == ("GET", "/v2/conversations", 200)
    assert "status=closed" in last.query
    assert sandbox.stats()["list_pages"] == 1
