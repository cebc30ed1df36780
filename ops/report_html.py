"""The weekly report as one self-contained HTML file, and as an e-mail.

The same week as the terminal report (:mod:`ops.report`), with every mailbox in
the table and charts: received and closed over the last 12 weeks, first-response
medians (the account and its busiest mailboxes), the backlog at each day's end
(from ``mailbox_backlog_daily``; a visible note replaces the chart when the build
has no such mart) and the arrival heat map (``arrival_curve``, the week's calendar
year). It says which time zone and which filters its numbers use (``kpi_settings``).

The file embeds its images as ``data:`` URIs (no request leaves the page); the
e-mail is ``multipart/alternative`` (the terminal report as text, the HTML) with
the images as ``multipart/related`` parts referenced by ``cid:``, which mail
clients show inline.
"""

from __future__ import annotations

import base64
import html
import os
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

import psycopg2
from psycopg2 import sql

from loader.connection import Database
from ops import delivery, report, report_charts
from ops.report import MailboxWeek, ReportError, WeekSummary, format_minutes

HISTORY_WEEKS = 12
FIRST_RESPONSE_MAILBOXES = 3


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    caption: str
    png: bytes


@dataclass
class WeeklyReport:
    week: WeekSummary
    mailboxes: list[MailboxWeek]
    scope: str
    charts: list[Chart] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)  # chart key -> why it is missing

    @property
    def last_day(self) -> date:
        return self.week.week_start + timedelta(days=6)

    @property
    def file_name(self) -> str:
        return f"weekly-report-{self.week.week_start.isoformat()}.html"


def _exists(cur, schema: str, relation: str) -> bool:
    cur.execute("select to_regclass(format('%%I.%%I', %s::text, %s::text))", (schema, relation))
    return cur.fetchone()[0] is not None


def _scope(cur, schema: str, zone: str) -> str:
    """Which time zone and filters the numbers use, in one sentence."""
    base = (f"Days and weeks are taken in {zone}. Spam and deleted conversations are"
            " always left out")
    if not _exists(cur, schema, "kpi_settings"):
        return f"{base}; internal and system-closed ones too unless the build said otherwise."
    cur.execute(sql.SQL("select is_internal_included, is_system_closed_included,"
                        " internal_email_domains from {}.kpi_settings")
                .format(sql.Identifier(schema)))
    internal, system_closed, domains = cur.fetchone()
    internal_text = "included" if internal else "left out"
    domains_text = f", and from {domains}" if domains else ""
    closed_text = "included" if system_closed else "left out"
    return (f"{base}. Internal conversations (started by a user{domains_text}) are"
            f" {internal_text}; conversations closed by the automatic closer (the"
            f" system_closer_emails var) are {closed_text}.")


def _weeks(cur, schema: str, last_week: date) -> list[tuple]:
    cur.execute(
        sql.SQL("select week_start, conversations_received, conversations_closed,"
                " first_response_minutes_median from {}.weekly_summary where week_start <= %s"
                " order by week_start desc limit %s").format(sql.Identifier(schema)),
        (last_week, HISTORY_WEEKS))
    return list(reversed(cur.fetchall()))


def _mailbox_first_responses(cur, schema: str, weeks: Sequence[date],
                             mailboxes: Sequence[MailboxWeek]) -> dict[str, list]:
    names = [m.mailbox for m in mailboxes[:FIRST_RESPONSE_MAILBOXES] if m.received]
    cur.execute(
        sql.SQL("select coalesce(mailboxes.mailbox_name, weekly.mailbox_id::text),"
                " weekly.week_start, weekly.first_response_minutes_median"
                " from {schema}.mailbox_weekly as weekly"
                " left join {schema}.mailboxes as mailboxes"
                "   on weekly.mailbox_id = mailboxes.mailbox_id"
                " where weekly.week_start between %s and %s")
        .format(schema=sql.Identifier(schema)), (weeks[0], weeks[-1]))
    found = {(name, week): median for name, week, median in cur.fetchall()}
    return {name: [found.get((name, w)) for w in weeks] for name in names}


def _backlog(cur, schema: str, first: date, last: date) -> list[tuple] | None:
    if not _exists(cur, schema, "mailbox_backlog_daily"):
        return None
    cur.execute(
        sql.SQL("select date_day, sum(open_at_day_end)::integer, sum(pending_at_day_end)::integer"
                " from {}.mailbox_backlog_daily where date_day between %s and %s"
                " group by date_day order by date_day").format(sql.Identifier(schema)),
        (first, last))
    return cur.fetchall()


def _heatmap(cur, schema: str, year: int) -> list[list[int]] | None:
    if not _exists(cur, schema, "arrival_curve"):
        return None
    cur.execute(
        sql.SQL("select iso_day_of_week, hour_of_day, sum(conversations_received)::integer"
                " from {}.arrival_curve where calendar_year = %s"
                " group by iso_day_of_week, hour_of_day").format(sql.Identifier(schema)),
        (year,))
    cells = [[0] * 24 for _ in range(7)]
    for weekday, hour, count in cur.fetchall():
        cells[weekday - 1][hour] = count
    return cells


def collect(database: Database, schema: str = report.DEFAULT_SCHEMA) -> WeeklyReport:
    """Read the marts and draw the charts (raises ReportError)."""
    conn = database.connect()
    try:
        with conn.cursor() as cur:
            report._check_built(cur, schema)
            week = report.fetch_latest_complete_week(cur, schema)
            mailboxes = report.fetch_busiest_mailboxes(cur, schema, week.week_start, 10_000)
            result = WeeklyReport(week, mailboxes, _scope(cur, schema, week.reporting_timezone))
            history = _weeks(cur, schema, week.week_start)
            weeks = [row[0] for row in history]
            result.charts.append(Chart(
                "received-closed", f"Received and closed, last {len(weeks)} weeks",
                "Conversations received (created) and closed per week.",
                report_charts.received_and_closed(
                    weeks, [r[1] for r in history], [r[2] for r in history])))
            series = {"whole account": [r[3] for r in history],
                      **_mailbox_first_responses(cur, schema, weeks, mailboxes)}
            result.charts.append(Chart(
                "first-response", "Median first response, by week",
                "Median time to the first reply of the conversations first answered that week"
                " (calendar time), for the account and its busiest mailboxes.",
                report_charts.first_response_medians(weeks, series)))
            backlog = _backlog(cur, schema, weeks[0], week.week_start + timedelta(days=6))
            if backlog:
                result.charts.append(Chart(
                    "backlog", "Backlog at each day's end",
                    "Open conversations (active or pending) at the end of each day, all"
                    " mailboxes.",
                    report_charts.backlog([r[0] for r in backlog], [r[1] for r in backlog],
                                          [r[2] for r in backlog])))
            else:
                result.notes["backlog"] = (
                    f"No backlog chart: this build has no {schema}.mailbox_backlog_daily"
                    " (or it holds no day of these weeks).")
            year = week.week_start.year
            cells = _heatmap(cur, schema, year)
            if cells is not None:
                result.charts.append(Chart(
                    "arrivals", f"When conversations arrive, {year}",
                    f"Conversations received per weekday and hour in {year} so far, all"
                    " mailboxes.", report_charts.arrival_heatmap(cells)))
            else:
                result.notes["arrivals"] = (
                    f"No arrival heat map: {schema}.arrival_curve is missing.")
    except psycopg2.Error as exc:
        first_line = (str(exc).strip().splitlines() or ["unknown"])[0]
        raise ReportError(f"cannot read the marts in {schema}: {first_line}") from None
    finally:
        conn.close()
    return result


def _summary_rows(week: WeekSummary) -> list[tuple[str, str, str]]:
    """(id, label, shown value); ids name the weekly_summary column shown."""
    return [
        ("conversations_total", "Conversations in the account", f"{week.conversations_total:,}"),
        ("conversations_received", "Received this week",
         f"{week.conversations_received:,} ({week.conversations_received_per_day} a day)"),
        ("conversations_closed", "Closed this week", f"{week.conversations_closed:,}"),
        ("conversations_open_at_period_end", "Open at week end",
         f"{week.conversations_open_at_period_end:,}"),
        ("replies_sent", "Replies sent", f"{week.replies_sent:,}"),
        ("first_response_minutes_median", "Median first response",
         format_minutes(week.first_response_minutes_median)),
        ("resolution_minutes_median", "Median resolution",
         format_minutes(week.resolution_minutes_median)),
    ]


STYLE = """
body { font-family: "DejaVu Sans", Arial, sans-serif; color: #222; max-width: 920px;
       margin: 24px auto; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; }
p.scope { color: #555; font-size: 13px; margin-top: 0; }
table { border-collapse: collapse; font-size: 13px; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e3e3e3; }
th { text-align: left; background: #f4f6f8; } td.n { text-align: right; }
table.summary td.label { color: #555; }
figure { margin: 18px 0; } figure img { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: 12px; }
p.note { background: #fff6e5; border-left: 4px solid #d9822b; padding: 8px 12px; font-size: 13px; }
"""


def render_html(data: WeeklyReport, image_src: Callable[[Chart], str],
                dashboard_url: str | None = None) -> str:
    """The page; ``image_src`` gives each chart's ``src`` (a data: URI or a cid: reference)."""
    e = html.escape
    week = data.week
    title = (f"Help Scout weekly report: {week.week_start:%d %b %Y} to"
             f" {data.last_day:%d %b %Y}")
    summary = "\n".join(
        f'<tr><td class="label">{e(label)}</td>'
        f'<td class="n" id="summary-{key}">{e(value)}</td></tr>'
        for key, label, value in _summary_rows(week))
    headers = ("Mailbox", "Received", "Closed", "Replies", "Open at end",
               "Median first response", "Median resolution")
    rows = "\n".join(
        f"<tr><td>{e(m.mailbox)}</td><td class=\"n\">{m.received}</td>"
        f"<td class=\"n\">{m.closed}</td><td class=\"n\">{m.replies}</td>"
        f"<td class=\"n\">{m.open_at_end}</td>"
        f"<td class=\"n\">{e(format_minutes(m.first_response_median))}</td>"
        f"<td class=\"n\">{e(format_minutes(m.resolution_median))}</td></tr>"
        for m in data.mailboxes) or '<tr><td colspan="7">No mailbox had activity.</td></tr>'
    charts = "\n".join(
        f'<figure id="chart-{c.key}"><h2>{e(c.title)}</h2>'
        f'<img class="chart" src="{image_src(c)}" alt="{e(c.title)}" width="880">'
        f"<figcaption>{e(c.caption)}</figcaption></figure>"
        for c in data.charts)
    notes = "\n".join(f'<p class="note" id="missing-{key}">{e(text)}</p>'
                      for key, text in data.notes.items())
    link = (f'<p><a href="{e(dashboard_url)}">Open the dashboard</a></p>'
            if dashboard_url else "")
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{e(title)}</title>
<style>{STYLE}</style>
</head>
<body>
<h1>{e(title)}</h1>
<p class="scope" id="scope">Week {week.week_start.isoformat()} (Monday) to
{data.last_day.isoformat()} (Sunday), the latest complete week, in
<span id="timezone">{e(week.reporting_timezone)}</span>. {e(data.scope)}</p>
{link}
<h2>The week</h2>
<table class="summary">
{summary}
</table>
<h2>Mailboxes</h2>
<table id="mailboxes">
<tr>{"".join(f"<th>{e(h)}</th>" for h in headers)}</tr>
{rows}
</table>
{charts}
{notes}
<p class="scope">Generated {generated} by hs-ops report from the KPI marts.</p>
</body>
</html>
"""


def data_uri(chart: Chart) -> str:
    return "data:image/png;base64," + base64.b64encode(chart.png).decode("ascii")


def write_html(data: WeeklyReport, directory: Path, dashboard_url: str | None = None) -> Path:
    """Write (or replace) the week's file; returns its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / data.file_name
    partial = path.with_suffix(".html.partial")
    partial.write_text(render_html(data, data_uri, dashboard_url), encoding="utf-8")
    partial.replace(path)  # a reader never sees half a report
    return path


def build_email(data: WeeklyReport, text: str, *, sender: str, recipients: Sequence[str],
                dashboard_url: str | None = None) -> EmailMessage:
    """multipart/alternative: ``text`` (the terminal report), then the HTML with its images."""
    token = uuid.uuid4().hex[:12]  # short: a folded Content-ID header confuses some clients
    cids = {c.key: f"<{c.key}.{token}@helpscout-elt.local>" for c in data.charts}
    message = EmailMessage()
    message["Subject"] = (f"[Help Scout] Weekly report, {data.week.week_start.isoformat()}"
                          f" to {data.last_day.isoformat()}")
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="helpscout-elt.local")
    message.set_content(text + "\n")
    page = render_html(data, lambda c: f"cid:{cids[c.key][1:-1]}", dashboard_url)
    message.add_alternative(page, subtype="html")
    html_part = message.get_payload()[1]
    for chart in data.charts:
        html_part.add_related(chart.png, maintype="image", subtype="png", cid=cids[chart.key],
                              filename=f"{chart.key}.png", disposition="inline")
    return message


def publish(database: Database, schema: str, text: str, *, html_dir: Path | None,
            email: bool, env: Mapping[str, str] | None = None) -> list[str]:
    """Write the HTML file and/or e-mail the report; returns what to tell the user.

    Raises ReportError, delivery.ConfigurationError and delivery.DeliveryError.
    """
    env = os.environ if env is None else env
    settings = recipients = None
    if email:  # configuration errors first, before any work
        settings = delivery.smtp_settings(env)
        recipients = delivery.report_recipients(env)
        if settings is None or not recipients:
            raise delivery.ConfigurationError(
                "--email needs HELPSCOUT_SMTP_HOST and HELPSCOUT_REPORT_EMAIL_TO"
                " (or HELPSCOUT_ALERT_EMAIL_TO)")
    dashboard = (env.get("HELPSCOUT_DASHBOARD_URL") or "").strip() or None
    data = collect(database, schema)
    lines = [f"note: {note}" for note in data.notes.values()]
    if html_dir is not None:
        lines.append(f"wrote {write_html(data, html_dir, dashboard)}")
    if settings is not None and recipients:
        message = build_email(data, text, sender=settings.sender, recipients=recipients,
                              dashboard_url=dashboard)
        delivery.send_email(settings, message)
        lines.append(f"e-mailed the report to {len(recipients)} recipient(s)"
                     f" via {settings.describe()}")
    return lines
