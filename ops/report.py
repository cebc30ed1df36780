"""``make report``: the latest complete week and its five busiest mailboxes, in the terminal.

Reads only the KPI marts (``weekly_summary``, ``mailbox_weekly``) and ``mailboxes``,
so what it prints is exactly what a dashboard shows. A week is complete once the
data covers its end (``period_end_at``, local midnight after its Sunday in the
reporting time zone the marts were built with): see ``_week_is_complete``.

``hs-ops report [--schema helpscout] [--top 5]``
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import psycopg2
from psycopg2 import sql

from loader.connection import Database
from loader.errors import first_line

DEFAULT_SCHEMA = "helpscout"
REQUIRED_RELATIONS = ("weekly_summary", "mailbox_weekly", "mailboxes")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class ReportError(RuntimeError):
    """The report cannot be produced (one-line message for the user)."""


@dataclass(frozen=True)
class WeekSummary:
    week_start: date
    period_end_at: datetime
    reporting_timezone: str
    conversations_total: int
    conversations_received: int
    conversations_received_per_day: Decimal
    received_by_weekday: tuple[int, ...]
    conversations_closed: int
    conversations_open_at_period_end: int
    replies_sent: int
    first_response_minutes_median: Decimal | None
    resolution_minutes_median: Decimal | None


@dataclass(frozen=True)
class MailboxWeek:
    mailbox: str
    received: int
    closed: int
    replies: int
    open_at_end: int
    first_response_median: Decimal | None
    resolution_median: Decimal | None


def format_minutes(minutes: Decimal | float | None) -> str:
    """A duration for people: ``45m``, ``3h 05m``, ``2d 04h``; ``-`` when unknown."""
    if minutes is None:
        return "-"
    total = round(float(minutes))
    days, rest = divmod(total, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h"
    if hours:
        return f"{hours}h {mins:02d}m"
    return f"{mins}m"


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table: first column left-aligned, the others right-aligned."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        first, *rest = (str(c) for c in cells)
        aligned = (c.rjust(w) for c, w in zip(rest, widths[1:], strict=True))
        parts = [first.ljust(widths[0]), *aligned]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def _check_built(cur, schema: str) -> None:
    missing = []
    for relation in REQUIRED_RELATIONS:
        cur.execute("select to_regclass(format('%%I.%%I', %s::text, %s::text))", (schema, relation))
        if cur.fetchone()[0] is None:
            missing.append(relation)
    if missing:
        names = ", ".join(f"{schema}.{relation}" for relation in missing)
        raise ReportError(f"the marts are not built yet ({names} missing): run `make build`")


def _week_is_complete(cur, schema: str) -> sql.Composable:
    """A week is complete once the data covers its end: ``is_complete`` where the marts
    have it, else its end against the data watermark ``kpi_settings`` recorded, else
    against the clock (a lake loaded up to last Tuesday does not make last week whole)."""
    cur.execute("select column_name from information_schema.columns where table_schema = %s"
                " and table_name = 'weekly_summary' and column_name = 'is_complete'", (schema,))
    if cur.fetchone():
        return sql.SQL("is_complete")
    cur.execute("select to_regclass(format('%%I.kpi_settings', %s::text))", (schema,))
    if cur.fetchone()[0] is not None:
        # no watermark: a lake the loader's log does not describe; the clock decides
        return sql.SQL("period_end_at <= coalesce((select data_watermark_at from {}.kpi_settings),"
                       " now())").format(sql.Identifier(schema))
    return sql.SQL("period_end_at <= now()")


def fetch_latest_complete_week(cur, schema: str) -> WeekSummary:
    weekday_columns = sql.SQL(", ").join(sql.Identifier(f"received_{d}") for d in WEEKDAYS)
    cur.execute(
        sql.SQL(
            "select week_start, period_end_at, reporting_timezone, conversations_total,"
            " conversations_received,"
            " conversations_received_per_day, {weekdays}, conversations_closed,"
            " conversations_open_at_period_end, replies_sent, first_response_minutes_median,"
            " resolution_minutes_median"
            " from {schema}.weekly_summary where {complete}"
            " order by week_start desc limit 1"
        ).format(weekdays=weekday_columns, schema=sql.Identifier(schema),
                 complete=_week_is_complete(cur, schema))
    )
    row = cur.fetchone()
    if row is None:
        raise ReportError(f"{schema}.weekly_summary has no complete week yet (load more history)")
    head, weekdays, tail = row[:6], row[6:13], row[13:]
    return WeekSummary(*head, tuple(weekdays), *tail)


def fetch_busiest_mailboxes(cur, schema: str, week_start: date, top: int) -> list[MailboxWeek]:
    cur.execute(
        sql.SQL(
            "select coalesce(mailboxes.mailbox_name, mailbox_weekly.mailbox_id::text),"
            " mailbox_weekly.conversations_received, mailbox_weekly.conversations_closed,"
            " mailbox_weekly.replies_sent, mailbox_weekly.conversations_open_at_period_end,"
            " mailbox_weekly.first_response_minutes_median,"
            " mailbox_weekly.resolution_minutes_median"
            " from {schema}.mailbox_weekly"
            " left join {schema}.mailboxes on mailboxes.mailbox_id = mailbox_weekly.mailbox_id"
            " where mailbox_weekly.week_start = %s"
            " order by mailbox_weekly.conversations_received desc, 1 limit %s"
        ).format(schema=sql.Identifier(schema)),
        (week_start, top),
    )
    return [MailboxWeek(*row) for row in cur.fetchall()]


def render(week: WeekSummary, mailboxes: Sequence[MailboxWeek]) -> str:
    last_day = date.fromordinal(week.week_start.toordinal() + 6)
    counts = zip(WEEKDAYS, week.received_by_weekday, strict=True)
    per_day = ", ".join(f"{name[:3].title()} {count}" for name, count in counts)
    summary = [
        ("conversations in the account", f"{week.conversations_total}"),
        ("received this week", f"{week.conversations_received}"
                              f"  ({week.conversations_received_per_day} a day: {per_day})"),
        ("closed this week", f"{week.conversations_closed}"),
        ("open at week end", f"{week.conversations_open_at_period_end}"),
        ("replies sent", f"{week.replies_sent}"),
        ("median first response", format_minutes(week.first_response_minutes_median)),
        ("median resolution", format_minutes(week.resolution_minutes_median)),
    ]
    label_width = max(len(label) for label, _ in summary)
    lines = [
        f"Week {week.week_start.isoformat()} (Mon) to {last_day.isoformat()} (Sun),"
        f" {week.reporting_timezone}",
        "",
        *(f"  {label.ljust(label_width)}  {value}" for label, value in summary),
        "",
        f"Busiest mailboxes (by conversations received that week, top {len(mailboxes)})",
        "",
    ]
    headers = ("mailbox", "received", "closed", "replies", "open at end",
               "median first response", "median resolution")
    rows = [
        (m.mailbox, str(m.received), str(m.closed), str(m.replies), str(m.open_at_end),
         format_minutes(m.first_response_median), format_minutes(m.resolution_median))
        for m in mailboxes
    ]
    lines.append(render_table(headers, rows) if rows else "  (no mailbox had activity)")
    return "\n".join(lines)


def build_report(database: Database, schema: str = DEFAULT_SCHEMA, top: int = 5) -> str:
    conn = database.connect()
    try:
        with conn.cursor() as cur:
            _check_built(cur, schema)
            week = fetch_latest_complete_week(cur, schema)
            mailboxes = fetch_busiest_mailboxes(cur, schema, week.week_start, top)
    except psycopg2.Error as exc:
        raise ReportError(f"cannot read the marts in {schema}: {first_line(exc, 'unknown')}") \
            from None
    finally:
        conn.close()
    return render(week, mailboxes)
