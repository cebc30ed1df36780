"""Business minutes and the first-response SLA, dbt against the Python reference.

A hand-written lake holds one conversation per trap (weekends, nights,
holidays of the account and of one mailbox, spans entirely outside hours,
zero-length spans, the last Sundays of March and October in Europe/Madrid,
per-mailbox schedules, conversations still waiting); dbt builds it on the
embedded PostgreSQL and every business-minute figure must equal
:mod:`tests.business_hours.reference`. A few figures are also stated by hand
where the scenario makes them obvious. Then the watermark advances with no new
copy: the incremental build must breach the waiting conversation's SLA, and a
full refresh must give the same table.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from loader.connection import Database
from tests.business_hours import reference as ref
from tests.dbt.dbtkit import Dbt, Lake, at, conversation
from tests.kpi.reference import percentile_cont

MADRID = "Europe/Madrid"
TARGET = 60
ACCOUNT_HOLIDAYS = {date(2025, 1, 6)}                     # Epiphany, a Monday
MAILBOX_HOLIDAYS = {1: {date(2025, 1, 7)}, 5: {date(2025, 1, 8)}}
NEW_YORK_WEEKLY = {"saturday": [["10:00", "14:00"]]}
MAILBOX_WEEKLY = {
    2: NEW_YORK_WEEKLY,
    3: {"sunday": [["00:00", "24:00"]]},
    # 02:30 does not exist on 30 March and happens twice on 26 October
    4: {"sunday": [["02:30", "04:00"]]},
}
DBT_VARS = {
    "reporting_timezone": MADRID,
    "mailbox_business_hours": {
        "2": {"timezone": "America/New_York", "weekly": NEW_YORK_WEEKLY},
        "3": {"weekly": MAILBOX_WEEKLY[3]},
        "4": {"weekly": MAILBOX_WEEKLY[4]},
    },
    "sla_first_response_business_minutes": TARGET,
}
WATERMARK = at("2025-01-16 08:20")          # 09:20 in Madrid
LATER_WATERMARK = at("2025-01-16 09:00")


@dataclass(frozen=True)
class Case:
    """One conversation: mailbox, created, first user reply, closed (UTC), who started it."""

    cid: int
    mailbox: int
    created: str
    reply: str | None = None
    closed: str | None = None
    created_by: str = "customer"


CASES = (
    # Friday 18:00 -> Monday 09:05 in Madrid: five business minutes
    Case(1, 1, "2025-01-10 17:00", "2025-01-13 08:05", "2025-01-13 10:00"),
    # Friday 16:00 -> Wednesday 09:30 over the account's Monday and mailbox 1's Tuesday holiday
    Case(2, 1, "2025-01-03 15:00", "2025-01-08 08:30", "2025-01-08 09:00"),
    # the same span in mailbox 5, whose own holiday is the Wednesday
    Case(3, 5, "2025-01-03 15:00", "2025-01-08 08:30", "2025-01-09 16:00"),
    # entirely on a Saturday: nothing
    Case(4, 1, "2025-01-11 09:00", "2025-01-11 11:00", "2025-01-12 10:00"),
    # answered in the same second: zero
    Case(5, 1, "2025-01-14 10:00", "2025-01-14 10:00", "2025-01-14 10:00"),
    # the whole of Sunday 30 March (23 hours) and of Sunday 26 October (25 hours)
    Case(6, 3, "2025-03-29 23:00", "2025-03-30 12:00", "2025-03-30 22:00"),
    Case(7, 3, "2025-10-25 22:00", "2025-10-26 12:00", "2025-10-26 23:00"),
    # 02:30-04:00 on those Sundays: 30 minutes in March, 90 in October
    Case(8, 4, "2025-03-30 00:00", None, "2025-03-30 06:00"),
    Case(9, 4, "2025-10-26 00:00", None, "2025-10-26 06:00"),
    # New York, Saturdays 10:00-14:00 only
    Case(10, 2, "2025-01-10 12:00", "2025-01-12 12:00", "2025-01-13 12:00"),
    # still waiting at the watermark: 50 and 140 business minutes
    Case(11, 1, "2025-01-15 15:30"),
    Case(12, 1, "2025-01-15 14:00"),
    # started by a user: no first response, no SLA
    Case(13, 1, "2025-01-15 14:00", created_by="user"),
    # weeks long, over the spring clock change and many nights and weekends
    Case(14, 1, "2025-01-02 07:00", "2025-02-20 21:00", "2025-04-02 11:11"),
    # a night between two working days, answered after the watermark
    Case(15, 2, "2025-01-14 22:00", "2025-01-20 01:00"),
    # not from a mailbox with a schedule of its own: the account's schedule
    Case(16, 7, "2025-01-09 15:59", "2025-01-10 08:01", "2025-01-10 16:00"),
)


def schedule_for(mailbox: int) -> ref.Schedule:
    holidays = frozenset(ACCOUNT_HOLIDAYS | MAILBOX_HOLIDAYS.get(mailbox, set()))
    zone = "America/New_York" if mailbox == 2 else MADRID
    weekly = MAILBOX_WEEKLY.get(mailbox, ref.DEFAULT_WEEKLY)
    return ref.Schedule(zone, weekly, holidays)


def _payload(case: Case) -> dict[str, Any]:
    threads = [(case.cid * 10 + 1, "customer", case.created_by, case.created)]
    if case.reply:
        threads.append((case.cid * 10 + 2, "reply", "user", case.reply))
    extra: dict[str, Any] = {"mailboxId": case.mailbox}
    if case.closed:
        extra.update(status="closed", closedAt=at(case.closed).strftime("%Y-%m-%dT%H:%M:%SZ"))
    return conversation(case.cid, created=case.created, created_by=case.created_by,
                        threads=threads, **extra)


def _add_window(lake: Lake, start: datetime, end: datetime) -> None:
    lake.execute(
        "insert into helpscout_raw.load_windows (run_id, stream, window_start, window_end,"
        " status, started_at) values (%s, 'conversations', %s, %s, 'completed', now())",
        [(str(lake.new_run()), start, end)])


def _expected(case: Case, watermark: datetime) -> dict[str, Any]:
    schedule = schedule_for(case.mailbox)
    created = at(case.created)
    reply = at(case.reply) if case.reply and case.created_by != "user" else None
    closed = at(case.closed) if case.closed else None
    return {
        "first_response": ref.business_minutes(created, reply, schedule) if reply else None,
        "resolution": ref.business_minutes(created, closed, schedule) if closed else None,
        "breached": ref.sla_breached(created, reply, watermark, schedule, TARGET,
                                     user_started=case.created_by == "user"),
    }


@dataclass
class Built:
    lake: Lake
    dbt: Dbt

    def business_rows(self) -> dict[int, dict[str, Any]]:
        rows = self.lake.query(
            "select conversation_id, first_response_business_minutes,"
            " resolution_business_minutes, is_first_response_sla_breached,"
            " first_response_minutes, resolution_minutes from helpscout.conversations")
        return {cid: {"first_response": fr, "resolution": res, "breached": breached,
                      "first_response_minutes": frm, "resolution_minutes": rm}
                for cid, fr, res, breached, frm, rm in rows}


@pytest.fixture(scope="module")
def built(module_pg_database: Database, tmp_path_factory) -> Built:
    lake = Lake(module_pg_database)
    lake.append("conversations", [_payload(c) for c in CASES], extracted_at=at("2025-11-01 00:00"))
    _add_window(lake, at("2024-12-01 00:00"), at("2025-01-10 00:00"))
    _add_window(lake, at("2025-01-10 00:00:01"), WATERMARK)
    _add_window(lake, at("2025-02-01 00:00"), at("2025-02-02 00:00"))  # after a gap: not chained
    # dbt's sessions in another zone than every schedule's: nothing may depend on it
    dbt = Dbt(module_pg_database, tmp_path_factory.mktemp("dbt"), vars=DBT_VARS,
              env={"PGTZ": "Asia/Kolkata"})
    dbt("seed", "--select", "holidays")
    holiday_rows = [(day, "Account holiday", None) for day in ACCOUNT_HOLIDAYS]
    holiday_rows += [(day, "Mailbox holiday", mailbox)
                     for mailbox, days in MAILBOX_HOLIDAYS.items() for day in days]
    lake.execute("insert into helpscout_staging.holidays (date, name, mailbox_id)"
                 " values (%s, %s, %s)", holiday_rows)
    dbt("run", "--select", "+conversations", "+mailbox_daily", "+mailbox_weekly",
        "--exclude", "holidays")
    return Built(lake, dbt)


def _close(actual: Any, expected: float | None) -> bool:
    if actual is None or expected is None:
        return actual is None and expected is None
    return abs(float(actual) - expected) < 1e-6


def test_business_minutes_equal_the_reference(built: Built) -> None:
    rows = built.business_rows()
    assert rows.keys() == {c.cid for c in CASES}
    wrong = {}
    for case in CASES:
        expected, actual = _expected(case, WATERMARK), rows[case.cid]
        if not (_close(actual["first_response"], expected["first_response"])
                and _close(actual["resolution"], expected["resolution"])
                and actual["breached"] is expected["breached"]):
            wrong[case.cid] = (actual, expected)
    assert wrong == {}


def test_business_minutes_the_scenario_states(built: Built) -> None:
    """Figures anyone can check on a calendar, independent of both implementations."""
    rows = built.business_rows()
    assert rows[1]["first_response"] == 5 and rows[1]["resolution"] == 120
    assert rows[2]["first_response"] == 60 + 30          # Friday, then Wednesday
    assert rows[3]["first_response"] == 60 + 480         # Friday and Tuesday
    assert rows[4]["first_response"] == 0 and rows[4]["resolution"] == 0
    assert rows[4]["first_response_minutes"] == 120      # the calendar figure is not 0
    assert rows[5]["first_response"] == 0 and rows[5]["resolution"] == 0
    assert rows[6]["resolution"] == 23 * 60 and rows[7]["resolution"] == 25 * 60
    assert rows[8]["resolution"] == 30 and rows[9]["resolution"] == 90
    assert rows[8]["first_response"] is None and rows[8]["first_response_minutes"] is None
    assert rows[10]["first_response"] == 240
    assert rows[16]["first_response"] == 1 + 1
    # waiting: 30 + 20 minutes is within 60, 120 + 20 is not; a user's own has none
    assert [rows[cid]["breached"] for cid in (11, 12, 13)] == [False, True, None]
    assert rows[1]["breached"] is False and rows[2]["breached"] is True
    # answered after the watermark: judged on the answer (Saturday's 240 minutes)
    assert rows[15]["breached"] is True


def test_kpi_marts_business_figures_and_sla_share(built: Built) -> None:
    zone = ZoneInfo(MADRID)
    by_period: dict[tuple[str, int, date], dict[str, list]] = defaultdict(
        lambda: {"first_response": [], "resolution": []})
    for case in CASES:
        if case.created_by == "user":
            continue  # internal: the KPI marts leave it out
        expected = _expected(case, WATERMARK)
        for key, moment in (("first_response", case.reply), ("resolution", case.closed)):
            if moment is None or expected[key] is None:
                continue
            local_day = at(moment).astimezone(zone).date()
            week = local_day - timedelta(days=local_day.weekday())
            for grain, period in (("day", local_day), ("week", week)):
                by_period[(grain, case.mailbox, period)][key].append(expected[key])
    for grain, mart, column in (("day", "mailbox_daily", "date_day"),
                                ("week", "mailbox_weekly", "week_start")):
        rows = built.lake.query(
            f"select mailbox_id, {column}, first_response_business_minutes_median,"
            " first_response_business_minutes_p90, resolution_business_minutes_median,"
            " resolution_business_minutes_p90, conversations_first_responded_within_sla,"
            " first_response_within_sla_share, conversations_first_responded"
            f" from helpscout.{mart}")
        actual = {(grain, r[0], r[1]): r[2:] for r in rows}
        for key, values in by_period.items():
            if key[0] != grain:
                continue
            fr, res = values["first_response"], values["resolution"]
            within = sum(1 for v in fr if v <= TARGET)
            row = actual[key]
            assert _close(row[0], percentile_cont(fr, 0.5)), (key, row)
            assert _close(row[1], percentile_cont(fr, 0.9)), (key, row)
            assert _close(row[2], percentile_cont(res, 0.5)), (key, row)
            assert _close(row[3], percentile_cont(res, 0.9)), (key, row)
            assert row[4] == within and row[6] == len(fr), (key, row)
            assert _close(row[5], within / len(fr) if fr else None), (key, row)
        quiet = [row for key, row in actual.items() if key not in by_period]
        assert quiet and all(row[0] is None and row[4] == 0 and row[5] is None for row in quiet)


def test_watermark_breaches_a_waiting_conversation_incrementally(built: Built) -> None:
    """Runs last in this module: it moves the watermark."""
    _add_window(built.lake, WATERMARK + timedelta(seconds=1), LATER_WATERMARK)
    built.dbt("run", "--select", "conversations")
    rows = built.business_rows()
    # 30 + 60 business minutes now: breached without any new copy of the conversation
    assert rows[11]["breached"] is True
    expected = {c.cid: _expected(c, LATER_WATERMARK)["breached"] for c in CASES}
    assert {cid: row["breached"] for cid, row in rows.items()} == expected
    incremental = built.lake.query("select * from helpscout.conversations order by 1")
    built.dbt("run", "--select", "conversations", "--full-refresh")
    assert built.lake.query("select * from helpscout.conversations order by 1") == incremental
