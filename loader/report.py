"""A Reports API listing in windows: satisfaction ratings.

``GET /v2/reports/happiness/ratings?start=&end=`` lists the ratings of an interval
(documented: Plus and Pro plans only), paged by ``page`` with ``page``/``pages``/
``count`` in the answer and the items under ``results`` (not HAL). Each item names
the rated thread (``threadid``), which identifies a rating: the report carries no id
of its own (its ``ratingId`` is the rating's value code).

* **Windows**: ``start=A``, ``end=B+1s`` for a window ``[A, B]`` (whether ``end`` is
  inclusive is undocumented; asking one second past ``B`` covers both readings, and
  the shared second costs a duplicate). The interval is taken to be the rating's
  creation time, so a rating changed later (a customer clicks again) is only seen
  again by re-reading its window: every run re-reads ``--ratings-lookback`` (default
  30 days) before the watermark. A change to an older rating needs ``--since``.
* **Shifts**: a rating added or removed while the window is paged changes ``count``;
  then the window is read again (at most ``--max-rescans`` times, then split).
* **Plans**: an HTTP 402 or 403 on the first request means the plan has no Reports
  API. The stream is recorded ``unavailable`` for the run (``hs-load status`` shows
  it), one warning line says so, and the run goes on and succeeds.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from loader.client import ApiResponse, describe_url
from loader.config import iso
from loader.errors import MalformedResponse
from loader.extract import ConversationWindows, KeptShifting, SplitNeeded
from loader.lake import LakeRow, copy_rows
from loader.pages import MAX_PAGES, Tally
from loader.windows import ONE_SECOND, Window

log = logging.getLogger(__name__)

PLAN_STATUSES = (402, 403)


class PlanLacksStream(Exception):
    """The account's plan does not include this stream (HTTP 402/403)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def report_params(window: Window, page: int = 1) -> dict[str, str]:
    params = {"start": iso(window.start), "end": iso(window.end + ONE_SECOND),
              "sortField": "number", "sortOrder": "ASC"}
    if page > 1:
        params["page"] = str(page)
    return params


def report_page(response: ApiResponse, key: str) -> tuple[list[dict[str, Any]], int, int]:
    """Items, total count and page count of one report page; checks the shape."""
    where = describe_url(httpx.URL(response.url))
    data = response.data
    if not isinstance(data, dict):
        raise MalformedResponse(f"{where}: the answer is not a JSON object")
    items = data.get(key, [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise MalformedResponse(f"{where}: '{key}' is not a list of objects")
    count, pages = data.get("count", len(items)), data.get("pages", 1)
    if not isinstance(count, int) or not isinstance(pages, int):
        raise MalformedResponse(f"{where}: 'count' and 'pages' must be numbers")
    return items, count, pages


def report_id(item: dict[str, Any], field: str, where: str) -> int:
    value = item.get(field)
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).isdigit():
        raise MalformedResponse(f"{where}: an item has no integer '{field}'")
    return int(value)


class ReportWindows(ConversationWindows):
    """The conversations' window machinery over a report's pages."""

    def request_for(self, window: Window) -> dict[str, Any]:
        return {"path": self.stream.path, "params": report_params(window)}

    def check_plan(self) -> None:
        """One request before any window: raise :class:`PlanLacksStream` on 402/403."""
        span = self.planner.span
        response = self.ex.client.get(self.stream.path,
                                      report_params(Window(span.start, span.start)),
                                      accept=(200, *PLAN_STATUSES))
        if response.status in PLAN_STATUSES:
            raise PlanLacksStream(response.status, f"HTTP {response.status} from "
                                  f"/{self.stream.path}: the plan has no Reports API "
                                  "(Plus or Pro needed)")

    def _read(self, cur, tally: Tally, window: Window) -> None:
        ex, stream = self.ex, self.stream
        what = f"{stream.name} {window}"
        for attempt in range(ex.settings.max_rescans + 1):
            counts: list[int] = []
            page, pages = 1, 1
            while page <= pages:
                if page > MAX_PAGES:
                    raise MalformedResponse(f"{what}: more than {MAX_PAGES} pages")
                response = ex.client.get(stream.path, report_params(window, page))
                tally.requests += 1
                tally.pages += 1
                items, count, pages = report_page(response, stream.key)
                if not counts:
                    self.planner.observe(window, count)
                    if self.planner.too_big(window, count):
                        raise SplitNeeded(count)
                counts.append(count)
                rows = [LakeRow(report_id(item, stream.id_field, what), item,
                                response.received_at) for item in items]
                written = copy_rows(cur, stream.table, rows, run_id=ex.run_id,
                                    window_start=window.start, window_end=window.end,
                                    schema=ex.schema)
                tally.rows += written
                self.observer.page_written(stream.name, written)
                if not items:
                    break
                page += 1
            if len(set(counts)) <= 1:
                return
            if attempt < ex.settings.max_rescans:
                tally.rescans += 1
                log.info("%s changed while paged (counts %s); rereading", what,
                         sorted(set(counts)))
        if window.seconds > 1:
            raise KeptShifting(what)
        log.warning("%s kept changing through every reread; keeping what was read", what)
