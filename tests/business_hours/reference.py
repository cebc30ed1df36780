"""Business minutes recomputed in plain Python (zoneinfo), independent of the SQL.

Reads the contract's "Business hours" section literally: walk the local days
that [a, b) touches, turn each day's opening intervals (wall-clock times in the
schedule's zone) into instants, skip holidays, and add up the overlaps. No
prefix sums, no segments: a different algorithm from the dbt models on purpose.

Wall times a clock change skips or repeats follow the rule documented in
dbt_project/docs/overview.md: a skipped time is read with the offset in force
before the change, a repeated one as its second occurrence (after the change).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DEFAULT_WEEKLY: dict[str, list[list[str]]] = {
    day: [["09:00", "17:00"]] if day not in ("saturday", "sunday") else [] for day in WEEKDAYS
}


@dataclass(frozen=True)
class Schedule:
    """A time zone, opening intervals per weekday name, and the closed local dates."""

    timezone: str
    weekly: Mapping[str, Sequence[Sequence[str]]] = field(
        default_factory=lambda: DEFAULT_WEEKLY)
    holidays: frozenset[date] = frozenset()


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def local_instant(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock time ``minutes`` after midnight of ``day`` in ``zone``."""
    wall = datetime.combine(day, time(0)) + timedelta(minutes=minutes)
    first, second = wall.replace(tzinfo=zone, fold=0), wall.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first.astimezone(timezone.utc)
    round_trip = first.astimezone(timezone.utc).astimezone(zone).replace(tzinfo=None)
    skipped = round_trip != wall
    return (first if skipped else second).astimezone(timezone.utc)


def opening_intervals(schedule: Schedule, day: date) -> list[tuple[datetime, datetime]]:
    if day in schedule.holidays:
        return []
    zone = ZoneInfo(schedule.timezone)
    return [(local_instant(day, _minutes(opens), zone), local_instant(day, _minutes(closes), zone))
            for opens, closes in schedule.weekly.get(WEEKDAYS[day.weekday()], [])]


def business_minutes(start: datetime, end: datetime, schedule: Schedule) -> float:
    """Length in minutes of [start, end) inside the schedule's opening intervals (0 if empty)."""
    if end <= start:
        return 0.0
    zone = ZoneInfo(schedule.timezone)
    day = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date() + timedelta(days=1)
    total = timedelta(0)
    while day <= last:
        for opens, closes in opening_intervals(schedule, day):
            overlap = min(end, closes) - max(start, opens)
            if overlap > timedelta(0):
                total += overlap
        day += timedelta(days=1)
    return total.total_seconds() / 60


def sla_breached(created_at: datetime, first_response_at: datetime | None,
                 watermark: datetime | None, schedule: Schedule, target: float,
                 *, user_started: bool = False) -> bool | None:
    """The contract's is_first_response_sla_breached."""
    if user_started:
        return None
    if first_response_at is not None:
        return business_minutes(created_at, first_response_at, schedule) > target
    if watermark is None:
        return False
    return business_minutes(created_at, watermark, schedule) > target
