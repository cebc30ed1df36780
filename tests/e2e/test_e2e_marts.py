"""End to end: sandbox account -> loader CLI over HTTP -> dbt build -> the core marts.

One sandbox account of a few thousand conversations is loaded into a throwaway
database and built; then the account evolves for several rounds (replies, status
changes and reopenings, reassignments, mailbox moves, tags added, removed and
renamed, spam, soft and hard deletes, merges), each followed by an incremental
load, a reconcile sweep and an incremental build. After every build each mart
must equal, row by row and column by column, what :mod:`tests.e2e.reference`
derives from the sandbox's ground truth; finally ``dbt build --full-refresh``
must give exactly the marts the incremental path gave.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from loader.connection import Database
from ops.database import PROJECT_ROOT
from ops.dbt import run_dbt
from sandbox import Sandbox
from tests.e2e import reference as ref

SIZE = 2000
SEED = 20240611
ROUNDS = 5
MARTS_SCHEMA = "helpscout"
# Every change the contract has to survive, at least once a round, on top of random ones.
ROUND_CHANGES = {
    "merge": 2, "hard_delete": 2, "soft_delete": 1, "spam": 1, "rename_tag": 2, "retag": 12,
    "reopen": 3, "reassign": 3, "move": 3, "close": 3, "system_close": 1, "user_reply": 5,
    "customer_reply": 5, "note": 2, "new_conversation": 5, "close_without_closed_at": 2,
    "silent_close": 2, "silent_status": 3,
    # customers, custom fields, ratings and teams (sandbox/extras.py)
    "edit_customer": 6, "set_field": 6, "clear_field": 3, "rate": 6, "team_change": 2,
}
RANDOM_CHANGES = 60
# Day buckets of the backlog in a zone with clock changes (the history spans several).
REPORTING_TIMEZONE = "Europe/Madrid"
CORE_MARTS = ("conversations", "conversation_tags", "tags", "mailboxes", "users", "threads",
              "conversation_status_history", "customers", "conversation_custom_fields", "teams",
              "team_members", "satisfaction_ratings")
# The core marts and the backlog with what it needs (the other KPI marts, tag:kpi,
# have their own suite). Builds after the first skip the unit tests: they test SQL
# logic, not data.
DBT_BUILD = ["build", "--select", "path:models/staging", "path:models/intermediate/helpscout",
             *(f"path:models/marts/{mart}.sql" for mart in CORE_MARTS), "+mailbox_backlog_daily",
             "--threads", "4"]

pytestmark = pytest.mark.slow


@dataclass
class Pipeline:
    """The loader and dbt, pointed at one sandbox and one throwaway database."""

    sb: Sandbox
    database: Database
    workdir: Path
    dbt_vars: str
    log: list[str] = field(default_factory=list)

    def _loader(self, *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "HELPSCOUT_"))}
        env.update(self.database.libpq_env(), HELPSCOUT_APP_ID=self.sb.client_id,
                   HELPSCOUT_APP_SECRET=self.sb.client_secret, HELPSCOUT_API_URL=self.sb.base_url)
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "loader", *args], env=env,
                              cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
        self.log.append(f"loader {args[0]}: {time.monotonic() - started:.1f}s")
        assert done.returncode == 0, f"loader {args}: {done.stderr[-2000:]}"

    def load(self) -> None:
        """An incremental load up to now (no lag: the sandbox has no search-index delay)."""
        _settle(self.sb)
        self._loader("run", "--since", "2024-12-01", "--lag", "0", "--overlap", "0",
                     "--retry-backoff", "0.01")

    def reconcile(self) -> None:
        self._loader("reconcile", "--retry-backoff", "0.01")

    def build(self, *extra: str) -> None:
        env = dict(os.environ, DBT_TARGET_PATH=str(self.workdir / "target"),
                   DBT_LOG_PATH=str(self.workdir / "logs"))
        started = time.monotonic()
        done = run_dbt([*DBT_BUILD, "--vars", self.dbt_vars, *extra], self.database, env=env,
                       capture=True)
        self.log.append(f"dbt {' '.join(extra) or 'build'}: {time.monotonic() - started:.1f}s")
        assert done.returncode == 0, done.stdout[-4000:]

    def lake_facts(self) -> ref.LakeFacts:
        conn = self.database.connect()
        try:
            return ref.read_lake_facts(conn, REPORTING_TIMEZONE)
        finally:
            conn.close()

    def marts(self) -> dict[str, dict[Any, ref.Row]]:
        """Every column of every core mart, keyed by the mart's primary key."""
        conn = self.database.connect()
        try:
            out = {}
            for mart in ref.MART_KEYS:
                with conn.cursor() as cur:
                    cur.execute("select column_name from information_schema.columns"
                                " where table_schema = %s and table_name = %s"
                                " order by ordinal_position", (MARTS_SCHEMA, mart))
                    columns = [name for (name,) in cur.fetchall()]
                out[mart] = ref.read_mart(conn, MARTS_SCHEMA, mart, columns)
            return out
        finally:
            conn.close()


def _settle(sb: Sandbox) -> None:
    """Wait until the latest change is a second old: a load's windows end a second before now."""
    truth = sb.truth()
    latest = max(max(truth.modified_at.values()).timestamp(),
                 max(truth.customer_modified_at.values(), default=0),
                 max((ref.parse_time(r["modifiedAt"]).timestamp()
                      for r in truth.ratings.values()), default=0))
    delay = latest + 1.05 - time.time()
    if delay > 0:
        time.sleep(delay)


def _problems(state: ref.ReferenceState, lake: ref.LakeFacts,
              actual: dict[str, dict[Any, ref.Row]]) -> list[str]:
    problems: list[str] = []
    for mart, expected in state.marts(lake).items():
        problems += ref.differences(mart, expected, actual[mart])
    return problems


@dataclass
class History:
    """What the module's pipeline produced: per build, the differences from the truth."""

    problems: dict[int, list[str]]
    row_counts: dict[int, dict[str, int]]
    incremental_marts: dict[str, dict[Any, ref.Row]]
    full_refresh_marts: dict[str, dict[Any, ref.Row]]
    full_refresh_problems: list[str]
    changes: dict[int, dict[str, int]]
    shared_thread_ids: int
    removals: dict[str, int]
    log: list[str]
    expected: dict[str, dict[Any, ref.Row]]


@pytest.fixture(scope="module")
def history(module_pg_database: Database, tmp_path_factory) -> Iterator[History]:
    workdir = tmp_path_factory.mktemp("e2e")
    with Sandbox(size=SIZE, seed=SEED, rate_limit=0) as sb:
        truth = sb.truth()
        settings = ref.Settings(internal_email_domains=tuple(truth.internal_domains),
                                system_closer_emails=tuple(truth.system_closer_emails))
        dbt_vars = json.dumps({"internal_email_domains": list(settings.internal_email_domains),
                               "system_closer_emails": list(settings.system_closer_emails),
                               "reporting_timezone": REPORTING_TIMEZONE})
        pipeline = Pipeline(sb, module_pg_database, workdir, dbt_vars)
        state = ref.ReferenceState(settings)
        problems: dict[int, list[str]] = {}
        row_counts: dict[int, dict[str, int]] = {}
        changes: dict[int, dict[str, int]] = {}
        for round_no in range(ROUNDS + 1):
            if round_no:
                changes[round_no] = sb.advance(steps=RANDOM_CHANGES, **ROUND_CHANGES)["counts"]
            pipeline.load()
            pipeline.reconcile()
            state.observe(sb.truth())
            pipeline.build(*(() if round_no == 0 else ("--exclude", "test_type:unit")))
            marts = pipeline.marts()
            lake = pipeline.lake_facts()
            problems[round_no] = _problems(state, lake, marts)
            row_counts[round_no] = {mart: len(rows) for mart, rows in marts.items()}
        pipeline.build("--full-refresh", "--exclude", "test_type:unit")
        full = pipeline.marts()
        removals = {reason: sum(r == reason for r, _ in state.removed.values())
                    for reason in ("deleted", "merged")}
        yield History(problems, row_counts, marts, full, _problems(state, lake, full), changes,
                      len(state.shared_thread_ids()), removals, pipeline.log, state.marts(lake))


@pytest.mark.parametrize("round_no", range(ROUNDS + 1))
def test_marts_equal_the_truth_after_each_round(history: History, round_no: int) -> None:
    assert history.problems[round_no] == [], "\n".join(history.problems[round_no])


def test_rounds_exercised_the_hard_cases(history: History) -> None:
    """The comparisons above are only as good as the changes behind them."""
    done = {kind for counts in history.changes.values() for kind in counts}
    assert {"merge", "hard_delete", "soft_delete", "rename_tag", "retag", "spam"} <= done
    assert {"edit_customer", "set_field", "clear_field", "rate", "team_change"} <= done
    assert all(counts["merge"] and counts["hard_delete"] for counts in history.changes.values())
    assert all(counts[m] > 0 for counts in history.row_counts.values() for m in counts)
    # merges of conversations loaded before: the same thread in two conversations' copies
    assert history.shared_thread_ids > 0
    assert history.removals["deleted"] > 0 and history.removals["merged"] > 0


def test_full_refresh_gives_the_incremental_marts(history: History) -> None:
    for mart, incremental in history.incremental_marts.items():
        rebuilt = history.full_refresh_marts[mart]
        assert rebuilt.keys() == incremental.keys(), mart
        for key, row in incremental.items():
            assert rebuilt[key] == row, (mart, key)
    assert history.full_refresh_problems == []


def test_history_and_backlog_were_exercised(history: History) -> None:
    """The status history and backlog comparisons cover every path of the contract."""
    intervals = list(history.expected["conversation_status_history"].values())
    sources = {(row["source"], row["set_by_thread_id"] is None) for row in intervals}
    assert {("thread", False), ("observed", True)} <= sources
    conversations = history.expected["conversations"]
    observed = [row for row in intervals if row["source"] == "observed"]
    # observed closings dated by closedAt, and changes dated by the copy that showed them
    assert any(row["valid_from"] == conversations[row["conversation_id"]]["closed_at"]
               for row in observed)
    assert any(row["valid_from"] != conversations[row["conversation_id"]]["closed_at"]
               for row in observed)
    assert sum(row["reopen_count"] for row in conversations.values()) > 10
    assert any(row["status"] == "closed" and row["closed_at"] is None
               for row in conversations.values())
    backlog = history.expected["mailbox_backlog_daily"]
    assert sum(row["open_at_day_end"] for row in backlog.values()) > 0
    assert sum(row["conversations_reopened"] for row in backlog.values()) > 0
    assert {row["is_complete"] for row in backlog.values()} == {True, False}


def test_latest_backlog_day_agrees_with_current_statuses(history: History) -> None:
    """Closed conversations without closedAt (and all others) count open on the latest
    day exactly when the conversations mart says they are active or pending now."""
    conversations = history.incremental_marts["conversations"]
    backlog = history.incremental_marts["mailbox_backlog_daily"]
    last_day = max(day for _, day in backlog)
    open_now: dict[int, int] = {}
    for row in conversations.values():
        if (row["status"] in ("active", "pending") and not row["is_spam"]
                and not row["is_deleted"] and not row["is_internal"]
                and not row["is_closed_by_system"]):
            open_now[row["mailbox_id"]] = open_now.get(row["mailbox_id"], 0) + 1
    latest = {mailbox: row["open_at_day_end"] for (mailbox, day), row in backlog.items()
              if day == last_day}
    assert latest == {mailbox: open_now.get(mailbox, 0) for mailbox in latest}
    assert set(open_now) <= set(latest)
