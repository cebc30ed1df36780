"""KPI figures recomputed in plain Python from the sandbox's ground truth.

Independent of dbt on purpose: this module reads the API JSON of the truth,
applies the warehouse contract's definitions (mart-contract.md) and the KPI
marts' filters and buckets (dbt_project/docs/kpi.md) itself, and never looks at
SQL. The tests compare its answers with the marts cell by cell.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

REPLY_THREAD_TYPES = ("reply", "message")
_PREFIX = re.compile(r"^\s*(re|fwd|fw)\s*:\s*", re.IGNORECASE)


@dataclass(frozen=True)
class KpiSettings:
    """The dbt vars the figures depend on (defaults as in dbt_project.yml)."""

    timezone: str = "UTC"
    internal_domains: tuple[str, ...] = ()
    system_closer_emails: tuple[str, ...] = ("none@nowhere.com",)
    include_internal: bool = False
    include_system_closed: bool = False
    subject_wave_min_conversations: int = 10


@dataclass(frozen=True)
class Reply:
    user_id: int | None
    created_at: datetime


@dataclass(frozen=True)
class Conversation:
    """One conversation as the contract defines its columns (only those the KPIs use)."""

    id: int
    mailbox_id: int
    status: str
    subject: str | None
    subject_normalized: str | None
    tag_ids: tuple[int, ...]
    created_at: datetime
    closed_at: datetime | None
    first_response_at: datetime | None
    replies: tuple[Reply, ...]

    @property
    def is_closed(self) -> bool:
        return self.status == "closed" and self.closed_at is not None

    @property
    def resolution_minutes(self) -> float | None:
        if not self.is_closed:
            return None
        return (self.closed_at - self.created_at).total_seconds() / 60

    @property
    def first_response_minutes(self) -> float | None:
        if self.first_response_at is None:
            return None
        return (self.first_response_at - self.created_at).total_seconds() / 60


def parse_ts(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def normalize_subject(subject: str | None) -> str | None:
    """Lower case, leading re:/fw:/fwd: prefixes (repeated) and surrounding space removed."""
    if subject is None:
        return None
    text = subject.lower().strip()
    while (match := _PREFIX.match(text)) is not None:
        text = text[match.end():]
    return text.strip() or None


def _email(person: Mapping[str, Any] | None) -> str | None:
    email = (person or {}).get("email")
    return email.lower() if isinstance(email, str) else None


def _is_user_reply(thread: Mapping[str, Any]) -> bool:
    return (
        thread.get("type") in REPLY_THREAD_TYPES
        and (thread.get("createdBy") or {}).get("type") == "user"
    )


def _counted(payload: Mapping[str, Any], gone: set[int], settings: KpiSettings) -> bool:
    """The KPI filter: no spam, nothing deleted, internal and system-closed by default."""
    if payload.get("status") == "spam" or payload.get("state") == "deleted":
        return False
    if payload["id"] in gone or not payload.get("createdAt"):
        return False
    created_by = payload.get("createdBy") or {}
    creator_email = _email(created_by)
    is_internal = created_by.get("type") == "user" or (
        creator_email is not None
        and any(creator_email.endswith("@" + d.lower()) for d in settings.internal_domains)
    )
    if is_internal and not settings.include_internal:
        return False
    closer = _email(payload.get("closedByUser"))
    is_system_closed = closer is not None and closer in {
        e.lower() for e in settings.system_closer_emails
    }
    return not (is_system_closed and not settings.include_system_closed)


def conversations(truth: Any, settings: KpiSettings) -> list[Conversation]:
    """The conversations the KPI marts count, with the contract's derived columns."""
    gone = set(truth.deleted_ids) | set(truth.merged)
    out = []
    for payload in truth.conversations.values():
        if not _counted(payload, gone, settings):
            continue
        created_at = parse_ts(payload["createdAt"])
        threads = (payload.get("_embedded") or {}).get("threads") or []
        replies = tuple(
            Reply((t.get("createdBy") or {}).get("id"), parse_ts(t["createdAt"]))
            for t in threads
            if _is_user_reply(t) and t.get("createdAt")
        )
        started_by_user = (payload.get("createdBy") or {}).get("type") == "user"
        answered = [r.created_at for r in replies if r.created_at >= created_at]
        out.append(
            Conversation(
                id=payload["id"],
                mailbox_id=payload["mailboxId"],
                status=payload["status"],
                subject=payload.get("subject"),
                subject_normalized=normalize_subject(payload.get("subject")),
                tag_ids=tuple(sorted({t["id"] for t in payload.get("tags") or []})),
                created_at=created_at,
                closed_at=parse_ts(payload.get("closedAt")),
                first_response_at=None if started_by_user or not answered else min(answered),
                replies=replies,
            )
        )
    return out


def percentile_cont(values: Iterable[float], fraction: float) -> float | None:
    """PostgreSQL's percentile_cont: linear interpolation between the nearest ranks."""
    ordered = sorted(values)
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


class Calendar:
    """Buckets in the reporting time zone, as the KPI marts take them."""

    def __init__(self, timezone: str) -> None:
        self.zone = ZoneInfo(timezone)

    def local(self, instant: datetime) -> datetime:
        return instant.astimezone(self.zone).replace(tzinfo=None)

    def day(self, instant: datetime) -> date:
        return self.local(instant).date()

    def week(self, instant: datetime) -> date:
        day = self.day(instant)
        return day - timedelta(days=day.weekday())

    def month(self, instant: datetime) -> date:
        return self.day(instant).replace(day=1)

    def week_end(self, week_start: date) -> datetime:
        """The instant the week ends: the next Monday's local midnight."""
        monday = datetime.combine(week_start + timedelta(days=7), datetime.min.time())
        return monday.replace(tzinfo=self.zone)


def received_and_closed_by_mailbox_week(
    convs: Iterable[Conversation], cal: Calendar
) -> dict[tuple[int, date], tuple[int, int]]:
    received: Counter = Counter()
    closed: Counter = Counter()
    for c in convs:
        received[(c.mailbox_id, cal.week(c.created_at))] += 1
        if c.is_closed:
            closed[(c.mailbox_id, cal.week(c.closed_at))] += 1
    return {key: (received[key], closed[key]) for key in set(received) | set(closed)}


def median_resolution_by_mailbox_week(
    convs: Iterable[Conversation], cal: Calendar
) -> dict[tuple[int, date], float]:
    minutes: dict[tuple[int, date], list[float]] = defaultdict(list)
    for c in convs:
        if c.is_closed:
            minutes[(c.mailbox_id, cal.week(c.closed_at))].append(c.resolution_minutes)
    return {key: percentile_cont(values, 0.5) for key, values in minutes.items()}


def subject_waves(
    convs: Iterable[Conversation], cal: Calendar, min_conversations: int
) -> dict[tuple[date, str], list[datetime]]:
    """(month, normalized subject) -> sorted arrival instants, for waves only."""
    arrivals: dict[tuple[date, str], list[datetime]] = defaultdict(list)
    for c in convs:
        if c.subject_normalized is not None:
            arrivals[(cal.month(c.created_at), c.subject_normalized)].append(c.created_at)
    return {
        key: sorted(values) for key, values in arrivals.items()
        if len(values) >= min_conversations
    }


def arrivals_by_cell(
    convs: Iterable[Conversation], cal: Calendar
) -> Counter:
    """(mailbox, year, ISO weekday, hour) -> conversations received."""
    cells: Counter = Counter()
    for c in convs:
        local = cal.local(c.created_at)
        cells[(c.mailbox_id, local.year, local.isoweekday(), local.hour)] += 1
    return cells


@dataclass(frozen=True)
class WeekSummary:
    conversations_total: int
    conversations_received: int
    received_by_iso_weekday: tuple[int, ...]  # Monday first
    conversations_closed: int
    conversations_open_at_period_end: int
    replies_sent: int
    first_response_minutes_median: float | None
    resolution_minutes_median: float | None


def week_summary(convs: list[Conversation], cal: Calendar, week_start: date) -> WeekSummary:
    end = cal.week_end(week_start)
    in_week = [c for c in convs if cal.week(c.created_at) == week_start]
    closed = [c for c in convs if c.is_closed and cal.week(c.closed_at) == week_start]
    answered = [
        c for c in convs
        if c.first_response_at is not None and cal.week(c.first_response_at) == week_start
    ]
    weekdays = Counter(cal.local(c.created_at).isoweekday() for c in in_week)
    return WeekSummary(
        conversations_total=sum(1 for c in convs if c.created_at < end),
        conversations_received=len(in_week),
        received_by_iso_weekday=tuple(weekdays[d] for d in range(1, 8)),
        conversations_closed=len(closed),
        conversations_open_at_period_end=sum(
            1 for c in convs
            if c.created_at < end and not (c.is_closed and c.closed_at < end)
        ),
        replies_sent=sum(
            1 for c in convs for r in c.replies if cal.week(r.created_at) == week_start
        ),
        first_response_minutes_median=percentile_cont(
            (c.first_response_minutes for c in answered), 0.5
        ),
        resolution_minutes_median=percentile_cont((c.resolution_minutes for c in closed), 0.5),
    )


def last_activity(convs: Iterable[Conversation]) -> datetime:
    """The latest conversation created or closed, or user reply: where the spines end."""
    instants = []
    for c in convs:
        instants.append(c.created_at)
        if c.is_closed:
            instants.append(c.closed_at)
        instants.extend(r.created_at for r in c.replies)
    return max(instants)


def received_by_mailbox(
    convs: Iterable[Conversation], cal: Calendar, week_start: date
) -> Counter:
    """mailbox id -> conversations received in the week."""
    return Counter(c.mailbox_id for c in convs if cal.week(c.created_at) == week_start)


def received_by_tag_week(convs: Iterable[Conversation], cal: Calendar) -> Counter:
    """(tag id, week) -> conversations carrying the tag now, received in the week."""
    return Counter((tag_id, cal.week(c.created_at)) for c in convs for tag_id in c.tag_ids)


def auto_replies_by_day(
    convs: Iterable[Conversation], cal: Calendar, patterns: Iterable[str]
) -> Counter:
    """day -> conversations whose subject matches any pattern, case-insensitively."""
    compiled = [re.compile(p, re.IGNORECASE) for p in patterns]
    return Counter(
        cal.day(c.created_at) for c in convs
        if c.subject is not None and any(p.search(c.subject) for p in compiled)
    )
