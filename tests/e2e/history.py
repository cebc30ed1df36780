"""The status-history part of the contract, read in plain Python.

``conversation_status_history``, ``conversations.reopen_count``, the backlog of
``mailbox_backlog_daily`` and every ``conversations_open_at_period_end``, and the
data watermark behind ``is_complete``: computed from a conversation's latest
copy (the API's JSON), the status and extraction time of each lake copy of it,
and the load log's windows. Nothing here reads a mart or shares SQL with dbt.
Imported by :mod:`tests.e2e.reference` and :mod:`tests.kpi.reference`.

Rules the contract leaves open, decided in dbt_project/docs/ and followed here:

* Threads are taken in (createdAt, id) order; a thread counts as setting a status
  only when its ``status`` is one of ``active``, ``pending``, ``closed``, ``spam``.
* An interval never starts before created_at (a merge can bring in threads older
  than the conversation): such starts are moved to created_at, which can leave
  zero-length intervals; intervals are numbered 1.. per conversation.
* The first interval with no status thread at all is ``active``, source
  ``thread``, set by no thread.
* "At the end of a period" ending at instant E: the interval with
  valid_from < E <= valid_to (a null valid_to is open-ended).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

STATUSES = ("active", "pending", "closed", "spam")
OPEN_STATUSES = ("active", "pending")
ONE_SECOND = timedelta(seconds=1)

Row = dict[str, Any]


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass(frozen=True)
class Copy:
    """One lake copy of a conversation: when it was extracted and the status it showed."""

    extracted_at: datetime
    status: str | None


def status_history(payload: Mapping[str, Any], copies: Sequence[Copy]) -> list[Row]:
    """The contract's intervals of one conversation, from its latest copy ``payload``
    and every lake copy of it (for the start of an ``observed`` interval)."""
    cid = payload["id"]
    created_at = _time(payload.get("createdAt"))
    if created_at is None:
        return []
    threads = (payload.get("_embedded") or {}).get("threads") or []
    setters = sorted(
        ((_time(t.get("createdAt")), t["id"], t.get("status")) for t in threads
         if t.get("status") in STATUSES and _time(t.get("createdAt")) is not None),
        key=lambda s: (s[0], s[1]))
    starts: list[tuple[datetime, str, int | None, str]] = []
    if setters:
        starts.append((created_at, setters[0][2], setters[0][1], "thread"))
        for at, tid, status in setters[1:]:
            if status != starts[-1][1]:
                starts.append((max(at, created_at), status, tid, "thread"))
    else:
        starts.append((created_at, "active", None, "thread"))
    current = payload.get("status")
    if current in STATUSES and current != starts[-1][1]:
        last_at = setters[-1][0] if setters else None
        closed_at = _time(payload.get("closedAt"))
        if current == "closed" and closed_at is not None and closed_at > max(
                last_at or created_at, created_at):
            start = closed_at
        else:
            shown = [c.extracted_at for c in copies if c.status == current
                     and (last_at is None or c.extracted_at > last_at)]
            # none shown after the last status thread: a clock skew; never before it
            start = min(shown) if shown else max(max(c.extracted_at for c in copies),
                                                 last_at or created_at)
        starts.append((max(start, created_at), current, None, "observed"))
    rows = []
    for number, (start, status, tid, source) in enumerate(starts, start=1):
        end = starts[number][0] if number < len(starts) else None
        rows.append({
            "conversation_id": cid, "interval_number": number, "status": status,
            "valid_from": start, "valid_to": end, "is_current": end is None,
            "set_by_thread_id": tid, "source": source,
        })
    return rows


def reopen_count(intervals: Sequence[Row]) -> int:
    """Transitions from closed to active or pending."""
    return sum(1 for before, after in pairwise(intervals)
               if before["status"] == "closed" and after["status"] in OPEN_STATUSES)


def status_at_end(intervals: Sequence[Row], end: datetime) -> str | None:
    """The status in force at the end of a period that ends at instant ``end``."""
    for row in intervals:
        if row["valid_from"] < end and (row["valid_to"] is None or row["valid_to"] >= end):
            return row["status"]
    return None


def watermark(windows: Iterable[tuple[datetime, datetime]]) -> datetime | None:
    """End of the gapless chain of completed conversation windows, from the earliest
    (a window joins when it starts at most one second after the chain's end)."""
    chain: datetime | None = None
    for start, end in sorted(windows):
        if chain is None:
            chain = end
        elif start <= chain + ONE_SECOND:
            chain = max(chain, end)
        else:
            break
    return chain


@dataclass(frozen=True)
class Counted:
    """A conversation the KPI marts count: its current mailbox, creation, history,
    and the instants that make up its mailbox's activity."""

    mailbox_id: int
    created_at: datetime
    intervals: tuple[Row, ...]
    activity: tuple[datetime, ...]


class Days:
    """Local days of the reporting zone and the instants at which they end."""

    def __init__(self, timezone: str) -> None:
        self.zone = ZoneInfo(timezone)

    def day(self, instant: datetime) -> date:
        return instant.astimezone(self.zone).date()

    def end(self, day: date) -> datetime:
        """Local midnight after ``day``, as an instant (a DST day is 23 or 25 hours)."""
        return datetime.combine(day + timedelta(days=1), datetime.min.time(), self.zone)

    def week_start(self, instant: datetime) -> date:
        day = self.day(instant)
        return day - timedelta(days=day.weekday())

    def week_end(self, week_start: date) -> datetime:
        return self.end(week_start + timedelta(days=6))


def backlog_daily(counted: Iterable[Counted], days: Days,
                  mark: datetime | None) -> dict[tuple[int, date], Row]:
    """``mailbox_backlog_daily``: every mailbox from its first activity's day to the
    watermark's day (none without a watermark)."""
    counted = list(counted)
    if mark is None:
        return {}
    last_day = days.day(mark)
    first: dict[int, date] = {}
    for c in counted:
        for at in c.activity:
            day = days.day(at)
            first[c.mailbox_id] = min(first.get(c.mailbox_id, day), day)
    by_mailbox: dict[int, list[Counted]] = {}
    for c in counted:
        by_mailbox.setdefault(c.mailbox_id, []).append(c)
    rows: dict[tuple[int, date], Row] = {}
    for mailbox_id, start in first.items():
        convs = by_mailbox[mailbox_id]
        received: dict[date, int] = {}
        closed: dict[date, int] = {}
        reopened: dict[date, int] = {}
        for c in convs:
            received[days.day(c.created_at)] = received.get(days.day(c.created_at), 0) + 1
            for before, row in zip((None, *c.intervals), c.intervals, strict=False):
                day = days.day(row["valid_from"])
                if row["status"] == "closed":
                    closed[day] = closed.get(day, 0) + 1
                elif (before is not None and before["status"] == "closed"
                      and row["status"] in OPEN_STATUSES):
                    reopened[day] = reopened.get(day, 0) + 1
        day = start
        while day <= last_day:
            end = days.end(day)
            statuses = [status_at_end(c.intervals, end) for c in convs]
            rows[(mailbox_id, day)] = {
                "mailbox_id": mailbox_id, "date_day": day,
                "open_at_day_end": sum(s in OPEN_STATUSES for s in statuses),
                "pending_at_day_end": sum(s == "pending" for s in statuses),
                "conversations_received": received.get(day, 0),
                "conversations_closed": closed.get(day, 0),
                "conversations_reopened": reopened.get(day, 0),
                "is_complete": end <= mark,
            }
            day += timedelta(days=1)
    return rows


def open_at(counted: Iterable[Counted], end: datetime,
            mailbox_id: int | None = None) -> int:
    """Conversations active or pending at the end of a period ending at ``end``."""
    return sum(1 for c in counted if (mailbox_id is None or c.mailbox_id == mailbox_id)
               and status_at_end(c.intervals, end) in OPEN_STATUSES)
