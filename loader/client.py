"""The HTTP client: OAuth2 client credentials, pacing, bounded retries.

The one rule that matters most: a retry resends *exactly* the request that failed.
Each request's URL (query string included) is built once, before the first attempt,
and every resend reuses it; ``_links.next.href`` is requested as given, never with
parameters appended again. (The pipeline this replaces retried a 401/429 without its
query parameters and appended the default listing to the lake.)

What is retried, with exponential backoff, at most ``retries`` times per request:
5xx answers, timeouts, refused or dropped connections, bodies that are not valid
JSON (truncated). A 429 waits exactly the announced Retry-After (all workers pause
through the shared :class:`~loader.ratelimit.Pacer`) and is retried up to
``MAX_RATE_LIMITED`` times. A 401 fetches a new token once, then retries.
Redirects are never followed: a 301 is information (a merged conversation).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import httpx

from loader.config import ApiSettings
from loader.errors import (
    ApiFailed,
    ApiUnreachable,
    CredentialsError,
    LoaderError,
    MalformedResponse,
    first_line,
)
from loader.ratelimit import Pacer, retry_after_seconds
from loader.stats import Counters

log = logging.getLogger(__name__)

MAX_RATE_LIMITED = 30
MAX_BACKOFF = 60.0
# Renew a token this long before Help Scout says it expires (48 h tokens).
TOKEN_MARGIN = 300.0


@dataclass(frozen=True)
class ApiResponse:
    """One answer: status, headers, parsed JSON (2xx only) and when it arrived."""

    status: int
    url: str
    headers: httpx.Headers
    data: Any
    received_at: datetime


def describe_url(url: httpx.URL) -> str:
    """Path and query for messages (no secret ever travels in a URL)."""
    query = url.query.decode("ascii", "replace")
    return url.path + (f"?{query}" if query else "")


class HelpScoutClient:
    """Thread-safe: workers share one client, one token, one pacer."""

    def __init__(self, settings: ApiSettings, counters: Counters, pacer: Pacer | None = None,
                 *, transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        self.counters = counters
        self.pacer = pacer or Pacer(counters, settings.rate_target)
        self._sleep = sleep
        self._base = httpx.URL(settings.api_url.rstrip("/") + "/")
        self._http = httpx.Client(
            timeout=httpx.Timeout(settings.timeout, connect=min(settings.timeout, 15.0)),
            follow_redirects=False,
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": "helpscout-elt-loader/0.1"},
        )
        self._token_lock = threading.Lock()
        self._token: str | None = None
        self._token_expires = 0.0

    def __enter__(self) -> HelpScoutClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def url(self, target: str | httpx.URL, params: Mapping[str, str] | None = None) -> httpx.URL:
        """The absolute URL of a path relative to the API base, an href, or a URL."""
        url = target if isinstance(target, httpx.URL) else self._base.join(target)
        return url.copy_merge_params(dict(params)) if params else url

    # -- authentication -------------------------------------------------------------

    @property
    def secrets(self) -> list[str | None]:
        """What must never be printed or stored: for scrubbing messages."""
        return [self.settings.app_secret, self._token]

    def authenticate(self) -> None:
        """Fetch a token now, so bad credentials fail before any work starts."""
        self._current_token()

    def _current_token(self) -> str:
        with self._token_lock:
            if self._token is None or time.monotonic() >= self._token_expires:
                self._token = self._fetch_token()
            return self._token

    def _renew_token(self, stale: str) -> None:
        with self._token_lock:
            if self._token == stale:  # another worker may have renewed it already
                self.counters.add(reauths=1)
                self._token = self._fetch_token()

    def _fetch_token(self) -> str:
        self.settings.require_credentials()
        url = httpx.URL(self.settings.token_url)
        form = {
            "grant_type": "client_credentials",
            "client_id": self.settings.app_id or "",
            "client_secret": self.settings.app_secret or "",
        }
        response = self._exchange("POST", url, form=form, accept=(200, 400, 401, 403))
        if response.status != 200:
            raise CredentialsError(
                f"Help Scout rejected the app credentials (HTTP {response.status} from the "
                f"token URL {describe_url(url)}); check HELPSCOUT_APP_ID/HELPSCOUT_APP_SECRET"
            )
        data = response.data
        if not isinstance(data, dict) or not isinstance(data.get("access_token"), str):
            raise MalformedResponse("the token answer has no access_token")
        expires_in = data.get("expires_in")
        lifetime = float(expires_in) if isinstance(expires_in, (int, float)) else 7200.0
        self._token_expires = time.monotonic() + max(lifetime - TOKEN_MARGIN, lifetime / 2)
        return data["access_token"]

    # -- requests -------------------------------------------------------------------

    def get(self, target: str | httpx.URL, params: Mapping[str, str] | None = None, *,
            accept: Collection[int] = (200,)) -> ApiResponse:
        """GET with pacing, auth and retries; raises unless the status is in ``accept``."""
        return self._exchange("GET", self.url(target, params), accept=accept)

    def _exchange(self, method: str, url: httpx.URL, *, accept: Collection[int],
                  form: Mapping[str, str] | None = None) -> ApiResponse:
        authed = form is None
        failures = 0
        rate_limited = 0
        renewed = False
        where = f"{method} {describe_url(url)}"
        while True:
            headers = {}
            token = None
            if authed:
                token = self._current_token()
                headers["Authorization"] = f"Bearer {token}"
                self.pacer.acquire()
            self.counters.add(requests=1)
            try:
                response = self._http.request(method, url, headers=headers, data=form)
            except httpx.TransportError as exc:
                failures = self._retry_or_raise(failures, where, _transport_reason(exc),
                                                ApiUnreachable, None)
                continue
            if authed:
                self.pacer.observe(response.headers)
            status = response.status_code
            if status == 429:
                rate_limited += 1
                self.counters.add(rate_limited=1)
                if rate_limited > MAX_RATE_LIMITED:
                    raise ApiFailed(f"{where}: still rate limited after {MAX_RATE_LIMITED} waits")
                wait = retry_after_seconds(response.headers)
                self.pacer.pause(wait if wait is not None else self._backoff(rate_limited - 1))
                if not authed:
                    self.pacer.acquire()
                continue
            if status == 401 and authed and token is not None:
                if renewed:
                    raise CredentialsError(
                        f"Help Scout answered 401 to {where} even with a fresh token; "
                        "the app's user may be inactive or lack access"
                    )
                renewed = True
                self._renew_token(token)
                continue
            if status >= 500:
                failures = self._retry_or_raise(failures, where, f"HTTP {status}", ApiFailed,
                                                retry_after_seconds(response.headers))
                continue
            if status not in accept:
                raise ApiFailed(f"{where}: unexpected HTTP {status}")
            data = None
            if 200 <= status < 300:
                try:
                    data = response.json()
                except ValueError:
                    failures = self._retry_or_raise(failures, where, "invalid or truncated JSON",
                                                    MalformedResponse, None)
                    continue
            return ApiResponse(status, str(url), response.headers, data,
                               datetime.now(timezone.utc))

    def _retry_or_raise(self, failures: int, where: str, reason: str,
                        error: type[LoaderError], wait: float | None) -> int:
        """Sleep before the next attempt, or raise ``error`` when attempts are spent."""
        if failures >= self.settings.retries:
            attempts = failures + 1
            raise error(f"{where}: {reason} (gave up after {attempts} attempts)")
        delay = wait if wait is not None else self._backoff(failures)
        log.warning("%s: %s; retrying in %.2fs (attempt %d of %d)", where, reason, delay,
                    failures + 2, self.settings.retries + 1)
        self.counters.add(retries=1)
        self._sleep(delay)
        return failures + 1

    def _backoff(self, failures: int) -> float:
        base = min(self.settings.backoff * (2 ** failures), MAX_BACKOFF)
        return base * random.uniform(0.8, 1.2)


def _transport_reason(exc: httpx.TransportError) -> str:
    kind = type(exc).__name__
    detail = first_line(exc, "")
    return f"{kind}: {detail}" if detail else kind
