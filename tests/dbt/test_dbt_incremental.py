"""The incremental path through the sequences that break naive incremental models.

A hand-written lake goes through three loads, each followed by an incremental
``dbt build``; the expectations are the scenario's own facts (which tags a
conversation has now, where a thread went), then ``--full-refresh`` must give
the same marts. The end-to-end test covers the same ground at random over a
sandbox account; this one pins each trap down by name.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from loader.connection import Database
from ops.dbt import run_dbt
from tests.dbt.dbtkit import CORE_ONLY, Dbt, Lake, at, conversation, tag

BUILD = ["build", *CORE_ONLY, "--exclude", "test_type:unit", "--threads", "4"]


@dataclass
class Built:
    lake: Lake
    dbt: Dbt
    snapshots: dict[str, dict[str, list[tuple[Any, ...]]]]


def _snapshot(lake: Lake) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    for mart, key in (("conversations", "conversation_id"), ("threads", "thread_id"),
                      ("conversation_tags", "conversation_id, tag_id"), ("tags", "tag_id")):
        out[mart] = lake.query(f"select * from helpscout.{mart} order by {key}")
    return out


@pytest.fixture(scope="module")
def built(module_pg_database: Database, tmp_path_factory) -> Iterator[Built]:
    lake = Lake(module_pg_database)
    # dbt's sessions in a far-off zone (UTC+13:45): every timestamp must still be exact
    dbt = Dbt(module_pg_database, tmp_path_factory.mktemp("dbt"), env={"PGTZ": "Pacific/Chatham"})
    snapshots = {}

    # Load 1: five conversations and the tags listing.
    lake.append("conversations", [
        conversation(1, threads=[(11, "customer", "customer", "2025-01-01 10:00"),
                                 (12, "reply", "user", "2025-01-01 11:00"),
                                 (13, "note", "user", "2025-01-01 12:00")],
                     tags=[(100, "alpha"), (200, "beta")]),
        conversation(2, threads=[(21, "customer", "customer", "2025-01-02 10:00")],
                     tags=[(100, "alpha")]),
        conversation(3, threads=[(31, "customer", "customer", "2025-01-03 10:00"),
                                 (32, "reply", "user", "2025-01-03 10:30")],
                     tags=[(200, "beta")]),
        conversation(4, threads=[(41, "customer", "customer", "2025-01-04 10:00")]),
        conversation(5, status="closed", tags=[(300, "gamma")], closedAt="2025-01-05T12:00:00Z",
                     threads=[(51, "customer", "customer", "2025-01-01 10:00")]),
    ], extracted_at=at("2025-02-01 00:00"))
    lake.append("tags", [tag(100, "alpha"), tag(200, "beta"), tag(300, "gamma")],
                extracted_at=at("2025-02-01 00:00"))
    dbt(*BUILD)
    snapshots["load 1"] = _snapshot(lake)

    # Load 2: conversation 1 loses two threads and every tag; 3 is merged into 2,
    # whose copy now holds 3's threads; 4 is deleted; an OLD copy of 5 arrives late;
    # the listing renames tag 100 and no longer has tag 200.
    lake.append("conversations", [
        conversation(1, threads=[(11, "customer", "customer", "2025-01-01 10:00")], tags=[]),
        conversation(2, threads=[(21, "customer", "customer", "2025-01-02 10:00"),
                                 (31, "customer", "customer", "2025-01-03 10:00"),
                                 (32, "reply", "user", "2025-01-03 10:30")],
                     tags=[(100, "alpha")]),
    ], extracted_at=at("2025-02-02 00:00"))
    lake.append("conversations", [conversation(5, status="active", tags=[(999, "stale")])],
                extracted_at=at("2025-01-20 00:00"))
    lake.tombstone(3, "merged", merged_into=2, detected_at=at("2025-02-02 00:01"))
    lake.tombstone(4, "deleted", detected_at=at("2025-02-02 00:01"))
    lake.append("tags", [tag(100, "alpha renamed", "#bbb"), tag(300, "gamma")],
                extracted_at=at("2025-02-02 00:00"))
    dbt(*BUILD)
    snapshots["load 2"] = _snapshot(lake)

    # Load 3: conversation 4 is back (a copy newer than its tombstone), tags come as
    # a string; only the listing renames gamma: conversation 5 itself is unchanged.
    lake.append("conversations", [conversation(4, tags="vip",
                                               threads=[(41, "customer", "customer",
                                                         "2025-01-04 10:00")])],
                extracted_at=at("2025-02-03 00:00"))
    lake.append("tags", [tag(100, "alpha renamed", "#bbb"), tag(300, "gamma renamed")],
                extracted_at=at("2025-02-03 00:00"))
    # A reconcile that committed late: its tombstone of conversation 2 carries a load
    # time just before that of the copy the marts were built from.
    (copy_loaded,) = lake.query("select max(loaded_at) from helpscout_raw.conversations"
                                " where entity_id = 2")[0]
    lake.tombstone(2, "deleted", detected_at=at("2025-02-02 12:00"),
                   loaded_at=copy_loaded - timedelta(seconds=1))
    dbt(*BUILD)
    snapshots["load 3"] = _snapshot(lake)

    dbt(*BUILD, "--full-refresh")
    snapshots["full refresh"] = _snapshot(lake)
    yield Built(lake, dbt, snapshots)


def _column(built: Built, load: str, mart: str, *columns: str) -> dict[Any, Any]:
    """{key: (columns...)} of a mart as it stood after ``load``."""
    names = [c[0] for c in built.lake.query(
        "select column_name from information_schema.columns where table_schema = 'helpscout'"
        f" and table_name = '{mart}' order by ordinal_position")]
    rows = [dict(zip(names, row, strict=True)) for row in built.snapshots[load][mart]]
    key = "thread_id" if mart == "threads" else (
        "tag_id" if mart == "tags" else "conversation_id")
    if mart == "conversation_tags":
        return {(r["conversation_id"], r["tag_id"]): tuple(r[c] for c in columns) for r in rows}
    return {r[key]: tuple(r[c] for c in columns) for r in rows}


def test_first_load(built: Built) -> None:
    bridge = _column(built, "load 1", "conversation_tags", "tag_name")
    assert bridge == {(1, 100): ("alpha",), (1, 200): ("beta",), (2, 100): ("alpha",),
                      (3, 200): ("beta",), (5, 300): ("gamma",)}
    owners = _column(built, "load 1", "threads", "conversation_id")
    assert owners == {11: (1,), 12: (1,), 13: (1,), 21: (2,), 31: (3,), 32: (3,), 41: (4,),
                      51: (5,)}


def test_timestamps_are_exact_instants_whatever_the_session_zone(built: Built) -> None:
    times = _column(built, "load 1", "conversations", "created_at", "closed_at",
                    "resolution_minutes", "first_response_minutes")
    assert times[5][:3] == (at("2025-01-01 10:00"), at("2025-01-05 12:00"), 4 * 24 * 60 + 120)
    assert times[1][0] == at("2025-01-01 10:00")
    assert times[1][3] == 60  # first reply an hour after creation
    threads = _column(built, "load 1", "threads", "created_at")
    assert threads[12] == (at("2025-01-01 11:00"),)


def test_removed_tags_and_threads_disappear(built: Built) -> None:
    bridge = _column(built, "load 2", "conversation_tags", "tag_name")
    assert not [key for key in bridge if key[0] == 1]
    owners = _column(built, "load 2", "threads", "conversation_id")
    assert [t for t, (cid,) in owners.items() if cid == 1] == [11]
    counts = _column(built, "load 2", "conversations", "tag_count", "reply_count", "note_count")
    assert counts[1] == (0, 0, 0)


def test_merged_threads_move_to_the_target_once(built: Built) -> None:
    owners = _column(built, "load 2", "threads", "conversation_id")
    assert {t: cid for t, (cid,) in owners.items() if t in (21, 31, 32)} == {21: 2, 31: 2, 32: 2}
    flags = _column(built, "load 2", "conversations", "is_deleted", "removal_reason",
                    "merged_into_conversation_id", "reply_count")
    assert flags[3] == (True, "merged", 2, 1)  # its own last copy still had the reply
    assert flags[2] == (False, None, None, 1)


def test_deleted_then_back(built: Built) -> None:
    assert _column(built, "load 2", "conversations", "is_deleted", "removal_reason")[4] == \
        (True, "deleted")
    assert _column(built, "load 3", "conversations", "is_deleted", "removal_reason",
                   "tag_count")[4] == (False, None, 0)


def test_a_tombstone_committed_late_still_counts(built: Built) -> None:
    assert _column(built, "load 3", "conversations", "is_deleted", "removal_reason")[2] == \
        (True, "deleted")


def test_a_late_older_copy_never_wins(built: Built) -> None:
    for load in ("load 2", "load 3", "full refresh"):
        assert _column(built, load, "conversations", "status")[5] == ("closed",), load
        assert (5, 999) not in _column(built, load, "conversation_tags", "tag_name")


def test_tag_names_follow_the_listing(built: Built) -> None:
    after_rename = _column(built, "load 2", "conversation_tags", "tag_name", "tag_color")
    assert after_rename[(2, 100)] == ("alpha renamed", "#bbb")
    assert after_rename[(3, 200)] == ("beta", "#aaa")  # not listed any more: embedded name
    tags = _column(built, "load 2", "tags", "tag_name", "conversation_count")
    assert tags == {100: ("alpha renamed", 1), 300: ("gamma", 1)}
    later = _column(built, "load 3", "conversation_tags", "tag_name")
    assert later[(5, 300)] == ("gamma renamed",)  # conversation 5 itself did not change


def test_full_refresh_gives_the_same_marts(built: Built) -> None:
    assert built.snapshots["full refresh"] == built.snapshots["load 3"]


def _failures(built: Built, test: str, *extra: str) -> int:
    """How many rows the data test ``test`` found wrong (dbt's "Got N results")."""
    env = dict(os.environ, DBT_TARGET_PATH=str(built.dbt.target),
               DBT_LOG_PATH=str(built.dbt.workdir / "logs"), **built.dbt.env)
    done = run_dbt(["test", "--select", test, *extra], built.lake.database, env=env, capture=True)
    found = re.search(r"Got (\d+) results?", done.stdout)
    assert (done.returncode != 0) == bool(found), done.stdout[-3000:]
    return int(found.group(1)) if found else 0


def test_data_tests_audit_the_recent_rows_and_every_row_on_request(built: Built) -> None:
    """An incremental run's data tests read the rows the latest runs built (older ones
    passed when they were built); ``audit_all_rows`` reads every row. A broken row in
    each: the recent one is caught by default, both by the full audit."""
    test = "conversations_counts_are_never_null_or_negative"
    built.lake.execute(
        "update helpscout.conversations set reply_count = -1,"
        " lake_loaded_at = lake_loaded_at - case conversation_id when 1 then interval '2 days'"
        " else interval '0 days' end where conversation_id in (1, 2)", [()])
    try:
        assert _failures(built, test) == 1
        assert _failures(built, test, "--vars", json.dumps({"audit_all_rows": True})) == 2
    finally:
        built.dbt(*BUILD, "--full-refresh", "--select", "conversations")
