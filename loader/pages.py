"""HAL pagination: validate pages, follow ``next`` links, detect page shifts.

Help Scout paginates by page number over live data. If an item leaves the result
while it is being paged (a conversation modified out of its ``modifiedAt`` window,
a deleted tag), every later item moves up one place and one is never seen. A scan
is trusted only when it saw at least as many distinct ids as the largest
``totalElements`` any of its pages announced; otherwise it is repeated (bounded),
keeping whatever the earlier attempts returned (duplicates are harmless, dbt dedups).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from loader.client import ApiResponse, HelpScoutClient, describe_url
from loader.errors import MalformedResponse

log = logging.getLogger(__name__)

# No account needs more pages in one listing; a higher count means a pagination loop.
MAX_PAGES = 200_000


@dataclass
class Page:
    items: list[dict[str, Any]]
    total: int | None
    number: int | None
    next_href: str | None
    received_at: datetime


@dataclass
class Tally:
    """What one window or listing cost: pages read, requests sent, rows written."""

    pages: int = 0
    requests: int = 0
    rows: int = 0
    rescans: int = 0


def entity_id(item: Any, where: str) -> int:
    """The item's integer ``id``; a listing item without one is a malformed page."""
    value = item.get("id") if isinstance(item, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise MalformedResponse(f"{where}: an item has no integer 'id'")
    try:
        return int(value)
    except ValueError:
        raise MalformedResponse(f"{where}: an item has a non-numeric id {value!r}") from None


def parse_page(response: ApiResponse, key: str) -> Page:
    """Check a HAL page's shape and pull out its items, total and next link."""
    where = describe_url(httpx.URL(response.url))
    data = response.data
    if not isinstance(data, dict):
        raise MalformedResponse(f"{where}: the answer is not a JSON object")
    page = data.get("page")
    if page is not None and not isinstance(page, dict):
        raise MalformedResponse(f"{where}: 'page' is not an object")
    total = page.get("totalElements") if page else None
    if total is not None and not isinstance(total, int):
        raise MalformedResponse(f"{where}: 'page.totalElements' is not a number")
    embedded = data.get("_embedded")
    if embedded is None:
        # Help Scout omits _embedded on an empty result.
        if total:
            raise MalformedResponse(f"{where}: missing '_embedded' with {total} announced")
        items: Any = []
    elif not isinstance(embedded, dict):
        raise MalformedResponse(f"{where}: '_embedded' is not an object")
    else:
        items = embedded.get(key, [] if not total else None)
    if not isinstance(items, list):
        raise MalformedResponse(f"{where}: missing list '_embedded.{key}'")
    for item in items:
        entity_id(item, where)
    links = data.get("_links")
    next_link = links.get("next") if isinstance(links, dict) else None
    href = next_link.get("href") if isinstance(next_link, dict) else None
    if href is not None and not isinstance(href, str):
        raise MalformedResponse(f"{where}: '_links.next.href' is not a string")
    number = page.get("number") if page else None
    return Page(items, total, number if isinstance(number, int) else None, href or None,
                response.received_at)


def iter_pages(client: HelpScoutClient, path: str, params: Mapping[str, str] | None, key: str,
               tally: Tally, *, first: ApiResponse | None = None) -> Iterator[Page]:
    """Every page of a listing, following ``_links.next.href`` exactly as given."""
    target = client.url(path, params)
    visited = {str(target)}
    response = first
    while True:
        if response is None:
            response = client.get(target)
            tally.requests += 1
        page = parse_page(response, key)
        tally.pages += 1
        yield page
        # An empty page is past the end, whatever its links say (no endless paging).
        if page.next_href is None or not page.items:
            return
        target = client.url(page.next_href)
        # Let the page go before the next one arrives: one page in memory per worker.
        page = response = None
        if str(target) in visited or len(visited) >= MAX_PAGES:
            raise MalformedResponse(
                f"{describe_url(target)}: pagination loops back to a page already read"
            )
        visited.add(str(target))


@dataclass
class ScanState:
    totals: list[int] = field(default_factory=list)
    ids: set[int] = field(default_factory=set)

    def shifted(self) -> bool:
        """True unless this pass provably saw every item still in the listing.

        Items can only leave a past window (a modification moves them past its end),
        so the result at the end is a subset of the one at the start, whose size is
        the largest total announced. Having seen at least that many distinct ids
        means none of the remaining ones was skipped, even if some left mid-scan.
        """
        return bool(self.totals) and len(self.ids) < max(self.totals)


def scan(pages: Callable[[], Iterator[Page]], on_page: Callable[[Page], None], *,
         max_rescans: int, tally: Tally, what: str) -> bool:
    """Read a listing until one pass is shift-free; ``on_page`` sees every page of every pass.

    Returns False when the last allowed pass still shifted (the caller decides:
    split the window, or fail).
    """
    for attempt in range(max_rescans + 1):
        state = ScanState()
        for page in pages():
            if page.total is not None:
                state.totals.append(page.total)
            state.ids.update(entity_id(item, what) for item in page.items)
            on_page(page)
            del page  # not kept alive while the next page is fetched
        if not state.shifted():
            return True
        if attempt < max_rescans:
            tally.rescans += 1
            log.info("%s shifted while paged (totals %s, %d distinct ids); rescanning",
                     what, sorted(set(state.totals)), len(state.ids))
    return False


def scan_listing(client: HelpScoutClient, path: str, params: Mapping[str, str] | None, key: str,
                 on_page: Callable[[Page], None], *, tally: Tally, max_rescans: int,
                 what: str | None = None, missing_ok: bool = False) -> bool | None:
    """:func:`scan` over every page of ``path``; None if ``missing_ok`` and it answers 404."""
    pending = []
    if missing_ok:
        first = client.get(path, params, accept=(200, 404))
        tally.requests += 1
        if first.status == 404:
            return None
        pending.append(first)

    def pages() -> Iterator[Page]:
        return iter_pages(client, path, params, key, tally,
                          first=pending.pop() if pending else None)

    return scan(pages, on_page, max_rescans=max_rescans, tally=tally, what=what or path)
