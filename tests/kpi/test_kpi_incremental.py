"""The period-incremental KPI marts: a change rewrites only the periods it touches.

A hand-written lake with two mailboxes is built; then one load moves a
conversation to the other mailbox, reopens one, deletes one and merges one into
another, and an incremental run follows. The rows of the periods none of those
conversations touch must be left physically where they were (same ``ctid``: a
delete+insert would move them), the touched ones must hold the new figures, and
the marts must equal a ``--full-refresh``. A settings change (another reporting
zone) must redo everything on its own, again equal to a full refresh.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from loader.connection import Database
from tests.dbt.dbtkit import Dbt, Lake, at, conversation

BUILD = ["run", "--select", "+mailbox_daily", "+mailbox_weekly", "--threads", "4"]
MARTS = {"mailbox_daily": "date_day", "mailbox_weekly": "week_start"}


def _closed(cid: int, mailbox: int, created: str, closed: str) -> dict[str, Any]:
    """Answered an hour after creation, closed (without a status thread) at ``closed``."""
    return conversation(cid, status="closed", created=created, mailboxId=mailbox,
                        closedAt=at(closed).strftime("%Y-%m-%dT%H:%M:%SZ"),
                        threads=[(cid * 10 + 1, "customer", "customer", created),
                                 (cid * 10 + 2, "reply", "user", created.replace("10:", "11:"))])


def _open(cid: int, mailbox: int, created: str, *threads: tuple[int, str, str, str]
          ) -> dict[str, Any]:
    return conversation(cid, created=created, mailboxId=mailbox,
                        threads=[(cid * 10 + 1, "customer", "customer", created), *threads])


@dataclass
class Built:
    lake: Lake
    before: dict[str, dict[tuple[int, date], tuple[str, tuple[Any, ...]]]]
    after: dict[str, dict[tuple[int, date], tuple[str, tuple[Any, ...]]]]
    full: dict[str, dict[tuple[int, date], tuple[str, tuple[Any, ...]]]]
    rezoned: dict[str, dict[tuple[int, date], tuple[str, tuple[Any, ...]]]]
    rezoned_full: dict[str, dict[tuple[int, date], tuple[str, tuple[Any, ...]]]]


def _rows(lake: Lake) -> dict[str, dict[tuple[int, date], tuple[str, tuple[Any, ...]]]]:
    """{mart: {(mailbox_id, period): (ctid, every column)}}."""
    out = {}
    for mart, period in MARTS.items():
        rows = lake.query(f"select ctid::text, m.* from helpscout.{mart} as m"
                          f" order by mailbox_id, {period}")
        names = [name for (name,) in lake.query(
            "select column_name from information_schema.columns where table_schema ="
            f" 'helpscout' and table_name = '{mart}' order by ordinal_position")]
        out[mart] = {}
        for ctid, *values in rows:
            row = dict(zip(names, values, strict=True))
            out[mart][(row["mailbox_id"], row[period])] = (ctid, tuple(values))
    return out


def _window(lake: Lake, end: str) -> None:
    lake.execute(f"insert into {lake.schema}.load_windows (run_id, stream, window_start,"
                 " window_end, status, started_at) values (%s, 'conversations', %s, %s,"
                 " 'completed', %s)", [(str(lake.new_run()), at("2024-12-01 00:00"), at(end),
                                        at(end))])


@pytest.fixture(scope="module")
def built(module_pg_database: Database, tmp_path_factory) -> Iterator[Built]:
    lake = Lake(module_pg_database)
    dbt = Dbt(module_pg_database, tmp_path_factory.mktemp("dbt"))
    lake.append("conversations", [
        _closed(1, 1, "2025-01-02 10:00", "2025-01-03 10:00"),
        _closed(2, 1, "2025-01-06 10:00", "2025-01-07 10:00"),
        _open(3, 1, "2025-01-08 10:00"),
        _closed(4, 2, "2025-01-10 10:00", "2025-01-11 10:00"),
        _open(5, 2, "2025-01-13 10:00"),
        _closed(6, 1, "2025-01-20 10:00", "2025-01-20 12:00"),
        _closed(7, 2, "2025-01-27 10:00", "2025-01-28 10:00"),
        _closed(8, 1, "2025-01-28 10:00", "2025-01-29 10:00"),
    ], extracted_at=at("2025-02-01 00:00"))
    _window(lake, "2025-02-01 00:00")
    dbt(*BUILD)
    before = _rows(lake)

    # One load: 1 moves to mailbox 2, 2 is reopened, 3 is deleted, 4 is merged into 5.
    lake.append("conversations", [
        _closed(1, 2, "2025-01-02 10:00", "2025-01-03 10:00"),
        _open(2, 1, "2025-01-06 10:00", (22, "reply", "user", "2025-01-06 11:00")),
        _open(5, 2, "2025-01-13 10:00", (41, "customer", "customer", "2025-01-10 10:00"),
              (42, "reply", "user", "2025-01-11 10:00")),
    ], extracted_at=at("2025-02-02 00:00"))
    lake.tombstone(3, "deleted", detected_at=at("2025-02-02 00:01"))
    lake.tombstone(4, "merged", merged_into=5, detected_at=at("2025-02-02 00:01"))
    _window(lake, "2025-02-02 00:00")
    dbt(*BUILD)
    after = _rows(lake)
    dbt(*BUILD, "--full-refresh")
    full = _rows(lake)

    # Another reporting zone, incrementally: the marts must notice on their own.
    dbt.vars = {"reporting_timezone": "Pacific/Kiritimati"}
    dbt(*BUILD)
    rezoned = _rows(lake)
    # Only the KPI models: the conversations mart's business minutes follow the
    # zone too, and it documents that it needs its own --full-refresh for that.
    dbt("run", "--select", "tag:kpi,+mailbox_daily", "tag:kpi,+mailbox_weekly",
        "--full-refresh")
    rezoned_full = _rows(lake)
    yield Built(lake, before, after, full, rezoned, rezoned_full)


def _values(rows: dict[tuple[int, date], tuple[str, tuple[Any, ...]]]
            ) -> dict[tuple[int, date], tuple[Any, ...]]:
    return {key: values for key, (_, values) in rows.items()}


def _column(built: Built, mart: str, key: tuple[int, date], column: str) -> Any:
    names = [name for (name,) in built.lake.query(
        "select column_name from information_schema.columns where table_schema ="
        f" 'helpscout' and table_name = '{mart}' order by ordinal_position")]
    return dict(zip(names, built.after[mart][key][1], strict=True))[column]


def test_untouched_periods_are_not_rewritten(built: Built) -> None:
    daily_before, daily_after = built.before["mailbox_daily"], built.after["mailbox_daily"]
    # (periods new to the spine, mailbox 2 before 10 January, are written, of course)
    rewritten = {key for key, (ctid, _) in daily_after.items()
                 if key in daily_before and ctid != daily_before[key][0]}
    # Mailbox 1 loses the moved conversation's days and gets the reopened one's open
    # days up to the end; mailbox 2 only the days of the moved, merged-away and
    # merge-target conversations. Its other days keep their rows where they were.
    touched_in_2 = {date(2025, 1, d) for d in (2, 3, 10, 11, 13)}
    assert {key for key in rewritten if key[0] == 2} <= {(2, day) for day in touched_in_2}
    untouched = [key for key in daily_after
                 if key[0] == 2 and key[1] not in touched_in_2 and key in daily_before]
    assert len(untouched) > 15
    for key in untouched:
        assert daily_after[key] == daily_before[key], key
    assert {key for key in daily_after if key[0] == 1 and key in daily_before} <= rewritten
    weekly_before, weekly_after = built.before["mailbox_weekly"], built.after["mailbox_weekly"]
    assert weekly_after[(2, date(2025, 1, 20))] == weekly_before[(2, date(2025, 1, 20))]


def test_touched_periods_hold_the_new_figures(built: Built) -> None:
    # the moved conversation counts in its new mailbox, on both its days
    assert _column(built, "mailbox_daily", (2, date(2025, 1, 2)), "conversations_received") == 1
    assert (1, date(2025, 1, 3)) not in built.after["mailbox_daily"]  # before mailbox 1's first
    assert _column(built, "mailbox_daily", (2, date(2025, 1, 3)), "conversations_closed") == 1
    # the deleted and the merged-away conversations count nowhere
    assert _column(built, "mailbox_daily", (1, date(2025, 1, 8)), "conversations_received") == 0
    assert _column(built, "mailbox_daily", (2, date(2025, 1, 10)), "conversations_received") == 0
    # the reopened one is open again from its creation on (and the deleted one is not)
    assert _column(built, "mailbox_daily", (1, date(2025, 1, 10)),
                   "conversations_open_at_period_end") == 1
    assert _column(built, "mailbox_daily", (1, date(2025, 1, 7)), "conversations_closed") == 0


def test_incremental_equals_full_refresh(built: Built) -> None:
    for mart in MARTS:
        assert _values(built.after[mart]) == _values(built.full[mart]), mart


def test_a_settings_change_redoes_every_period(built: Built) -> None:
    for mart in MARTS:
        rezoned, full = _values(built.rezoned[mart]), _values(built.rezoned_full[mart])
        assert rezoned.keys() == full.keys(), mart
        for key, row in rezoned.items():
            assert row == full[key], (mart, key)
        assert _values(built.rezoned[mart]) != _values(built.full[mart]), mart
