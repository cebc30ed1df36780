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
from tests.dbt.dbtkit import Dbt, Lake, at, conversation, tag

MARTS = {"mailbox_daily": ("mailbox_id", "date_day"),
         "mailbox_weekly": ("mailbox_id", "week_start"),
         "mailbox_backlog_daily": ("mailbox_id", "date_day"),
         "auto_replies_daily": ("date_day",),
         "tag_weekly": ("tag_id", "week_start"),
         "weekly_summary": ("week_start",),
         "subject_waves": ("month_start", "subject_normalized"),
         "thread_depth": ("mailbox_id", "month_start", "thread_count_band")}
# Every conversation here is created in January 2025, so each change touches the
# one month of the monthly marts: they take part in the equality checks only.
MONTHLY = {"subject_waves", "thread_depth"}
# every subject a wave, so that subject_waves has rows to get wrong
VARS = {"subject_wave_min_conversations": 1}
BUILD = ["run", "--select", *(f"+{mart}" for mart in MARTS), "--threads", "4"]
BILLING, BUG, REFUND = (101, "billing"), (102, "bug"), (103, "refund")


def _closed(cid: int, mailbox: int, created: str, closed: str, *,
            tags: tuple[tuple[int, str], ...] = (), subject: str | None = None
            ) -> dict[str, Any]:
    """Answered an hour after creation, closed (without a status thread) at ``closed``."""
    return conversation(cid, status="closed", created=created, mailboxId=mailbox,
                        closedAt=at(closed).strftime("%Y-%m-%dT%H:%M:%SZ"), tags=tags,
                        subject=subject or f"Subject {cid}",
                        threads=[(cid * 10 + 1, "customer", "customer", created),
                                 (cid * 10 + 2, "reply", "user", created.replace("10:", "11:"))])


def _open(cid: int, mailbox: int, created: str, *threads: tuple[int, str, str, str],
          tags: tuple[tuple[int, str], ...] = ()) -> dict[str, Any]:
    return conversation(cid, created=created, mailboxId=mailbox, tags=tags,
                        threads=[(cid * 10 + 1, "customer", "customer", created), *threads])


Rows = dict[str, dict[tuple[Any, ...], tuple[str, tuple[Any, ...]]]]


@dataclass
class Built:
    lake: Lake
    before: Rows
    after: Rows
    before_tagging: Rows
    before_narrow: Rows
    after_narrow: Rows
    before_closer: Rows
    after_rounds: Rows
    full: Rows
    rezoned: Rows
    rezoned_full: Rows


def _names(lake: Lake, mart: str) -> list[str]:
    return [name for (name,) in lake.query(
        "select column_name from information_schema.columns where table_schema ="
        f" 'helpscout' and table_name = '{mart}' order by ordinal_position")]


def _rows(lake: Lake) -> Rows:
    """{mart: {key: (ctid, every column)}}."""
    out = {}
    for mart, key in MARTS.items():
        names = _names(lake, mart)
        out[mart] = {}
        for ctid, *values in lake.query(f"select ctid::text, m.* from helpscout.{mart} as m"):
            row = dict(zip(names, values, strict=True))
            out[mart][tuple(row[column] for column in key)] = (ctid, tuple(values))
    return out


def _window(lake: Lake, end: str) -> None:
    lake.execute(f"insert into {lake.schema}.load_windows (run_id, stream, window_start,"
                 " window_end, status, started_at) values (%s, 'conversations', %s, %s,"
                 " 'completed', %s)", [(str(lake.new_run()), at("2024-12-01 00:00"), at(end),
                                        at(end))])


@pytest.fixture(scope="module")
def built(module_pg_database: Database, tmp_path_factory) -> Iterator[Built]:
    lake = Lake(module_pg_database)
    dbt = Dbt(module_pg_database, tmp_path_factory.mktemp("dbt"), vars=dict(VARS))
    lake.append("tags", [tag(101, "Billing"), tag(102, "Bug"), tag(103, "Refund")],
                extracted_at=at("2025-02-01 00:00"))
    lake.append("conversations", [
        _closed(1, 1, "2025-01-02 10:00", "2025-01-03 10:00", tags=(BILLING,)),
        _closed(2, 1, "2025-01-06 10:00", "2025-01-07 10:00", tags=(BILLING, BUG)),
        _open(3, 1, "2025-01-08 10:00", tags=(REFUND,)),
        _closed(4, 2, "2025-01-10 10:00", "2025-01-11 10:00", tags=(BUG,)),
        _open(5, 2, "2025-01-13 10:00", tags=(BUG,)),
        _closed(6, 1, "2025-01-20 10:00", "2025-01-20 12:00", tags=(REFUND,)),
        _closed(7, 2, "2025-01-27 10:00", "2025-01-28 10:00", tags=(BILLING,)),
        _closed(8, 1, "2025-01-28 10:00", "2025-01-29 10:00", tags=(BUG,),
                subject="Automatic reply: away"),
    ], extracted_at=at("2025-02-01 00:00"))
    _window(lake, "2025-02-01 00:00")
    dbt(*BUILD)
    before = _rows(lake)

    # Round 1: 1 moves to mailbox 2, 2 is reopened, 3 is deleted, 4 is merged into 5.
    lake.append("conversations", [
        _closed(1, 2, "2025-01-02 10:00", "2025-01-03 10:00", tags=(BILLING,)),
        _open(2, 1, "2025-01-06 10:00", (22, "reply", "user", "2025-01-06 11:00"),
              tags=(BILLING, BUG)),
        _open(5, 2, "2025-01-13 10:00", (41, "customer", "customer", "2025-01-10 10:00"),
              (42, "reply", "user", "2025-01-11 10:00"), tags=(BUG,)),
    ], extracted_at=at("2025-02-02 00:00"))
    lake.tombstone(3, "deleted", detected_at=at("2025-02-02 00:01"))
    lake.tombstone(4, "merged", merged_into=5, detected_at=at("2025-02-02 00:01"))
    _window(lake, "2025-02-02 00:00")
    dbt(*BUILD)
    after = _rows(lake)

    # Round 2: tags change (7 swaps billing for refund, 5 gains billing and loses bug),
    # bug is renamed, 5 is closed, 6 becomes an automatic reply and 8 stops being one,
    # and an older copy of 7 (another mailbox, no tags) arrives late: it must not win.
    lake.append("tags", [tag(101, "Billing"), tag(102, "Defect"), tag(103, "Refund")],
                extracted_at=at("2025-02-03 00:00"))
    lake.append("conversations", [
        _closed(7, 2, "2025-01-27 10:00", "2025-01-28 10:00", tags=(REFUND,)),
        conversation(5, status="closed", created="2025-01-13 10:00", mailboxId=2,
                     closedAt="2025-01-29T10:00:00Z", tags=(BILLING,),
                     threads=[(51, "customer", "customer", "2025-01-13 10:00"),
                              (41, "customer", "customer", "2025-01-10 10:00"),
                              (42, "reply", "user", "2025-01-11 10:00")]),
        _closed(6, 1, "2025-01-20 10:00", "2025-01-20 12:00", tags=(REFUND,),
                subject="Out of office until Monday"),
        _closed(8, 1, "2025-01-28 10:00", "2025-01-29 10:00", tags=(BUG,)),
    ], extracted_at=at("2025-02-03 00:00"))
    lake.append("conversations", [_closed(7, 1, "2025-01-27 10:00", "2025-01-28 10:00")],
                extracted_at=at("2025-01-30 00:00"))
    _window(lake, "2025-02-03 00:00")
    dbt(*BUILD)
    before_tagging = _rows(lake)

    # Round 3, tags only: 6 also gets billing, and refund is renamed.
    # (each tags listing is the whole listing)
    lake.append("tags", [tag(101, "Billing"), tag(102, "Defect"), tag(103, "Refunds")],
                extracted_at=at("2025-02-03 12:00"))
    lake.append("conversations", [
        _closed(6, 1, "2025-01-20 10:00", "2025-01-20 12:00", tags=(REFUND, BILLING),
                subject="Out of office until Monday")], extracted_at=at("2025-02-03 12:00"))
    dbt(*BUILD)
    before_narrow = _rows(lake)

    # Round 4, narrow: one new conversation on 30 January, in the last week.
    lake.append("conversations", [
        _closed(9, 1, "2025-01-30 10:00", "2025-01-30 12:00", tags=(BILLING,))],
        extracted_at=at("2025-02-04 00:00"))
    _window(lake, "2025-02-04 00:00")
    dbt(*BUILD)
    after_narrow = _rows(lake)

    # Round 5: 1 moves back, 6 is reopened, 2 is closed again and 9 is deleted.
    lake.append("conversations", [
        _closed(1, 1, "2025-01-02 10:00", "2025-01-03 10:00", tags=(BILLING, BUG)),
        _open(6, 1, "2025-01-20 10:00", (62, "reply", "user", "2025-01-20 11:00"),
              tags=(REFUND,)),
        _closed(2, 1, "2025-01-06 10:00", "2025-01-21 10:00", tags=(BUG,)),
    ], extracted_at=at("2025-02-05 00:00"))
    lake.tombstone(9, "deleted", detected_at=at("2025-02-05 00:01"))
    # 10 is closed by a user its copy names only by closedBy, whose email is unknown
    lake.append("conversations", [conversation(
        10, status="closed", created="2025-01-31 10:00", mailboxId=2,
        closedAt="2025-01-31T12:00:00Z", closedBy=900,
        threads=[(101, "customer", "customer", "2025-01-31 10:00"),
                 (102, "reply", "user", "2025-01-31 11:00")])],
        extracted_at=at("2025-02-05 00:00"))
    _window(lake, "2025-02-05 00:00")
    dbt(*BUILD)
    before_closer = _rows(lake)

    # Round 6, no conversation copy: the users listing shows 10's closer is the
    # system closer, so the KPI marts stop counting 10. Without a lookback, so
    # that 10's copy is not read again anyway (every row here is seconds old).
    lake.append("users", [{"id": 900, "firstName": "Help", "lastName": "Scout",
                           "email": "none@nowhere.com", "role": "user", "type": "user"}],
                extracted_at=at("2025-02-05 06:00"))
    dbt.vars = {**VARS, "lookback_hours": 0}
    dbt(*BUILD)
    dbt.vars = dict(VARS)
    after_rounds = _rows(lake)
    dbt(*BUILD, "--full-refresh")
    full = _rows(lake)

    # Another reporting zone, incrementally: the marts must notice on their own.
    dbt.vars = {**VARS, "reporting_timezone": "Pacific/Kiritimati"}
    dbt(*BUILD)
    rezoned = _rows(lake)
    # Only the KPI models: the conversations mart's business minutes follow the
    # zone too, and it documents that it needs its own --full-refresh for that.
    dbt("run", "--select", *(f"tag:kpi,+{mart}" for mart in MARTS), "--full-refresh")
    rezoned_full = _rows(lake)
    yield Built(lake, before, after, before_tagging, before_narrow, after_narrow, before_closer,
                after_rounds, full, rezoned, rezoned_full)


def _values(rows: dict[tuple[Any, ...], tuple[str, tuple[Any, ...]]]
            ) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    return {key: values for key, (_, values) in rows.items()}


def _column(built: Built, mart: str, key: tuple[Any, ...], column: str,
            rows: Rows | None = None) -> Any:
    values = (rows or built.after)[mart][key][1]
    return dict(zip(_names(built.lake, mart), values, strict=True))[column]


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
    # the backlog likewise: mailbox 2's untouched days keep their rows (but the
    # day holding the watermark, not complete yet, is redone: the backlog runs to it)
    backlog_before = built.before["mailbox_backlog_daily"]
    backlog_after = built.after["mailbox_backlog_daily"]
    kept = [key for key in backlog_after
            if key[0] == 2 and key[1] not in touched_in_2 and key in backlog_before
            and key[1] < date(2025, 2, 1)]
    assert len(kept) > 15
    for key in kept:
        assert backlog_after[key] == backlog_before[key], key
    # the account's days none of the four conversations touches
    replies_before = built.before["auto_replies_daily"]
    replies_after = built.after["auto_replies_daily"]
    touched_days = {(date(2025, 1, d),) for d in (2, 3, 6, 7, 8, 10, 11, 13)}
    kept = [key for key in replies_after if key in replies_before and key not in touched_days]
    assert len(kept) > 15
    for key in kept:
        assert replies_after[key] == replies_before[key], key


def test_a_narrow_change_rewrites_only_its_periods(built: Built) -> None:
    """Round 4 adds one conversation on 30 January: nothing before its week moves."""
    last_week = date(2025, 1, 27)
    for mart, key_columns in MARTS.items():
        if mart in MONTHLY:
            continue
        period = key_columns.index("date_day" if "date_day" in key_columns else "week_start")
        before, after = built.before_narrow[mart], built.after_narrow[mart]
        earlier = [key for key in before if key[period] < last_week]
        assert earlier, mart
        for key in earlier:
            assert after[key] == before[key], (mart, key)
        assert _values(after) != _values(before), mart
    assert _column(built, "auto_replies_daily", (date(2025, 1, 30),), "conversations_received",
                   built.after_narrow) == 1
    assert _column(built, "tag_weekly", (101, last_week), "conversations_received",
                   built.after_narrow) == 1


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
    assert _column(built, "mailbox_backlog_daily", (1, date(2025, 1, 10)), "open_at_day_end") == 1
    assert _column(built, "auto_replies_daily", (date(2025, 1, 8),),
                   "conversations_received") == 0
    # refund's first conversation is deleted: its weeks now start with the next one's
    assert (103, date(2025, 1, 6)) in built.before["tag_weekly"]
    assert (103, date(2025, 1, 6)) not in built.after["tag_weekly"]
    assert (103, date(2025, 1, 20)) in built.after["tag_weekly"]


def test_tag_changes_and_renames_reach_tag_weekly(built: Built) -> None:
    rows = built.before_tagging
    week = date(2025, 1, 27)
    assert _column(built, "tag_weekly", (101, week), "conversations_closed", rows) == 1  # 5
    assert _column(built, "tag_weekly", (103, week), "conversations_received", rows) == 1  # 7
    assert _column(built, "tag_weekly", (102, week), "conversations_received", rows) == 1  # 8
    assert {_column(built, "tag_weekly", key, "tag_name", rows)
            for key in rows["tag_weekly"] if key[0] == 102} == {"Defect"}
    assert _column(built, "auto_replies_daily", (date(2025, 1, 20),), "auto_reply_conversations",
                   rows) == 1
    assert _column(built, "auto_replies_daily", (date(2025, 1, 28),), "auto_reply_conversations",
                   rows) == 0


def test_a_tag_only_change_redoes_its_week_and_a_rename_its_tag(built: Built) -> None:
    """Round 3 only adds billing to 6 (week of 20 January) and renames refund."""
    before, after = built.before_tagging["tag_weekly"], built.before_narrow["tag_weekly"]
    tagged_week = date(2025, 1, 20)
    assert _column(built, "tag_weekly", (101, tagged_week), "conversations_received",
                   built.before_tagging) == 0
    assert _column(built, "tag_weekly", (101, tagged_week), "conversations_received",
                   built.before_narrow) == 1
    assert {_column(built, "tag_weekly", key, "tag_name", built.before_narrow)
            for key in after if key[0] == 103} == {"Refunds"}
    # the rename redoes the tag's other weeks, which keep their figures: only the
    # name moves (7, refund since round 2, is in the week of 27 January)
    names = _names(built.lake, "tag_weekly")
    renamed = [key for key in before if key[0] == 103 and key[1] != tagged_week]
    assert _column(built, "tag_weekly", (103, date(2025, 1, 27)), "conversations_received",
                   built.before_tagging) == 1
    for key in renamed:
        held = dict(zip(names, before[key][1], strict=True))
        assert dict(zip(names, after[key][1], strict=True)) == {**held, "tag_name": "Refunds"}, key
    kept = [key for key in before if key[0] != 103 and key[1] != tagged_week]
    assert len(kept) > 5
    for key in kept:
        assert after[key] == before[key], key


def test_incremental_equals_full_refresh(built: Built) -> None:
    for mart in MARTS:
        incremental, full = _values(built.after_rounds[mart]), _values(built.full[mart])
        assert incremental.keys() == full.keys(), mart
        for key, row in incremental.items():
            assert row == full[key], (mart, key)


def test_a_closer_found_in_the_users_listing_reaches_the_marts(built: Built) -> None:
    """Round 6 loads no conversation: the listing alone makes 10 system-closed, so
    mailbox 2 and the account each receive one conversation fewer."""
    def received(rows: Rows, mart: str, where: Any) -> int:
        names = _names(built.lake, mart)
        return sum(dict(zip(names, values, strict=True))["conversations_received"]
                   for key, (_, values) in rows[mart].items() if where(key))

    assert _column(built, "mailbox_daily", (2, date(2025, 1, 31)), "conversations_received",
                   built.before_closer) == 1
    for mart, where in (("mailbox_daily", lambda key: key[0] == 2),
                        ("auto_replies_daily", lambda key: True)):
        assert received(built.after_rounds, mart, where) == (
            received(built.before_closer, mart, where) - 1), mart


def test_a_settings_change_redoes_every_period(built: Built) -> None:
    for mart in MARTS:
        rezoned, full = _values(built.rezoned[mart]), _values(built.rezoned_full[mart])
        assert rezoned.keys() == full.keys(), mart
        for key, row in rezoned.items():
            assert row == full[key], (mart, key)
        # every row rewritten, though the move of every conversation by the same
        # hours leaves each in its month (the monthly marts' values stay)
        assert not {ctid for ctid, _ in built.rezoned[mart].values()} & {
            ctid for ctid, _ in built.full[mart].values()}, mart
        if mart not in MONTHLY:
            assert _values(built.rezoned[mart]) != _values(built.full[mart]), mart
