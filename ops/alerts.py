"""``make alerts``: send each new volume anomaly once, to a webhook and/or by e-mail.

Reads ``volume_anomalies`` (see its dbt docs for the rule). A complete day's row is
an *anomaly* alert (spike or drop); a day the data does not cover whole yet (the
day under way) raises an *early warning* when it is already a spike. A drop on an
unfinished day says nothing yet and is not sent. The day's final alert follows its
early warning once the day is complete, with the final count.

What was sent is recorded per channel in ``<ops schema>.alerts_sent`` (default
``helpscout_ops``, created on first use), keyed by mailbox, day, kind, direction
and channel, so a rerun never repeats an alert and a channel that failed is
retried on the next run without repeating the other. A delivery is recorded only
after the channel accepted it: a crash between the two can repeat one alert,
never lose one. Runs on one database take an advisory lock, so two at once cannot
both send the same alert.

Only days since ``--since`` (default: seven days ago) are considered, so the first
run on a year of history does not send a year of alerts.

``hs-ops alerts [--schema helpscout] [--ops-schema helpscout_ops] [--since DATE] [--dry-run]``
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import psycopg2
from psycopg2 import sql

from loader.connection import Database
from ops import delivery

DEFAULT_SCHEMA = "helpscout"
DEFAULT_OPS_SCHEMA = "helpscout_ops"
DEFAULT_DAYS_BACK = 7
WEBHOOK, EMAIL = "webhook", "email"


class AlertsError(RuntimeError):
    """Alerts cannot be computed (one line); ``not_built`` when the marts are missing."""

    def __init__(self, message: str, *, not_built: bool = False) -> None:
        super().__init__(message)
        self.not_built = not_built


@dataclass(frozen=True)
class Alert:
    """One anomaly row as an alert of one kind."""

    mailbox_id: int
    mailbox_name: str
    date_day: date
    kind: str  # 'anomaly' (the day is complete) or 'early_warning'
    direction: str  # 'spike' or 'drop'
    conversations_received: int
    baseline_median: Decimal
    lower_bound: Decimal
    upper_bound: Decimal
    deviation_percent: Decimal | None
    reporting_timezone: str

    @property
    def key(self) -> tuple[int, date, str, str]:
        return (self.mailbox_id, self.date_day, self.kind, self.direction)


@dataclass(frozen=True)
class Channels:
    webhook_url: str | None
    smtp: delivery.SmtpSettings | None
    recipients: tuple[str, ...]
    dashboard_url: str | None

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> Channels:
        env = os.environ if env is None else env
        smtp = delivery.smtp_settings(env)
        recipients = delivery.alert_recipients(env)
        if smtp and not recipients:
            raise delivery.ConfigurationError(
                "HELPSCOUT_SMTP_HOST is set but HELPSCOUT_ALERT_EMAIL_TO names no recipient")
        dashboard = (env.get("HELPSCOUT_DASHBOARD_URL") or "").strip() or None
        return cls(delivery.webhook_url(env), smtp, recipients, dashboard)

    @property
    def names(self) -> list[str]:
        return [name for name, on in ((WEBHOOK, self.webhook_url), (EMAIL, self.smtp)) if on]


@dataclass
class Outcome:
    sent: dict[str, int]
    failures: list[str]
    pending: int


def _number(value: Decimal | float | int) -> str:
    """``5.125`` as ``5.1``, ``2.0`` as ``2``: bounds for people, not for machines."""
    text = f"{float(value):.1f}"
    return text[:-2] if text.endswith(".0") else text


def _plural(count: int) -> str:
    return f"{count} conversation" + ("" if count == 1 else "s")


def format_alert(alert: Alert, dashboard_url: str | None = None) -> str:
    """The message: mailbox, day, count, baseline median and bounds, deviation, dashboard."""
    weekday = f"{alert.date_day:%A}"
    day = f"{weekday} {alert.date_day.isoformat()}"
    low = _number(max(alert.lower_bound, Decimal(0)))
    median = _number(alert.baseline_median)
    if alert.deviation_percent is None:  # a median of zero
        against = f"against a baseline median of {median} for a {weekday}"
    else:
        sign = "+" if alert.deviation_percent >= 0 else ""
        against = (f"{sign}{_number(alert.deviation_percent)}% against the baseline median"
                   f" of {median} for a {weekday}")
    bounds = f"expected range {low} to {_number(alert.upper_bound)}"
    count = _plural(alert.conversations_received)
    if alert.kind == "early_warning":
        text = (f"Early warning, volume spike in {alert.mailbox_name}: already {count} received"
                f" on {day} ({alert.reporting_timezone}, day not over), {against} ({bounds}).")
    else:
        text = (f"Volume {alert.direction} in {alert.mailbox_name}: {count} received on {day}"
                f" ({alert.reporting_timezone}), {against} ({bounds}).")
    if dashboard_url:
        text += f"\nDashboard: {dashboard_url}"
    return text


def _check_built(cur, schema: str) -> None:
    missing = []
    for relation in ("volume_anomalies", "mailboxes"):
        cur.execute("select to_regclass(format('%%I.%%I', %s::text, %s::text))", (schema, relation))
        if cur.fetchone()[0] is None:
            missing.append(f"{schema}.{relation}")
    if missing:
        raise AlertsError(f"the marts are not built yet ({', '.join(missing)} missing):"
                          " run `make build`", not_built=True)


def _reporting_timezone(cur, schema: str) -> str:
    cur.execute("select to_regclass(format('%%I.weekly_summary', %s::text))", (schema,))
    if cur.fetchone()[0] is None:
        return "UTC"
    cur.execute(sql.SQL("select reporting_timezone from {}.weekly_summary limit 1")
                .format(sql.Identifier(schema)))
    row = cur.fetchone()
    return row[0] if row else "UTC"


def fetch_alerts(cur, schema: str, since: date) -> list[Alert]:
    """Every alert the anomalies since ``since`` call for, oldest first."""
    _check_built(cur, schema)
    zone = _reporting_timezone(cur, schema)
    cur.execute(
        sql.SQL(
            "select anomalies.mailbox_id,"
            " coalesce(mailboxes.mailbox_name, anomalies.mailbox_id::text),"
            " anomalies.date_day,"
            " case when anomalies.is_complete then 'anomaly' else 'early_warning' end,"
            " anomalies.direction, anomalies.conversations_received,"
            " anomalies.baseline_median, anomalies.lower_bound, anomalies.upper_bound,"
            " anomalies.deviation_percent"
            " from {schema}.volume_anomalies as anomalies"
            " left join {schema}.mailboxes as mailboxes"
            "   on anomalies.mailbox_id = mailboxes.mailbox_id"
            " where anomalies.date_day >= %s"
            "   and (anomalies.is_complete or anomalies.direction = 'spike')"
            " order by anomalies.date_day, 2, anomalies.mailbox_id"
        ).format(schema=sql.Identifier(schema)),
        (since,),
    )
    return [Alert(*row, reporting_timezone=zone) for row in cur.fetchall()]


class SentLog:
    """``<ops schema>.alerts_sent``: which alert went out on which channel, and when."""

    def __init__(self, conn, schema: str) -> None:
        self.conn = conn
        self.schema = schema
        self.table = sql.Identifier(schema, "alerts_sent")

    def ensure(self) -> None:
        with self.conn.cursor() as cur:
            cur.execute("select pg_advisory_xact_lock(hashtext(%s))",
                        (f"helpscout-ops-ddl:{self.schema}",))
            cur.execute(sql.SQL("create schema if not exists {}").format(
                sql.Identifier(self.schema)))
            cur.execute(sql.SQL("""
                create table if not exists {} (
                    mailbox_id bigint not null,
                    date_day date not null,
                    alert_kind text not null check (alert_kind in ('anomaly', 'early_warning')),
                    direction text not null check (direction in ('spike', 'drop')),
                    channel text not null check (channel in ('webhook', 'email')),
                    conversations_received integer not null,
                    message text not null,
                    sent_at timestamptz not null default clock_timestamp(),
                    primary key (mailbox_id, date_day, alert_kind, direction, channel)
                )""").format(self.table))
            cur.execute(sql.SQL("comment on table {} is %s").format(self.table), (
                "Alerts hs-ops alerts delivered, one row per alert and channel;"
                " a row means the channel accepted it, so reruns never repeat it.",))
        self.conn.commit()

    def lock(self) -> None:
        """Held until the connection closes: one alerts run per database at a time."""
        with self.conn.cursor() as cur:
            cur.execute("select pg_advisory_lock(hashtext(%s))",
                        (f"helpscout-alerts:{self.schema}",))
        self.conn.commit()

    def sent(self, channel: str) -> set[tuple[int, date, str, str]]:
        with self.conn.cursor() as cur:
            cur.execute(sql.SQL("select mailbox_id, date_day, alert_kind, direction from {}"
                                " where channel = %s").format(self.table), (channel,))
            return {tuple(row) for row in cur.fetchall()}

    def record(self, channel: str, alerts: Sequence[Alert], messages: Sequence[str]) -> None:
        with self.conn.cursor() as cur:
            for alert, message in zip(alerts, messages, strict=True):
                cur.execute(sql.SQL(
                    "insert into {} (mailbox_id, date_day, alert_kind, direction, channel,"
                    " conversations_received, message) values (%s, %s, %s, %s, %s, %s, %s)"
                    " on conflict do nothing").format(self.table),
                    (*alert.key, channel, alert.conversations_received, message))
        self.conn.commit()


def build_email(channels: Channels, alerts: Sequence[Alert], messages: Sequence[str]
                ) -> EmailMessage:
    assert channels.smtp is not None
    message = EmailMessage()
    first = alerts[0]
    more = f" and {len(alerts) - 1} more" if len(alerts) > 1 else ""
    label = "Early warning" if first.kind == "early_warning" else f"Volume {first.direction}"
    message["Subject"] = (f"[Help Scout] {label}: {first.mailbox_name},"
                          f" {first.date_day.isoformat()}{more}")
    message["From"] = channels.smtp.sender
    message["To"] = ", ".join(channels.recipients)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="helpscout-elt.local")
    dashboard = f"Dashboard: {channels.dashboard_url}\n\n" if channels.dashboard_url else ""
    message.set_content("\n\n".join(messages) + f"\n\n{dashboard}-- \nSent by hs-ops alerts.\n")
    return message


def _deliver(channel: str, channels: Channels, alerts: list[Alert], log: SentLog,
             outcome: Outcome) -> None:
    done = log.sent(channel)
    pending = [a for a in alerts if a.key not in done]
    # an e-mail lists them all and names the dashboard once, at its end
    link = channels.dashboard_url if channel == WEBHOOK else None
    messages = [format_alert(a, link) for a in pending]
    delivered = 0
    try:
        if channel == WEBHOOK and pending:
            assert channels.webhook_url is not None
            for alert, message in zip(pending, messages, strict=True):
                delivery.post_webhook(channels.webhook_url, message)
                log.record(channel, [alert], [message])
                delivered += 1
                print(f"sent ({channel}): {message.splitlines()[0]}")
        elif pending:
            assert channels.smtp is not None
            delivery.send_email(channels.smtp, build_email(channels, pending, messages))
            log.record(channel, pending, messages)
            delivered = len(pending)
            for message in messages:
                print(f"sent ({channel}): {message.splitlines()[0]}")
    except delivery.DeliveryError as exc:
        outcome.failures.append(str(exc))
        outcome.pending += len(pending) - delivered
    outcome.sent[channel] += delivered


def run_alerts(database: Database, *, schema: str = DEFAULT_SCHEMA,
               ops_schema: str = DEFAULT_OPS_SCHEMA, since: date | None = None,
               dry_run: bool = False, channels: Channels | None = None) -> Outcome:
    """Send what is new; raises AlertsError, ConfigurationError; reports failed channels."""
    channels = channels or Channels.from_environment()
    since = since or (datetime.now(timezone.utc).date() - timedelta(days=DEFAULT_DAYS_BACK))
    if not channels.names and not dry_run:
        raise delivery.ConfigurationError(
            "no alert channel configured: set HELPSCOUT_WEBHOOK_URL and/or HELPSCOUT_SMTP_HOST"
            " with HELPSCOUT_ALERT_EMAIL_TO (or use --dry-run to print the alerts)")
    conn = database.connect()
    try:
        try:
            with conn.cursor() as cur:
                alerts = fetch_alerts(cur, schema, since)
            conn.commit()
        except psycopg2.Error as exc:
            first_line = (str(exc).strip().splitlines() or ["unknown"])[0]
            raise AlertsError(f"cannot read {schema}.volume_anomalies: {first_line}") from None
        outcome = Outcome({name: 0 for name in channels.names}, [], 0)
        if dry_run:
            for alert in alerts:
                print(format_alert(alert, channels.dashboard_url), end="\n\n")
            print(f"{len(alerts)} alert(s) since {since.isoformat()} (dry run: nothing sent"
                  " or recorded)")
            return outcome
        log = SentLog(conn, ops_schema)
        log.ensure()
        log.lock()
        for channel in channels.names:
            _deliver(channel, channels, alerts, log, outcome)
    finally:
        conn.close()
    total = sum(outcome.sent.values())
    if total:
        per = ", ".join(f"{name} {count}" for name, count in outcome.sent.items())
        print(f"sent {total} alert message(s) ({per})")
    elif not outcome.failures:
        print(f"no new anomalies since {since.isoformat()}")
    return outcome


def failure_line(outcome: Outcome) -> str:
    """The one line a failed run ends with."""
    return (f"{'; '.join(outcome.failures)}; {outcome.pending} alert(s) not sent,"
            " they will be tried again on the next run")

