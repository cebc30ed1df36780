"""Customers, teams and members, custom field definitions, satisfaction ratings.

Backfill, rounds of change and a full refresh each end with the lake equal to the
sandbox's ground truth; a plan without the Reports API skips ratings with one warning
and the run still succeeds.
"""

from __future__ import annotations

import signal
import time
from datetime import timedelta

from loader.status import render
from tests.loader.kit import SINCE, Lake

# What a rating's report item says that no later edit elsewhere changes (the names
# in it are the customer's and user's at the time the report was read).
RATING_KEYS = ("threadid", "id", "number", "ratingId", "ratingCustomerId", "ratingUserId",
               "ratingComments", "ratingCreatedAt", "threadCreatedAt")


def snapshot(lake: Lake, table: str, parent_column: str) -> dict[int, list[int]]:
    """Per parent, the ids the latest completed listing of the stream returned."""
    rows = lake.query(f"""
        select t.{parent_column}, t.entity_id from {{s}}.{table} t
        where t.run_id = (select w.run_id from {{s}}.load_windows w
                          where w.stream = %s and w.status = 'completed'
                          order by w.finished_at desc limit 1)
        order by 1, 2""", ({"team_members": "team_members",
                             "mailbox_fields": "fields"}[table],))
    out: dict[int, list[int]] = {}
    for parent, entity in rows:
        out.setdefault(parent, []).append(entity)
    return out


def assert_extras_match(lake: Lake, truth) -> None:
    customers = lake.latest("customers")
    assert sorted(customers) == sorted(truth.customers)
    for cid, expected in truth.customers.items():
        assert customers[cid] == expected, cid
    assert lake.latest("teams") == truth.teams
    members = snapshot(lake, "team_members", "team_id")
    assert {t: members.get(t, []) for t in truth.team_members} == truth.team_members
    fields = snapshot(lake, "mailbox_fields", "mailbox_id")
    assert fields == {m: sorted(f["id"] for f in defs) for m, defs in truth.fields.items()
                      if defs}
    definitions = lake.latest("mailbox_fields")
    for defs in truth.fields.values():
        for definition in defs:
            assert definitions[definition["id"]] == definition
    ratings = lake.latest("satisfaction_ratings")
    assert sorted(ratings) == sorted(truth.ratings)
    for thread_id, expected in truth.ratings.items():
        got = ratings[thread_id]
        assert {k: got[k] for k in RATING_KEYS} == {k: expected[k] for k in RATING_KEYS}


def test_backfill_rounds_of_change_and_full_refresh_equal_the_truth(
        account_factory, make_loader, monkeypatch):
    sb = account_factory(size=160, seed=11)
    loader = make_loader(sb)
    assert loader.run(*SINCE, monkeypatch=monkeypatch) == 0
    assert_extras_match(loader.lake, sb.truth())
    for _round in range(2):
        for _ in range(6):
            sb.change("edit_customer")
            sb.change("team_change")
            sb.change("set_field")
            sb.change("clear_field")
            sb.change("rate")
        time.sleep(1.1)  # the run reads up to one second before now
        assert loader.run(monkeypatch=monkeypatch) == 0
        assert_extras_match(loader.lake, sb.truth())
    changed = sb.stats()["changes"]
    assert changed["edit_customer"] and changed["team_change"] and changed["rate"]
    assert changed["set_field"] and changed["clear_field"]
    assert loader.run(*SINCE, monkeypatch=monkeypatch) == 0  # the full refresh
    assert_extras_match(loader.lake, sb.truth())


def test_customers_resume_after_a_kill_with_whole_windows_only(account_factory,
                                                               make_loader):
    sb = account_factory(size=200, seed=5)
    loader = make_loader(sb)
    args = (*SINCE, "--streams", "customers", "--window-target", "20", "--concurrency", "1")
    killed = loader.spawn(*args, module=("tests.loader.crashing", "--after-windows", "3"))
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    windows = loader.lake.windows("customers")
    assert len([w for w in windows if w[3] == "completed"]) == 3
    orphans = loader.lake.query("""
        select count(*) from {s}.customers c where not exists (
            select 1 from {s}.load_windows w where w.run_id = c.run_id
            and w.stream = 'customers' and w.status = 'completed'
            and w.window_start = c.window_start and w.window_end = c.window_end)""")
    assert orphans == [(0,)]
    resumed = loader.spawn("--streams", "customers", "--window-target", "20")
    assert resumed.returncode == 0, resumed.stderr
    first_resumed = min(w[1] for w in loader.lake.windows("customers")
                        if w[0] != windows[0][0])
    # no overlap in the tests: the resumed run starts right after the last whole window
    assert first_resumed == max(w[2] for w in windows if w[3] == "completed") + \
        timedelta(seconds=1)
    customers = loader.lake.latest("customers")
    assert customers == sb.truth().customers


def test_a_plan_without_reports_skips_ratings_with_one_warning(account_factory,
                                                               make_loader):
    sb = account_factory(size=40, seed=2, plan="standard")
    loader = make_loader(sb)
    done = loader.spawn(*SINCE)
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if "ratings" in line]
    assert len(warnings) == 1 and "skipped" in warnings[0] and "plan" in warnings[0]
    assert "ratings unavailable" in done.stdout
    assert loader.lake.query("select count(*) from {s}.satisfaction_ratings") == [(0,)]
    assert loader.lake.query("select status from {s}.load_runs") == [("succeeded",)]
    assert loader.lake.latest("customers") == sb.truth().customers
    conn = loader.database.connect()
    try:
        report = render(conn, "helpscout_raw")
    finally:
        conn.close()
    line = next(row for row in report.splitlines() if row.startswith("ratings "))
    assert "unavailable" in line and "failed" not in line
    sb.set_plan("plus")  # the account upgrades: the next run loads them
    time.sleep(1.1)
    again = loader.spawn()
    assert again.returncode == 0, again.stderr
    assert sorted(loader.lake.latest("satisfaction_ratings")) == sorted(sb.truth().ratings)
