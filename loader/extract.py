"""The readers, one per kind of stream (see :mod:`loader.streams`).

Windowed streams (conversations): each ``modifiedAt`` window is listed once per
status of the stream (``all`` and ``spam``), sorted by ``modifiedAt`` ascending,
threads embedded. A conversation whose embedded thread list may be incomplete
(shorter than its ``threads`` count, or a full page of 50, since the count may
leave line items out) gets the full list from ``/conversations/{id}/threads``
(every page), stored under ``_embedded.threads``: the one change made to a payload
before it is stored.

Windows run on ``concurrency`` worker threads, each with its own database
connection, all sharing the client (one token, one pacer). After a failed window
no new window starts; windows already in flight finish; the watermark stays at the
end of the contiguous completed prefix.

Listings: every page of one path as one unit; per-parent listings: every parent's
listing (folders of each mailbox) as one unit.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from loader.client import HelpScoutClient
from loader.errors import ApiFailed, ApiUnreachable, CredentialsError, DatabaseUnavailable
from loader.lake import LakeRow, copy_rows
from loader.observe import Observers
from loader.pages import Page, Tally, entity_id, iter_pages, scan_listing
from loader.streams import CONVERSATIONS, Kind, Stream
from loader.windows import Window, WindowPlanner
from loader.work import Extraction, Retreat

log = logging.getLogger(__name__)

# ``embed=threads`` returns the first page of the thread list: 50 threads.
EMBEDDED_THREADS_PAGE = 50
# Errors after which no other stream can succeed either: stop the run at once.
FATAL = (CredentialsError, ApiUnreachable, DatabaseUnavailable)


class SplitNeeded(Retreat):
    def __init__(self, total: int, hint: datetime | None = None) -> None:
        super().__init__(total)
        self.total = total
        self.hint = hint  # where the window's items probably begin (WindowPlanner.split)


class KeptShifting(Retreat):
    pass


class Abandoned(Retreat):
    """The run was interrupted: roll this window back, log nothing."""


# How long an interrupted run waits for its workers to roll their windows back.
STOP_GRACE_SECONDS = 10.0


def first_modified_hint(page: Page) -> datetime | None:
    """The earliest moment the first item of a ``modifiedAt``-ascending page can have
    been modified: the latest of its visible timestamps (creation, the user's last
    update, closing, its newest embedded thread). Every item of the listing was
    modified no earlier than the first. Only a hint for sizing windows (the API
    does not promise that modifiedAt follows these), never a bound a window relies on.
    """
    if not page.items:
        return None
    first = page.items[0]
    stamps = [first.get("createdAt"), first.get("userUpdatedAt"), first.get("closedAt")]
    embedded = first.get("_embedded")
    threads = embedded.get("threads") if isinstance(embedded, dict) else None
    if isinstance(threads, list) and threads and isinstance(threads[0], dict):
        stamps.append(threads[0].get("createdAt"))
    moments = [m for m in map(_parse_stamp, stamps) if m is not None]
    return max(moments) if moments else None


def _parse_stamp(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def window_params(stream: Stream, window: Window, status: str) -> dict[str, str]:
    params = {
        "query": window.query(),
        "status": status,
        "sortField": "modifiedAt",
        "sortOrder": "asc",
    }
    if stream.embed:
        params["embed"] = stream.embed
    return params


# -- threads ---------------------------------------------------------------------------


def fetch_more_threads(client: HelpScoutClient, conversation_id: int,
                       embedded: list[dict[str, Any]], count: Any, tally: Tally
                       ) -> list[dict[str, Any]] | None:
    """The threads after the embedded first page: pages 2 onwards, or None.

    ``embed=threads`` is page 1 of the same newest-first list, so reading from
    page 2 costs only the pages the minimum needs. Trusted only when the embedded
    threads and these together are at least as many distinct threads as every
    count seen (each page's ``totalElements``, the conversation's ``threads``);
    otherwise (None) the caller reads the whole list from page 1. A thread added
    meanwhile pushes threads down a page (seen twice, never missed); the
    conversation's modifiedAt moves with it, so a later window stores it afresh.
    """
    path = f"conversations/{conversation_id}/threads"
    params = {"page": "2"}
    first = client.get(path, params, accept=(200, 404))
    tally.requests += 1
    if first.status == 404:
        return None
    seen = {t.get("id") for t in embedded if isinstance(t, dict)}
    more: list[dict[str, Any]] = []
    totals = [count] if isinstance(count, int) and not isinstance(count, bool) else []
    for page in iter_pages(client, path, params, "threads", tally, first=first):
        if page.total is not None:
            totals.append(page.total)
        for thread in page.items:
            thread_id = entity_id(thread, path)
            if thread_id not in seen:
                seen.add(thread_id)
                more.append(thread)
    if not totals or len(seen) < max(totals):
        return None
    return more


def fetch_threads(client: HelpScoutClient, conversation_id: int, tally: Tally,
                  max_rescans: int) -> list[dict[str, Any]] | None:
    """Every thread of a conversation (all pages), or None if it no longer exists."""
    path = f"conversations/{conversation_id}/threads"
    threads: dict[int, dict[str, Any]] = {}

    def keep(page: Page) -> None:
        for thread in page.items:
            threads[entity_id(thread, path)] = thread  # first position, latest copy

    stable = scan_listing(client, path, None, "threads", keep, tally=tally,
                          max_rescans=max_rescans, missing_ok=True)
    if stable is None:
        return None
    if not stable:
        raise ApiFailed(f"{path} kept shifting through {max_rescans} rescans")
    return list(threads.values())


def may_be_truncated(have: int, count: Any) -> bool:
    """Whether an embedded thread list of ``have`` threads may lack some.

    Fewer than the ``threads`` count: certainly. A full first page: perhaps, whatever
    the count says, because the count may leave threads out (the legacy API's
    counts exclude line items; what v2 counts is unconfirmed). Only a list shorter
    than a page and not shorter than the count is complete.
    """
    if have >= EMBEDDED_THREADS_PAGE:
        return True
    return isinstance(count, int) and not isinstance(count, bool) and have < count


def complete_threads(client: HelpScoutClient, conversation: dict[str, Any], tally: Tally,
                     max_rescans: int) -> bool:
    """Replace a possibly truncated ``_embedded.threads`` with the full list; True if fetched."""
    embedded = conversation.get("_embedded")
    threads = embedded.get("threads") if isinstance(embedded, dict) else None
    have = len(threads) if isinstance(threads, list) else 0
    if not may_be_truncated(have, conversation.get("threads")):
        return False
    conversation_id = entity_id(conversation, "conversation")
    if have >= EMBEDDED_THREADS_PAGE and isinstance(threads, list):
        more = fetch_more_threads(client, conversation_id, threads, conversation.get("threads"),
                                  tally)
        if more is not None:
            embedded["threads"] = threads + more
            return True
    fetched = fetch_threads(client, conversation_id, tally, max_rescans)
    if fetched is None:
        log.warning("conversation %s vanished before its threads were read; stored as listed",
                    conversation_id)
        return False
    seen = {entity_id(t, "thread") for t in fetched}
    # A thread only the listing returned (added, then the fetch raced it) is kept too.
    extra = [t for t in (threads or []) if isinstance(t, dict) and t.get("id") not in seen]
    if not isinstance(embedded, dict):
        embedded = conversation["_embedded"] = {}
    embedded["threads"] = fetched + extra
    return True


def conversation_rows(ex: Extraction, page: Page, tally: Tally) -> list[LakeRow]:
    rows = []
    for conversation in page.items:
        if complete_threads(ex.client, conversation, tally, ex.settings.max_rescans):
            ex.counters.add(thread_fetches=1)
        rows.append(LakeRow(entity_id(conversation, "conversation"), conversation,
                            page.received_at))
    return rows


# -- conversations ---------------------------------------------------------------------


@dataclass
class StreamResult:
    stream: str
    units: int = 0
    rows: int = 0
    kind: Kind = Kind.LISTING
    ids: list[int] = field(default_factory=list, repr=False)  # listings: the ids seen
    unavailable: str | None = None  # why the plan lacks the stream (it was skipped)


class ConversationWindows:
    """Loads a span of ``modifiedAt`` windows on ``concurrency`` workers."""

    def __init__(self, ex: Extraction, span: Window, stream: Stream = CONVERSATIONS,
                 observer: Observers | None = None) -> None:
        self.ex = ex
        self.stream = stream
        self.observer = observer or ex.observer  # the run's, plus this span's progress bar
        self.planner = WindowPlanner(span, ex.settings.window, ex.settings.window_target)
        self.result = StreamResult(stream.name, kind=stream.kind)
        self._stop = threading.Event()     # no new window starts
        self._abandon = threading.Event()  # interrupted: in-flight windows roll back too
        self._errors: list[BaseException] = []
        self._lock = threading.Lock()
        # The statuses after the first (spam) are listed once over the whole span, by
        # the head window (loader.windows.WindowPlanner), unless that listing kept
        # shifting: then every window lists them over its own bounds, as before.
        self._rare_over_span = True

    def run(self) -> StreamResult:
        """Load every window; raise the first failure after in-flight windows end."""
        workers = [threading.Thread(target=self._worker, name=f"window-{i}", daemon=True)
                   for i in range(self.ex.settings.concurrency)]
        for worker in workers:
            worker.start()
        try:
            for worker in workers:
                worker.join()
        except KeyboardInterrupt:
            # Windows in flight roll back at their next page; wait for that (bounded:
            # a worker may be sleeping out a backoff), so none commits after the run
            # is recorded as interrupted.
            self._stop.set()
            self._abandon.set()
            self.planner.close()
            deadline = time.monotonic() + STOP_GRACE_SECONDS
            for worker in workers:
                worker.join(max(deadline - time.monotonic(), 0))
            raise
        if self._errors:
            raise self._errors[0]
        return self.result

    def _worker(self) -> None:
        try:
            with self.ex.connection() as conn:
                while not self._stop.is_set():
                    window = self.planner.next()
                    if window is None:
                        return
                    committed = False
                    try:
                        committed = self._load(conn, window)
                    finally:
                        self.planner.done(window, committed=committed)
        except Abandoned:
            return
        except BaseException as exc:  # handed to the main thread, which raises it
            with self._lock:
                self._errors.append(exc)
            self._stop.set()
            self.planner.close()

    def _load(self, conn, window: Window) -> bool:
        """Read and commit one window; False if it was replaced by smaller ones."""
        ex, stream = self.ex, self.stream
        request = self.request_for(window)
        try:
            tally = ex.unit(conn, stream.name, lambda cur, t: self._read(cur, t, window),
                            window_start=window.start, window_end=window.end, request=request)
        except SplitNeeded as split:
            ex.counters.add(splits=1)
            pieces = self.planner.split(window, split.total, split.hint)
            log.info("window %s announces %d %s; split into %d", window,
                     split.total, stream.name, len(pieces))
            return False
        except KeptShifting:
            ex.counters.add(splits=1)
            self.planner.requeue(window.split(2))
            log.info("window %s kept shifting; split in two", window)
            return False
        with self._lock:
            self.result.units += 1
            self.result.rows += tally.rows
        self.observer.window_committed(stream.name, window.start, window.end, tally.rows)
        return True

    def request_for(self, window: Window) -> dict[str, Any]:
        """What ``load_windows.request`` records for a window (subclasses: their own)."""
        stream = self.stream
        request: dict[str, Any] = {"path": stream.path, "statuses": list(stream.statuses),
                                   "params": window_params(stream, window, stream.statuses[0])}
        if len(stream.statuses) > 1 and self._rare_over_span:
            rare = ", ".join(stream.statuses[1:])
            request["statuses"] = list(stream.statuses[:1])
            if self.planner.is_head(window):
                request["statuses"] = list(stream.statuses)
                request["listed_over"] = {rare: str(self._rare_scope(window))}
            else:
                request["listed_by_head"] = rare
        return request

    def _rare_scope(self, window: Window) -> Window:
        return Window(window.start, self.planner.span.end)

    def _passes(self, window: Window) -> list[tuple[str, Window]]:
        """Each status to list, with the bounds to list it over.

        Spam is rare: the head lists it once from its start to the span's end and
        commits it with its own rows; no window commits before the head (the
        planner's rule), so every completed window of the run is covered by it. A
        conversation's status cannot change without its modifiedAt moving past the
        span, so a window read later finds no spam the head did not see.
        """
        first, *rare = self.stream.statuses
        passes = [(first, window)]
        if not self._rare_over_span:
            passes += [(status, window) for status in rare]
        elif self.planner.is_head(window):
            passes += [(status, self._rare_scope(window)) for status in rare]
        return passes

    def _read(self, cur, tally: Tally, window: Window) -> None:
        ex, stream = self.ex, self.stream
        for status, bounds in self._passes(window):
            params = window_params(stream, bounds, status)
            probe = status == stream.statuses[0]

            def write(page: Page) -> None:
                nonlocal probe
                if self._abandon.is_set():
                    raise Abandoned(str(window))
                if probe:
                    probe = False
                    total = page.total if page.total is not None else len(page.items)
                    hint = first_modified_hint(page)
                    self.planner.observe(window, total, hint)
                    if self.planner.too_big(window, total):
                        raise SplitNeeded(total, hint)
                rows = conversation_rows(ex, page, tally)
                written = copy_rows(cur, stream.table, rows, run_id=ex.run_id,
                                    window_start=window.start, window_end=window.end,
                                    schema=ex.schema)
                tally.rows += written
                self.observer.page_written(stream.name, written)

            what = f"{stream.name} status={status} {bounds}"
            stable = scan_listing(ex.client, stream.path, params, stream.key, write,
                                  tally=tally, max_rescans=ex.settings.max_rescans, what=what)
            if not stable and bounds != window:
                # The span-wide listing of a rare status kept shifting: from now on
                # each window lists it over its own bounds (this one is read again).
                self._rare_over_span = False
                raise KeptShifting(what)
            if not stable:
                if window.seconds > 1:
                    raise KeptShifting(what)
                log.warning("%s kept shifting through every rescan; keeping what was read",
                            what)


# -- full listings -----------------------------------------------------------------------


def load_listing(ex: Extraction, conn, stream: Stream) -> StreamResult:
    """One full listing (every page) as one unit; the result keeps the ids seen."""
    ids: list[int] = []

    def work(cur, tally: Tally) -> None:
        def write(page: Page) -> None:
            rows = [LakeRow(entity_id(item, stream.path), item, page.received_at)
                    for item in page.items]
            ids.extend(row.entity_id for row in rows)
            written = copy_rows(cur, stream.table, rows, run_id=ex.run_id, schema=ex.schema)
            tally.rows += written
            ex.observer.page_written(stream.name, written)

        if not scan_listing(ex.client, stream.path, None, stream.key, write, tally=tally,
                            max_rescans=ex.settings.max_rescans):
            raise ApiFailed(f"the {stream.name} listing kept shifting while paged; run again")

    tally = ex.unit(conn, stream.name, work, request={"path": stream.path})
    return StreamResult(stream.name, 1, tally.rows, stream.kind, sorted(set(ids)))


def load_per_parent(ex: Extraction, conn, stream: Stream, parent_ids: list[int]) -> StreamResult:
    """Every parent's listing as one unit (a parent gone meanwhile is skipped)."""

    def work(cur, tally: Tally) -> None:
        for parent_id in parent_ids:
            path = stream.path_for(parent_id)

            def write(page: Page, parent_id: int = parent_id, path: str = path) -> None:
                rows = [LakeRow(entity_id(item, path), item, page.received_at, parent_id)
                        for item in page.items]
                written = copy_rows(cur, stream.table, rows, run_id=ex.run_id,
                                    schema=ex.schema)
                tally.rows += written
                ex.observer.page_written(stream.name, written)

            stable = scan_listing(ex.client, path, None, stream.key, write, tally=tally,
                                  max_rescans=ex.settings.max_rescans, missing_ok=True)
            if stable is False:  # None: the parent went away meanwhile
                raise ApiFailed(f"{path} kept shifting while paged; run again")

    tally = ex.unit(conn, stream.name, work,
                    request={"path": stream.path.replace("{parent_id}", "{id}"),
                             stream.parent or "parents": len(parent_ids)})
    return StreamResult(stream.name, 1, tally.rows, stream.kind)
