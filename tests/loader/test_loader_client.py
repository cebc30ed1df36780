"""The HTTP client on its own: 429 waits, re-authentication, unchanged resends."""

from __future__ import annotations

import time

import httpx
import pytest

from loader.client import HelpScoutClient
from loader.config import api_settings_from
from loader.errors import ApiFailed, CredentialsError
from loader.ratelimit import Pacer
from loader.stats import Counters


class UnpacedPacer(Pacer):
    """Ignores the announced budget (so a tiny test budget is hit at once); records sleeps."""

    def __init__(self, counters: Counters) -> None:
        self.sleeps: list[float] = []

        def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)
            time.sleep(seconds)

        super().__init__(counters, sleep=sleep)

    def observe(self, headers) -> None:
        pass


def settings(sb, **overrides):
    env = {"HELPSCOUT_APP_ID": sb.client_id, "HELPSCOUT_APP_SECRET": sb.client_secret}
    return api_settings_from(env, api_url=sb.base_url, token_url=sb.token_url, backoff=0.01,
                             **overrides)


def test_429_waits_exactly_retry_after_and_resends_the_same_request(account_factory):
    sb = account_factory(size=20, rate_limit=3, rate_window=1.0)
    counters = Counters()
    pacer = UnpacedPacer(counters)
    params = {"status": "all", "query": "(modifiedAt:[2024-01-01T00:00:00Z TO *])"}
    with HelpScoutClient(settings(sb), counters, pacer) as client:
        answers = [client.get("conversations", params) for _ in range(5)]
    assert all(a.status == 200 for a in answers)
    refused = [r for r in sb.request_log if r.status == 429]
    assert refused and counters.rate_limited == len(refused)
    # Every pause is the one the server announced: whole seconds, at least 1 (less the
    # microseconds between receiving the 429 and the pause starting).
    assert pacer.sleeps and all(s == pytest.approx(max(round(s), 1), abs=0.05)
                                for s in pacer.sleeps)
    listed = {(r.path, r.query) for r in sb.request_log if r.path == "/v2/conversations"}
    assert len(listed) == 1  # every resend identical to the first request


def test_expired_token_is_renewed_once(account_factory):
    sb = account_factory(size=20)
    counters = Counters()
    with HelpScoutClient(settings(sb), counters) as client:
        assert client.get("users").status == 200
        sb.expire_tokens()
        assert client.get("users").status == 200
    assert counters.reauths == 1
    assert sb.stats()["tokens_issued"] == 2


def test_a_user_without_access_is_a_credentials_error():
    # The real API answers 401 to an app whose user was deactivated, token or not;
    # the sandbox cannot play that, so this one answer is scripted.
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if request.url.path.endswith("/oauth2/token"):
            return httpx.Response(200, json={"access_token": "t", "expires_in": 7200})
        return httpx.Response(401, json={"error": "invalid_token"})

    env = {"HELPSCOUT_APP_ID": "id", "HELPSCOUT_APP_SECRET": "secret-value"}
    api = api_settings_from(env, api_url="http://helpscout.test/v2")
    with HelpScoutClient(api, Counters(), transport=httpx.MockTransport(handler)) as client, \
            pytest.raises(CredentialsError) as caught:
        client.get("users")
    assert "secret-value" not in str(caught.value)
    assert calls == ["/v2/oauth2/token", "/v2/users", "/v2/oauth2/token", "/v2/users"]


def test_an_unexpected_status_is_not_retried(account_factory):
    sb = account_factory(size=20)
    with HelpScoutClient(settings(sb), Counters()) as client, \
            pytest.raises(ApiFailed, match="HTTP 400"):
        client.get("conversations", {"status": "everything"})
    assert sum(r.path == "/v2/conversations" for r in sb.request_log) == 1
