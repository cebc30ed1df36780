"""The API's request handling, independent of the socket: request in, response out.

Order of checks for ``/v2`` requests: injected faults (drop / error / truncate are
decided first, as a flaky gateway would), the rate limit (429), then the bearer
token (401), then the route. Admin routes under ``/_sandbox`` skip all of them.
"""

from __future__ import annotations

import json
import re
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from sandbox.listing import (
    PAGE_SIZE,
    ApiError,
    ListingEngine,
    hal_links,
    page_info,
    parse_listing,
    parse_page,
    single_params,
)
from sandbox.render import THREADS_PER_PAGE, dumps

if TYPE_CHECKING:
    from sandbox.core import Sandbox

OTHER_PAGE_SIZE = 50
_CONVERSATION = re.compile(r"^/v2/conversations/(\d+)$")
_THREADS = re.compile(r"^/v2/conversations/(\d+)/threads$")
_FOLDERS = re.compile(r"^/v2/mailboxes/(\d+)/folders$")
_MAILBOX = re.compile(r"^/v2/mailboxes/(\d+)$")
_USER = re.compile(r"^/v2/users/(\d+)$")
_CUSTOMER = re.compile(r"^/v2/customers/(\d+)$")
_TEAM_MEMBERS = re.compile(r"^/v2/teams/(\d+)/members$")
_FIELDS = re.compile(r"^/v2/mailboxes/(\d+)/fields$")


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    fault: str | None = None  # "drop" or "truncate": applied by the socket layer
    latency: float = 0.0


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    query: str
    status: int  # 0 for a dropped connection
    at: float


class Api:
    """Serves one sandbox's account."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sb = sandbox
        self.acc = sandbox.account
        self.renderer = sandbox.renderer
        self.engine = ListingEngine(self.acc)
        self.request_log: deque[RequestRecord] = deque(maxlen=200_000)
        self.stats: dict[str, Any] = {"requests": 0, "by_status": {}, "rate_limited": 0,
                                      "list_pages": 0, "paging_changes": 0}
        self._stats_lock = threading.Lock()
        self._tag_counts: tuple[int, dict[int, int]] = (-1, {})

    def count(self, name: str) -> int:
        """Add one to a counter; returns its new value."""
        with self._stats_lock:
            self.stats[name] += 1
            return int(self.stats[name])

    def stats_snapshot(self) -> dict[str, Any]:
        with self._stats_lock:
            return {**self.stats, "by_status": dict(self.stats["by_status"])}

    def log_snapshot(self) -> list[RequestRecord]:
        with self._stats_lock:
            return list(self.request_log)

    # -- entry point ---------------------------------------------------------------------------
    def handle(self, method: str, path: str, query: str, headers: dict[str, str],
               body: bytes) -> Response:
        try:
            if path.startswith("/_sandbox/"):
                response = self._admin(method, path, body)
            else:
                response = self._api(method, path, query, headers, body)
        except Exception:  # a sandbox bug or a failing test hook: answer, and say so
            traceback.print_exc()
            response = _json(500, {"logRef": "sandbox", "message": "sandbox internal error"})
        self._record(method, path, query, response)
        return response

    def _record(self, method: str, path: str, query: str, response: Response) -> None:
        status = 0 if response.fault == "drop" else response.status
        with self._stats_lock:
            self.request_log.append(RequestRecord(method, path, query, status, time.time()))
            if path.startswith("/_sandbox/"):
                return
            self.stats["requests"] += 1
            by_status = self.stats["by_status"]
            by_status[str(status)] = by_status.get(str(status), 0) + 1
            if status == 429:
                self.stats["rate_limited"] += 1

    # -- /v2 -----------------------------------------------------------------------------------
    def _api(self, method: str, path: str, query: str, headers: dict[str, str],
             body: bytes) -> Response:
        sb = self.sb
        is_token = path == "/v2/oauth2/token"
        latency = sb.faults.latency()
        fault = sb.faults.decide(path, is_token)
        if fault == "drop":
            return Response(0, fault="drop", latency=latency)
        limit = sb.rate_limiter.limit
        if is_token:  # token requests are not rate limited, but say where the budget stands
            allowed, remaining, retry = True, sb.rate_limiter.remaining(), 0
        else:
            allowed, remaining, retry = sb.rate_limiter.check()
        rl_headers = {  # with the limit off, a budget no client will exhaust
            "X-RateLimit-Limit-Minute": str(limit if limit > 0 else 1_000_000),
            "X-RateLimit-Remaining-Minute": str(remaining if limit > 0 else 1_000_000),
        }
        if not allowed:
            response = _json(429, {"message": "API rate limit exceeded"})
            rl_headers["X-RateLimit-Retry-After"] = str(retry)
        elif fault and fault.startswith("error:"):
            response = _error_answer(int(fault.split(":")[1]))
        elif is_token:
            response = self._token(method, headers, body)
        else:
            response = self._authorised(method, path, query, headers)
        response.headers.update(rl_headers)
        if fault == "truncate" and response.status == 200 and len(response.body) > 2:
            response.fault = "truncate"
        response.latency = latency
        return response

    def _token(self, method: str, headers: dict[str, str], body: bytes) -> Response:
        if method != "POST":
            return _json(405, {"error": "method_not_allowed"})
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        if form.get("grant_type") != "client_credentials":
            return _json(400, {"error": "unsupported_grant_type",
                               "error_description": "grant_type must be client_credentials"})
        if (form.get("client_id") != self.sb.client_id
                or form.get("client_secret") != self.sb.client_secret):
            return _json(401, {"error": "invalid_client",
                               "error_description": "Invalid client id or secret"})
        token = self.sb.tokens.issue()
        return _json(200, {"token_type": "bearer", "access_token": token,
                           "expires_in": self.sb.tokens.lifetime})

    def _authorised(self, method: str, path: str, query: str,
                    headers: dict[str, str]) -> Response:
        auth = headers.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        if self.sb.faults.tokens_expire_now():
            self.sb.tokens.expire_all()
        if not token or not self.sb.tokens.valid(token):
            return _json(401, {"error": "invalid_token",
                               "message": "The access token is missing, invalid or expired"})
        if method != "GET":
            return _json(405, {"message": "Method not allowed"})
        try:
            params_pairs = parse_qsl(query, keep_blank_values=True)
            params = single_params(params_pairs)
            return self._route(path, params_pairs, params)
        except ApiError as exc:
            return _json(exc.status, exc.body())

    def _route(self, path: str, pairs: list[tuple[str, str]],
               params: dict[str, str]) -> Response:
        if path == "/v2/conversations":
            return self._conversations(pairs, params)
        match = _CONVERSATION.match(path)
        if match:
            return self._conversation(int(match.group(1)), params)
        match = _THREADS.match(path)
        if match:
            return self._threads(int(match.group(1)), pairs, params)
        if path == "/v2/tags":
            return self._simple_list(path, "tags", self._tag_items(), pairs, params)
        if path == "/v2/mailboxes":
            with self.acc.lock:
                items = [self.renderer.mailbox(m) for _, m in sorted(self.acc.mailboxes.items())]
            return self._simple_list(path, "mailboxes", items, pairs, params)
        if path == "/v2/users":
            with self.acc.lock:
                items = [self.renderer.user(u) for _, u in sorted(self.acc.users.items())
                         if u.listed]
            return self._simple_list(path, "users", items, pairs, params)
        match = _FOLDERS.match(path)
        if match:
            return self._folders(int(match.group(1)), pairs, params)
        if path.startswith(("/v2/customers", "/v2/teams", "/v2/reports")) or _FIELDS.match(path):
            return self._extras(path, pairs, params)
        match = _MAILBOX.match(path)
        if match:
            with self.acc.lock:
                mb = self.acc.mailboxes.get(int(match.group(1)))
                return _json(200, self.renderer.mailbox(mb)) if mb else _not_found()
        match = _USER.match(path)
        if match:
            with self.acc.lock:
                user = self.acc.users.get(int(match.group(1)))
                return _json(200, self.renderer.user(user)) if user else _not_found()
        return _not_found()

    # -- conversations -------------------------------------------------------------------------
    def _conversations(self, pairs: list[tuple[str, str]], params: dict[str, str]) -> Response:
        listing = parse_listing(params, self.sb.all_includes_spam)
        page = parse_page(params)
        embed = params.get("embed") == "threads"
        with self.acc.lock:
            ids = self.engine.ids(listing)
            total = len(ids)
            chosen = ids[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
            frags = [self.renderer.conversation_bytes(self.acc.conversations[i], embed)
                     for i in chosen]
        info = page_info(PAGE_SIZE, total, page)
        links = hal_links(f"{self.sb.base_url}/conversations", pairs, page, info["totalPages"])
        body = b"".join((b'{"_embedded":{"conversations":[', b",".join(frags), b']},"_links":',
                         dumps(links), b',"page":', dumps(info), b"}"))
        self.sb.after_list_page(self.count("list_pages"))
        return Response(200, body, {"Content-Type": "application/hal+json"})

    def _conversation(self, cid: int, params: dict[str, str]) -> Response:
        with self.acc.lock:
            conv = self.acc.conversations.get(cid)
            if conv is None:
                return self._gone(cid, "")
            embed = "first" if params.get("embed") == "threads" else None
            return _json(200, self.renderer.conversation(conv, embed))

    def _threads(self, cid: int, pairs: list[tuple[str, str]],
                 params: dict[str, str]) -> Response:
        page = parse_page(params)
        with self.acc.lock:
            conv = self.acc.conversations.get(cid)
            if conv is None:
                return self._gone(cid, "/threads")
            newest = self.renderer.threads_newest_first(conv)
            total = len(newest)
            chunk = newest[(page - 1) * THREADS_PER_PAGE: page * THREADS_PER_PAGE]
            items = [self.renderer.thread(conv, t) for t in chunk]
        info = page_info(THREADS_PER_PAGE, total, page)
        links = hal_links(f"{self.sb.base_url}/conversations/{cid}/threads", pairs, page,
                          info["totalPages"])
        return _json(200, {"_embedded": {"threads": items}, "_links": links, "page": info})

    def _gone(self, cid: int, suffix: str) -> Response:
        """A merged-away conversation answers 301 to its target; anything else 404."""
        target = self.acc.merged.get(cid)
        if target is None:
            return _not_found()
        location = f"{self.sb.base_url}/conversations/{target}{suffix}"
        return Response(301, b"", {"Location": location})

    # -- other lists -----------------------------------------------------------------------------
    def tag_counts(self) -> dict[int, int]:
        """Conversations carrying each tag (cached per account revision)."""
        with self.acc.lock:
            revision, counts = self._tag_counts
            if revision != self.acc.revision:
                counts = dict.fromkeys(self.acc.tags, 0)
                for conv in self.acc.conversations.values():
                    for tid in conv.tag_ids:
                        if tid in counts:
                            counts[tid] += 1
                self._tag_counts = (self.acc.revision, counts)
            return counts

    def _tag_items(self) -> list[dict[str, Any]]:
        counts = self.tag_counts()
        with self.acc.lock:
            tags = sorted(self.acc.tags.values(), key=lambda t: (t.name.lower(), t.id))
            return [self.renderer.tag(t, counts.get(t.id, 0)) for t in tags]

    def _folders(self, mid: int, pairs: list[tuple[str, str]],
                 params: dict[str, str]) -> Response:
        with self.acc.lock:
            mailbox = self.acc.mailboxes.get(mid)
            if mailbox is None:
                return _not_found()
            items = self.renderer.folders(mailbox)
        return self._simple_list(f"/v2/mailboxes/{mid}/folders", "folders", items, pairs,
                                 params)

    def _simple_list(self, path: str, key: str, items: list[dict[str, Any]],
                     pairs: list[tuple[str, str]], params: dict[str, str]) -> Response:
        page = parse_page(params)
        info = page_info(OTHER_PAGE_SIZE, len(items), page)
        chunk = items[(page - 1) * OTHER_PAGE_SIZE: page * OTHER_PAGE_SIZE]
        links = hal_links(f"{self.sb.base_url}{path[3:]}", pairs, page, info["totalPages"])
        return _json(200, {"_embedded": {key: chunk}, "_links": links, "page": info})

    # -- customers, teams, custom fields, ratings (sandbox/extras.py) ------------------------
    def _extras(self, path: str, pairs: list[tuple[str, str]],
                params: dict[str, str]) -> Response:
        ex, base = self.sb.extras, self.sb.base_url
        if path.startswith("/v2/reports"):
            with self.acc.lock:
                if not ex.reports_available:
                    return _json(403, {"logRef": "sandbox", "message": "The reporting "
                                       "endpoints are only available to Plus and Pro plans"})
                if path == "/v2/reports/happiness/ratings":
                    return _json(200, ex.ratings_report(params))
            return _not_found()
        if path == "/v2/customers":
            page = parse_page(params)
            with self.acc.lock:
                ids = ex.customer_ids(params)
                chosen = ids[(page - 1) * OTHER_PAGE_SIZE: page * OTHER_PAGE_SIZE]
                items = [ex.customer(cid, base) for cid in chosen]
            info = page_info(OTHER_PAGE_SIZE, len(ids), page)
            links = hal_links(f"{base}/customers", pairs, page, info["totalPages"])
            return _json(200, {"_embedded": {"customers": items}, "_links": links,
                               "page": info})
        match = _CUSTOMER.match(path)
        if match:
            with self.acc.lock:
                cid = int(match.group(1))
                return _json(200, ex.customer(cid, base)) if cid in ex.profiles \
                    else _not_found()
        if path == "/v2/teams":
            with self.acc.lock:
                items = [ex.team(t, base) for _, t in sorted(ex.teams.items())]
            return self._simple_list(path, "teams", items, pairs, params)
        match = _TEAM_MEMBERS.match(path)
        if match:
            with self.acc.lock:
                team = ex.teams.get(int(match.group(1)))
                if team is None:
                    return _not_found()
                items = [self.renderer.user(self.acc.users[uid]) for uid in team.member_ids]
            return self._simple_list(path, "users", items, pairs, params)
        match = _FIELDS.match(path)
        if match:
            with self.acc.lock:
                mid = int(match.group(1))
                if mid not in self.acc.mailboxes:
                    return _not_found()
                items = ex.field_defs(mid)
            return self._simple_list(path, "fields", items, pairs, params)
        return _not_found()

    # -- admin -----------------------------------------------------------------------------------
    def _admin(self, method: str, path: str, body: bytes) -> Response:
        try:
            data = json.loads(body) if body.strip() else {}
        except ValueError:
            return _json(400, {"message": "body must be JSON"})
        routes: dict[tuple[str, str], Callable[[dict[str, Any]], Any]] = {
            ("POST", "/_sandbox/advance"): lambda d: self.sb.advance(**d),
            ("POST", "/_sandbox/faults"): self._admin_faults,
            ("POST", "/_sandbox/rate-limit"): lambda d: self.sb.set_rate_limit(int(d["limit"])),
            ("POST", "/_sandbox/paging"): self._admin_paging,
            ("POST", "/_sandbox/plan"): lambda d: self.sb.set_plan(str(d["plan"])),
            ("GET", "/_sandbox/truth"): lambda d: RawJson(self.sb.truth_json()),
            ("GET", "/_sandbox/stats"): lambda d: self.sb.stats(),
            ("GET", "/_sandbox/tokens"): lambda d: {"tokens": self.sb.issued_tokens()},
        }
        handler = routes.get((method, path))
        if handler is None:
            return _not_found()
        try:
            result = handler(data)
        except (TypeError, ValueError, KeyError) as exc:
            return _json(400, {"message": f"bad admin request: {exc}"})
        if isinstance(result, RawJson):
            return Response(200, result.data, {"Content-Type": "application/json"})
        return _json(200, result if result is not None else {"ok": True})

    def _admin_paging(self, data: dict[str, Any]) -> dict[str, Any]:
        every = int(data["every"])
        if every < 0:
            raise ValueError("every must be >= 0")
        self.sb.mutate_during_paging = every
        return {"ok": True}

    def _admin_faults(self, data: dict[str, Any]) -> dict[str, Any]:
        if data.get("clear"):
            self.sb.clear_faults()
        else:
            if "error_statuses" in data:
                data["error_statuses"] = tuple(data["error_statuses"])
            self.sb.set_faults(**data)
        return {"ok": True}


@dataclass(frozen=True)
class RawJson:
    """An already encoded JSON answer."""

    data: bytes


def _json(status: int, payload: Any) -> Response:
    return Response(status, dumps(payload), {"Content-Type": "application/json"})


def _not_found() -> Response:
    return _json(404, {"logRef": "sandbox", "message": "Resource not found"})


def _error_answer(status: int) -> Response:
    """Gateways answer 502/503 with HTML, the application 500 with JSON: both happen."""
    if status in (502, 503, 504):
        html = f"<html><body><h1>{status} Service unavailable</h1></body></html>".encode()
        return Response(status, html, {"Content-Type": "text/html"})
    return _json(status, {"logRef": "sandbox", "message": "Internal server error"})
