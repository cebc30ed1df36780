"""The KPI marts against figures recomputed in Python from the sandbox's ground truth.

One small account (fixed seed, fixed history window) is put in a lake straight
from the truth, the marts the KPI marts read are built on it once, the KPI marts
(with their dbt tests) once per configuration of ``BUILDS``, and they are compared
with :mod:`tests.kpi.reference`, which reads the truth's
API JSON and applies the contract's definitions itself. Two conversations are
moved to 23:30 UTC first, on a winter and on a summer day, so that a reporting
zone east of UTC must put them on the next local day.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from loader.connection import Database
from ops import report
from ops.dbt import DBT_PROJECT_DIR, run_dbt
from sandbox import Sandbox
from tests.kpi import reference as ref
from tests.lakefill import fill_lake_from_truth

# (reporting zone, include internal and system-closed conversations): the second
# build also turns the KPI filter's two switches on, so both paths are checked.
BUILDS = (("UTC", False), ("Europe/Madrid", True))
# Moved to 23:30 UTC: 00:30 next day in Madrid in winter (UTC+1), 01:30 in summer (UTC+2).
NEAR_MIDNIGHT = (
    datetime(2025, 3, 10, 23, 30, tzinfo=timezone.utc),
    datetime(2025, 6, 10, 23, 30, tzinfo=timezone.utc),
)
MINUTES_TOLERANCE = 1e-6


@dataclass
class Built:
    """A lake filled from the truth and the project built on it in one reporting zone."""

    database: Database
    truth: object
    settings: ref.KpiSettings
    conversations: list[ref.Conversation]
    calendar: ref.Calendar
    pinned_ids: tuple[int, ...]

    def query(self, statement: str, params: tuple = ()) -> list[tuple]:
        conn = self.database.connect()
        try:
            with conn.cursor() as cur:
                cur.execute(statement, params)
                return cur.fetchall()
        finally:
            conn.close()


def _pin_near_midnight(truth) -> tuple[int, ...]:
    """Move one counted conversation per NEAR_MIDNIGHT instant to it, keeping order.

    A conversation created later on the following day is moved back, so its
    threads, replies and closing still come after its creation.
    """
    counted = {c.id: c for c in ref.conversations(truth, ref.KpiSettings(
        internal_domains=tuple(truth.internal_domains)))}
    pinned = []
    for instant in NEAR_MIDNIGHT:
        next_day = instant.date().toordinal() + 1
        candidate = next(
            c for c in sorted(counted.values(), key=lambda c: c.id)
            if c.created_at.date().toordinal() == next_day and c.created_at.hour >= 9
            and c.id not in pinned
        )
        truth.conversations[candidate.id]["createdAt"] = instant.strftime("%Y-%m-%dT%H:%M:%SZ")
        pinned.append(candidate.id)
    return tuple(pinned)


@dataclass
class Lake:
    """The lake, filled once, with the marts the KPI marts read built on it once."""

    database: Database
    truth: object
    pinned_ids: tuple[int, ...]


@pytest.fixture(scope="module")
def lake(module_pg_database: Database, tmp_path_factory) -> Lake:
    with Sandbox(size=800, seed=11, start="2025-01-01", now="2025-07-01", rate_limit=0) as sb:
        truth = sb.truth()
    pinned = _pin_near_midnight(truth)
    fill_lake_from_truth(module_pg_database, truth)
    # Everything the KPI marts are built on, and `mailboxes` for the report; the
    # base marts' own tests run in their own suite. Their vars are the truth's.
    dbt_vars = {
        "internal_email_domains": list(truth.internal_domains),
        "system_closer_emails": list(truth.system_closer_emails),
    }
    result = _dbt(
        ["run", "--select", "+tag:kpi", "+mailboxes",
         "--exclude", "tag:kpi", "--vars", json.dumps(dbt_vars)],
        module_pg_database, tmp_path_factory.mktemp("dbt-base"),
    )
    assert result.returncode == 0, result.stdout[-4000:]
    return Lake(module_pg_database, truth, pinned)


@pytest.fixture(scope="module", params=BUILDS, ids=[tz for tz, _ in BUILDS])
def built(request, lake: Lake, tmp_path_factory) -> Built:
    """The KPI marts (and their dbt tests) built on the lake in one configuration."""
    tz, include_all = request.param
    truth = lake.truth
    settings = ref.KpiSettings(
        timezone=tz,
        internal_domains=tuple(truth.internal_domains),
        system_closer_emails=tuple(truth.system_closer_emails),
        include_internal=include_all,
        include_system_closed=include_all,
    )
    dbt_vars = {
        "reporting_timezone": tz,
        "internal_email_domains": list(settings.internal_domains),
        "system_closer_emails": list(settings.system_closer_emails),
        "kpi_include_internal": include_all,
        "kpi_include_system_closed": include_all,
    }
    work = tmp_path_factory.mktemp(f"dbt-{tz.replace('/', '-')}")
    result = _dbt(["build", "--select", "tag:kpi", "--vars", json.dumps(dbt_vars)],
                  lake.database, work)
    assert result.returncode == 0, result.stdout[-4000:]
    return Built(lake.database, truth, settings, ref.conversations(truth, settings),
                 ref.Calendar(tz), lake.pinned_ids)


def _dbt(args: list[str], database: Database, work: Path):
    env = {**os.environ, "DBT_TARGET_PATH": str(work / "target"),
           "DBT_LOG_PATH": str(work / "logs")}
    return run_dbt(args, database, env=env, capture=True)


def _close(actual, expected) -> bool:
    if actual is None or expected is None:
        return actual is None and expected is None
    return abs(float(actual) - float(expected)) <= MINUTES_TOLERANCE


def test_received_and_closed_per_mailbox_week(built: Built) -> None:
    expected = ref.received_and_closed_by_mailbox_week(built.conversations, built.calendar)
    rows = built.query(
        "select mailbox_id, week_start, conversations_received, conversations_closed"
        " from helpscout.mailbox_weekly"
    )
    actual = {(m, w): (r, c) for m, w, r, c in rows}
    assert len(actual) == len(rows)
    assert {k: v for k, v in actual.items() if v != (0, 0)} == expected


def test_median_resolution_per_mailbox_week(built: Built) -> None:
    expected = ref.median_resolution_by_mailbox_week(built.conversations, built.calendar)
    rows = built.query(
        "select mailbox_id, week_start, resolution_minutes_median from helpscout.mailbox_weekly"
        " where resolution_minutes_median is not null"
    )
    actual = {(m, w): median for m, w, median in rows}
    assert actual.keys() == expected.keys()
    wrong = {k: (actual[k], expected[k]) for k in expected if not _close(actual[k], expected[k])}
    assert wrong == {}


def test_top_subject_wave(built: Built) -> None:
    waves = ref.subject_waves(
        built.conversations, built.calendar, built.settings.subject_wave_min_conversations
    )
    assert waves, "the sandbox account should hold at least one mass-mailing wave"
    top_count = max(len(arrivals) for arrivals in waves.values())
    expected = {
        (month, subject, len(arrivals), arrivals[0], arrivals[-1])
        for (month, subject), arrivals in waves.items() if len(arrivals) == top_count
    }
    rows = built.query(
        "select month_start, subject_normalized, conversations_received, first_arrival_at,"
        " last_arrival_at from helpscout.subject_waves"
        " where conversations_received = (select max(conversations_received)"
        " from helpscout.subject_waves)"
    )
    assert set(rows) == expected
    (count,) = built.query("select count(*) from helpscout.subject_waves")[0]
    assert count == len(waves)


def test_arrivals_in_weekday_hour_cells(built: Built) -> None:
    expected = ref.arrivals_by_cell(built.conversations, built.calendar)
    busiest_cell, busiest_count = expected.most_common(1)[0]
    (actual,) = built.query(
        "select conversations_received from helpscout.arrival_curve where mailbox_id = %s"
        " and calendar_year = %s and iso_day_of_week = %s and hour_of_day = %s",
        busiest_cell,
    )[0]
    assert actual == busiest_count
    rows = built.query(
        "select mailbox_id, calendar_year, iso_day_of_week, hour_of_day, conversations_received"
        " from helpscout.arrival_curve where conversations_received > 0"
    )
    assert {r[:4]: r[4] for r in rows} == dict(expected)


def test_one_week_summary(built: Built) -> None:
    by_week = ref.received_and_closed_by_mailbox_week(built.conversations, built.calendar)
    weeks: dict[date, int] = {}
    for (_mailbox, week), (received, _closed) in by_week.items():
        weeks[week] = weeks.get(week, 0) + received
    busiest_week = max(weeks, key=lambda w: (weeks[w], w))
    expected = ref.week_summary(built.conversations, built.calendar, busiest_week)
    (row,) = built.query(
        "select conversations_total, conversations_received, received_monday, received_tuesday,"
        " received_wednesday, received_thursday, received_friday, received_saturday,"
        " received_sunday, conversations_closed, conversations_open_at_period_end, replies_sent,"
        " first_response_minutes_median, resolution_minutes_median, period_end_at,"
        " conversations_received_per_day"
        " from helpscout.weekly_summary where week_start = %s",
        (busiest_week,),
    )
    assert row[0:2] == (expected.conversations_total, expected.conversations_received)
    assert tuple(row[2:9]) == expected.received_by_iso_weekday
    assert row[9:12] == (
        expected.conversations_closed,
        expected.conversations_open_at_period_end,
        expected.replies_sent,
    )
    assert _close(row[12], expected.first_response_minutes_median)
    assert _close(row[13], expected.resolution_minutes_median)
    assert row[14] == built.calendar.week_end(busiest_week)
    assert row[15] == round(Decimal(expected.conversations_received) / 7, 2)


def test_reporting_timezone_moves_conversations_near_midnight(built: Built) -> None:
    for conversation_id, instant in zip(built.pinned_ids, NEAR_MIDNIGHT, strict=True):
        (local,) = built.query(
            "select created_at_local from helpscout_staging.int_kpi__conversations"
            " where conversation_id = %s",
            (conversation_id,),
        )[0]
        # 23:30 UTC is 00:30 (CET) or 01:30 (CEST) the next day in Madrid.
        if built.settings.timezone == "Europe/Madrid":
            offset_hours = 1 if instant.month == 3 else 2
            assert local.date() == date.fromordinal(instant.date().toordinal() + 1)
            assert (local.hour, local.minute) == (offset_hours - 1, 30)
        else:
            assert local == instant.replace(tzinfo=None)
        (mailbox_id,) = built.query(
            "select mailbox_id from helpscout.conversations where conversation_id = %s",
            (conversation_id,),
        )[0]
        expected = sum(
            1 for c in built.conversations
            if c.mailbox_id == mailbox_id and built.calendar.day(c.created_at) == local.date()
        )
        (received,) = built.query(
            "select conversations_received from helpscout.mailbox_daily"
            " where mailbox_id = %s and date_day = %s",
            (mailbox_id, local.date()),
        )[0]
        assert received == expected >= 1


def test_report_shows_latest_complete_week_and_busiest_mailboxes(built: Built) -> None:
    cal = built.calendar
    week = cal.week(ref.last_activity(built.conversations))
    received = ref.received_by_mailbox(built.conversations, cal, week)
    names = {m["id"]: m["name"] for m in built.truth.mailboxes.values()}
    ranked = sorted(received.items(), key=lambda item: (-item[1], names[item[0]]))[:5]

    text = report.build_report(built.database)

    assert f"Week {week.isoformat()} (Mon)" in text
    table = text.split("Busiest mailboxes", 1)[1].splitlines()
    first_row = next(i for i, line in enumerate(table) if line.startswith("---")) + 1
    rows = table[first_row:first_row + len(ranked)]
    for line, (mailbox_id, count) in zip(rows, ranked, strict=True):
        assert line.startswith(names[mailbox_id])
        assert line[len(names[mailbox_id]):].split()[0] == str(count)


def test_received_per_tag_week(built: Built) -> None:
    expected = ref.received_by_tag_week(built.conversations, built.calendar)
    rows = built.query(
        "select tag_id, week_start, conversations_received from helpscout.tag_weekly"
        " where conversations_received > 0"
    )
    assert {(t, w): n for t, w, n in rows} == dict(expected)


def test_auto_replies_per_day(built: Built) -> None:
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())
    patterns = project["vars"]["auto_reply_subject_patterns"]
    expected = ref.auto_replies_by_day(built.conversations, built.calendar, patterns)
    assert expected, "the sandbox account should hold automatic replies"
    rows = built.query(
        "select date_day, auto_reply_conversations from helpscout.auto_replies_daily"
        " where auto_reply_conversations > 0"
    )
    assert dict(rows) == dict(expected)
