"""`GET /v2/conversations`: parameters, advanced-search ranges, filtering, sorting, HAL.

``status`` defaults to ``active`` exactly like the real API. ``all`` means active,
pending and closed: it does NOT include spam unless the sandbox is built with
``all_includes_spam=True`` (the real behaviour is unconfirmed; a loader must
cope either way, so the default is the harsher one).
"""

from __future__ import annotations

import math
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sandbox.account import Account
from sandbox.model import Conversation, parse_iso
from sandbox.render import folder_type

PAGE_SIZE = 25
STATUS_FILTERS = {
    "active": frozenset({"active"}),
    "pending": frozenset({"pending"}),
    "closed": frozenset({"closed"}),
    "spam": frozenset({"spam"}),
    "open": frozenset({"active", "pending"}),
    "all": frozenset({"active", "pending", "closed"}),
}
SORT_FIELDS = {
    "createdAt": lambda c: c.created_at,
    "modifiedAt": lambda c: c.modified_at,
    "number": lambda c: c.number,
    "score": lambda c: c.created_at,
    "status": lambda c: c.status,
    "subject": lambda c: (c.subject or "").lower(),
    "mailboxid": lambda c: c.mailbox_id,
    "waitingSince": lambda c: c.waiting_since or 0,
    "customerEmail": None,  # needs the account: see _sort_key
    "customerName": None,
}
_TS = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z"
_RANGE = re.compile(rf"^(modifiedAt|createdAt|closedAt):\[(\*|{_TS}) TO (\*|{_TS})\]$")
_EQUALS = re.compile(r"^(number|status|mailboxId|customerEmail):(\S+)$")
KNOWN_PARAMS = ("status", "query", "modifiedSince", "mailbox", "tag", "sortField",
                "sortOrder", "page", "embed", "folder", "assigned_to", "number")


class ApiError(Exception):
    """An error answer: status, message and the offending parameter."""

    def __init__(self, status: int, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.path = path

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"logRef": "sandbox", "message": self.message}
        if self.path:
            out["_embedded"] = {"errors": [{"path": self.path, "message": self.message,
                                            "source": "PARAM"}]}
        return out


@dataclass(frozen=True)
class Listing:
    """A parsed, normalised conversations request (hashable: it keys the result cache)."""

    statuses: frozenset[str]
    ranges: tuple[tuple[str, int | None, int | None], ...]
    equals: tuple[tuple[str, str], ...]
    modified_since: int | None
    mailboxes: frozenset[int] | None
    tags: frozenset[str] | None
    folder: int | None
    assigned_to: int | None
    number: int | None
    sort_field: str
    descending: bool


def single_params(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Query pairs as a dict; a repeated parameter is a 400, as on the real API."""
    out: dict[str, str] = {}
    for key, value in pairs:
        if key in out:
            raise ApiError(400, f"Parameter '{key}' was given more than once", key)
        out[key] = value
    return out


def parse_page(params: dict[str, str]) -> int:
    raw = params.get("page", "1")
    if not raw.isdigit() or int(raw) < 1:
        raise ApiError(400, "page must be a positive integer", "page")
    return int(raw)


def parse_listing(params: dict[str, str], all_includes_spam: bool) -> Listing:
    status = params.get("status", "active")
    if status not in STATUS_FILTERS:
        raise ApiError(400, f"Invalid status '{status}'", "status")
    statuses = STATUS_FILTERS[status]
    if status == "all" and all_includes_spam:
        statuses = statuses | {"spam"}
    ranges, equals = _parse_query(params.get("query"))
    since = None
    if "modifiedSince" in params:
        since = _timestamp(params["modifiedSince"], "modifiedSince")
    sort_field = params.get("sortField", "createdAt")
    if sort_field == "mailboxId":
        sort_field = "mailboxid"
    if sort_field not in SORT_FIELDS:
        raise ApiError(400, f"Invalid sortField '{sort_field}'", "sortField")
    order = params.get("sortOrder", "desc").lower()
    if order not in ("asc", "desc"):
        raise ApiError(400, f"Invalid sortOrder '{order}'", "sortOrder")
    embed = params.get("embed")
    if embed not in (None, "", "threads"):
        raise ApiError(400, f"Invalid embed '{embed}'", "embed")
    return Listing(
        statuses=statuses, ranges=ranges, equals=equals, modified_since=since,
        mailboxes=_int_set(params, "mailbox"),
        tags=frozenset(t.strip().lower() for t in params["tag"].split(",") if t.strip())
        if params.get("tag") else None,
        folder=_int(params, "folder"), assigned_to=_int(params, "assigned_to"),
        number=_int(params, "number"), sort_field=sort_field, descending=order == "desc",
    )


def _parse_query(query: str | None):
    """Parse ``(field:[A TO B]) AND (...)``: the subset of the search syntax served here."""
    if query is None or not query.strip():
        return (), ()
    ranges, equals = [], []
    for raw in re.split(r"\s+AND\s+", query.strip()):
        term = raw.strip()
        while term.startswith("(") and term.endswith(")"):
            term = term[1:-1].strip()
        match = _RANGE.match(term)
        if match:
            field, low, high = match.groups()
            ranges.append((field, _bound(low), _bound(high)))
            continue
        match = _EQUALS.match(term)
        if match:
            equals.append((match.group(1), match.group(2).strip('"')))
            continue
        raise ApiError(400, f"Unsupported or malformed query term: {term!r}", "query")
    return tuple(ranges), tuple(equals)


def _bound(text: str) -> int | None:
    return None if text == "*" else _timestamp(text, "query")


def _timestamp(text: str, name: str) -> int:
    try:
        return parse_iso(text)
    except ValueError as exc:
        raise ApiError(400, f"Invalid {name} '{text}': {exc}", name) from None


def _int(params: dict[str, str], name: str) -> int | None:
    if name not in params:
        return None
    try:
        return int(params[name])
    except ValueError:
        raise ApiError(400, f"Invalid {name} '{params[name]}'", name) from None


def _int_set(params: dict[str, str], name: str) -> frozenset[int] | None:
    if not params.get(name):
        return None
    try:
        return frozenset(int(v) for v in params[name].split(","))
    except ValueError:
        raise ApiError(400, f"Invalid {name} '{params[name]}'", name) from None


class ListingEngine:
    """Filters and sorts conversations; results are cached per account revision."""

    def __init__(self, account: Account, cache_size: int = 256) -> None:
        self.acc = account
        self.cache_size = cache_size
        self._cache: OrderedDict[Listing, tuple[int, list[int]]] = OrderedDict()

    def ids(self, listing: Listing) -> list[int]:
        hit = self._cache.get(listing)
        if hit is not None and hit[0] == self.acc.revision:
            self._cache.move_to_end(listing)
            return hit[1]
        ids = self._compute(listing)
        self._cache[listing] = (self.acc.revision, ids)
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return ids

    def _candidates(self, listing: Listing) -> tuple[list[Conversation], bool]:
        """Conversations that may match, narrowed by the smaller of the modifiedAt and
        createdAt index spans; True when they already come in the requested order
        (ascending by (field, id); descending is a reversal)."""
        acc = self.acc
        bounds = {"modifiedAt": (None, None), "createdAt": (None, None)}
        for field, low, high in listing.ranges:
            if field in bounds:
                bounds[field] = (low, high)
        if listing.modified_since is not None:
            low, high = bounds["modifiedAt"]
            since = listing.modified_since + 1
            bounds["modifiedAt"] = (since if low is None else max(low, since), high)
        sizes = {field: acc.count_between(field, *span) for field, span in bounds.items()}
        best = min(sizes, key=lambda f: (sizes[f], f != listing.sort_field))
        if sizes[best] == len(acc.conversations) and listing.sort_field not in bounds:
            return list(acc.conversations.values()), False
        convs = acc.conversations
        ids = acc.ids_between(best, *bounds[best])
        return [convs[i] for i in ids], best == listing.sort_field

    def _compute(self, listing: Listing) -> list[int]:
        acc = self.acc
        tag_ids = None
        if listing.tags is not None:
            tag_ids = {t.id for t in acc.tags.values()
                       if t.name.lower() in listing.tags or t.slug in listing.tags
                       or str(t.id) in listing.tags}
        out = []
        candidates, ordered = self._candidates(listing)
        for conv in candidates:
            if conv.status not in listing.statuses:
                continue
            if listing.mailboxes is not None and conv.mailbox_id not in listing.mailboxes:
                continue
            if tag_ids is not None and not tag_ids.intersection(conv.tag_ids):
                continue
            if listing.modified_since is not None and conv.modified_at <= listing.modified_since:
                continue
            if listing.number is not None and conv.number != listing.number:
                continue
            if listing.assigned_to is not None and conv.assignee_id != listing.assigned_to:
                continue
            if listing.folder is not None and (
                    acc.mailboxes[conv.mailbox_id].folder_ids[folder_type(conv)]
                    != listing.folder):
                continue
            if not all(_in_range(conv, f, lo, hi) for f, lo, hi in listing.ranges):
                continue
            if not all(self._equals(conv, f, v) for f, v in listing.equals):
                continue
            out.append(conv)
        if not ordered:
            key = self._sort_key(listing.sort_field)
            out.sort(key=lambda c: (key(c), c.id))
        ids = [c.id for c in out]
        if listing.descending:
            ids.reverse()
        return ids

    def _sort_key(self, field: str):
        if field == "customerEmail":
            return lambda c: self._customer(c)[0]
        if field == "customerName":
            return lambda c: self._customer(c)[1]
        return SORT_FIELDS[field]

    def _customer(self, conv: Conversation) -> tuple[str, str]:
        if conv.primary_customer_id is None:
            return "", ""
        p = self.acc.customers[conv.primary_customer_id]
        return (p.email or "").lower(), f"{p.first} {p.last}".lower()

    def _equals(self, conv: Conversation, field: str, value: str) -> bool:
        if field == "number":
            return str(conv.number) == value
        if field == "status":
            return conv.status == value
        if field == "mailboxId":
            return str(conv.mailbox_id) == value
        return self._customer(conv)[0] == value.lower()


def _in_range(conv: Conversation, field: str, low: int | None, high: int | None) -> bool:
    value = {"modifiedAt": conv.modified_at, "createdAt": conv.created_at,
             "closedAt": conv.closed_at}[field]
    if value is None:
        return False
    return (low is None or value >= low) and (high is None or value <= high)


def hal_links(url_base: str, pairs: list[tuple[str, str]], page: int,
              total_pages: int) -> dict[str, Any]:
    """HAL links that carry the request's own parameters, with only ``page`` replaced."""

    def href(p: int) -> str:
        kept = [(k, v) for k, v in pairs if k != "page"]
        return f"{url_base}?{urlencode([*kept, ('page', str(p))])}"

    self_query = urlencode(pairs)
    links: dict[str, Any] = {
        "self": {"href": f"{url_base}?{self_query}" if self_query else url_base},
        "first": {"href": href(1)},
        "last": {"href": href(max(total_pages, 1))},
        "page": {"href": href(0)[: -len("page=0")] + "page={page}", "templated": True},
    }
    if page < total_pages:
        links["next"] = {"href": href(page + 1)}
    if page > 1:
        links["prev"] = {"href": href(page - 1)}
    return links


def page_info(size: int, total: int, page: int) -> dict[str, int]:
    return {"size": size, "totalElements": total,
            "totalPages": math.ceil(total / size) if total else 0, "number": page}
