"""``airflow dags test helpscout_elt`` against a sandbox account and a throwaway database.

Three runs in one Airflow home, the sandbox served by a child process:

1. a Monday, the database named by ``HELPSCOUT_DATABASE_URL``: every task succeeds
   (``alerts`` is skipped, saying so, in a checkout without ``hs-ops alerts``), dbt ran
   and passed every model, test and unit test of the project (counted from each dbt
   task's ``run_results.json``, not from the DagRun state), the core marts equal what
   :mod:`tests.e2e.reference` derives from the sandbox's ground truth, and the weekly
   report went out;
2. the Tuesday after, the database from the Airflow connection ``helpscout_db``, once the
   account has changed (merges, deletions, retags, replies, new conversations): the load
   reads only what changed, the marts equal the truth again, and no report goes out;
3. with a wrong secret (from an Airflow connection, which wins over the environment):
   the load fails at once, without a retry, and nothing downstream runs.

No task log, in any run, holds the app secret.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from loader.connection import Database
from ops.database import PROJECT_ROOT
from ops.dbt import run_dbt
from sandbox.remote import ServedSandbox, serve_subprocess
from tests.e2e import reference as ref
from tests.orchestration.conftest import AirflowHome, make_home

pytestmark = pytest.mark.slow

DAG_ID = "helpscout_elt"
SIZE = 300
SEED = 20261201
MARTS_SCHEMA = "helpscout"
WRONG_SECRET = "wrong-secret-for-the-test"
CHANGES = {"merge": 2, "hard_delete": 2, "soft_delete": 1, "retag": 6, "rename_tag": 1,
           "reopen": 2, "user_reply": 4, "customer_reply": 4, "new_conversation": 5}


@dataclass
class Run:
    """One ``airflow dags test``: its exit code, output, task states and dbt results."""

    logical_date: date
    returncode: int
    output: str
    tasks: dict[str, dict[str, Any]]
    dbt_results: dict[str, str]  # unique_id -> status, over every dbt task of the run
    dbt_task_files: int


@dataclass
class History:
    home: AirflowHome
    runs: list[Run]
    problems: list[list[str]]
    lake_rows: list[int]
    account_size: int
    second_window_start: datetime | None
    expected_nodes: set[str]
    alerts_available: bool
    report_week: str | None
    app_secret: str


def _settle(sb: ServedSandbox) -> None:
    """Wait until the latest change is a second old: a load's windows end a second before now."""
    latest = max(sb.truth().modified_at.values()).timestamp()
    delay = latest + 1.05 - time.time()
    if delay > 0:
        time.sleep(delay)


def _dags_test(home: AirflowHome, env: dict[str, str], day: date) -> Run:
    done = home.run("dags", "test", DAG_ID, day.isoformat(), extra_env=env)
    runs = [r for r in home.probe("runs", DAG_ID, extra_env=env)
            if r["logical_date"] and r["logical_date"].startswith(day.isoformat())]
    assert len(runs) == 1, (runs, done.stdout[-3000:], done.stderr[-3000:])
    run = runs[0]
    results: dict[str, str] = {}
    artifacts = home.local.home / "dbt_artifacts"
    files = [p for p in artifacts.glob("*/*.json") if p.parent.name == _safe(run["run_id"])]
    for path in files:
        for result in json.loads(path.read_text())["results"]:
            results[result["unique_id"]] = result["status"]
    return Run(day, done.returncode, done.stdout + done.stderr, run["tasks"], results,
               len(files))


def _safe(name: str) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9_.+-]", "_", name)


def _marts(database: Database) -> dict[str, dict[Any, ref.Row]]:
    conn = database.connect()
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


def _problems(state: ref.ReferenceState, database: Database) -> list[str]:
    actual = _marts(database)
    conn = database.connect()
    try:
        lake = ref.read_lake_facts(conn)  # the DAG builds with the default zone, UTC
    finally:
        conn.close()
    problems: list[str] = []
    for mart, expected in state.marts(lake).items():
        problems += ref.differences(mart, expected, actual[mart])
    return problems


def _query(database: Database, sql: str) -> list[tuple[Any, ...]]:
    conn = database.connect()
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()
    finally:
        conn.close()


def _project_nodes(database: Database, workdir: Path) -> set[str]:
    """Every model, data test and unit test of the dbt project, as dbt itself lists them."""
    env = {"DBT_TARGET_PATH": str(workdir / "target"), "DBT_LOG_PATH": str(workdir / "logs")}
    import os

    listed = run_dbt(["--quiet", "ls", "--resource-type", "model", "--resource-type", "test",
                      "--resource-type", "unit_test", "--output", "json",
                      "--output-keys", "unique_id"], database, env={**os.environ, **env},
                     capture=True)
    assert listed.returncode == 0, listed.stdout[-2000:]
    return {json.loads(line)["unique_id"] for line in listed.stdout.splitlines()
            if line.startswith("{")}


def _alerts_available() -> bool:
    import subprocess

    done = subprocess.run([str(PROJECT_ROOT / ".venv" / "bin" / "hs-ops"), "alerts", "--help"],
                          capture_output=True)
    return done.returncode == 0


@pytest.fixture(scope="module")
def history(module_pg_database: Database, tmp_path_factory) -> History:
    home = make_home(tmp_path_factory.mktemp("airflow-runs"))
    monday = date.today() - timedelta(days=date.today().weekday() + 7)
    with serve_subprocess("--size", str(SIZE), "--seed", str(SEED), "--start", "2025-01-01",
                          "--rate-limit", "0") as sb:
        db = module_pg_database
        # run 1 names the database in the environment (hs-ops resolves the URL), runs 2
        # and 3 through an Airflow connection
        by_url = {"HELPSCOUT_DATABASE_URL":
                  f"postgresql://{db.user}@/{db.dbname}?host={db.host}&port={db.port}"}
        by_connection = {"AIRFLOW_CONN_HELPSCOUT_DB": json.dumps({
            "conn_type": "postgres", "host": db.host, "port": db.port, "login": db.user,
            "schema": db.dbname})}
        env = {"HELPSCOUT_APP_ID": sb.client_id, "HELPSCOUT_APP_SECRET": sb.client_secret,
               "HELPSCOUT_API_URL": sb.base_url,
               # the sandbox has no search-index lag; tests need no real backoff
               "AIRFLOW_VAR_HELPSCOUT_LOAD_ARGS":
                   "--lag 0 --overlap 0 --retry-backoff 0.01",
               # due every run, so that each run's tombstones reach the marts
               "AIRFLOW_VAR_HELPSCOUT_RECONCILE_ARGS": "--every 0 --retry-backoff 0.01"}
        state = ref.ReferenceState(ref.Settings())
        runs: list[Run] = []
        problems: list[list[str]] = []
        lake_rows: list[int] = []
        count_rows = "select count(*) from helpscout_raw.conversations"

        _settle(sb)
        runs.append(_dags_test(home, {**env, **by_url}, monday))
        state.observe(sb.truth())
        problems.append(_problems(state, module_pg_database))
        lake_rows.append(_query(module_pg_database, count_rows)[0][0])
        account_size = len(sb.truth().conversations)

        sb.advance(steps=20, **CHANGES)
        _settle(sb)
        runs.append(_dags_test(home, {**env, **by_connection}, monday + timedelta(days=1)))
        state.observe(sb.truth())
        problems.append(_problems(state, module_pg_database))
        lake_rows.append(_query(module_pg_database, count_rows)[0][0])
        second_window_start = _query(
            module_pg_database,
            "select min(w.window_start) from helpscout_raw.load_windows w"
            " join helpscout_raw.load_runs r using (run_id)"
            " where r.command = 'run' and w.stream = 'conversations'"
            " and r.started_at = (select max(started_at) from helpscout_raw.load_runs"
            "                     where command = 'run')")[0][0]

        wrong = {**env, **by_connection, "AIRFLOW_CONN_HELPSCOUT_API": json.dumps({
            "conn_type": "generic", "login": sb.client_id, "password": WRONG_SECRET,
            "extra": {"api_url": sb.base_url}})}
        runs.append(_dags_test(home, wrong, monday + timedelta(days=2)))
        report_week = _variable(home, env)
    return History(home, runs, problems, lake_rows, account_size, second_window_start,
                   _project_nodes(module_pg_database, tmp_path_factory.mktemp("ls")),
                   _alerts_available(), report_week, sb.client_secret)


def _variable(home: AirflowHome, env: dict[str, str]) -> str | None:
    done = home.run("variables", "get", "helpscout_report_week", extra_env=env, timeout=300)
    return done.stdout.strip().splitlines()[-1] if done.returncode == 0 else None


def _states(run: Run) -> dict[str, str | None]:
    return {task: spec["state"] for task, spec in run.tasks.items()}


def _expected_states(history: History, *, report: bool) -> dict[str, str]:
    states = {task: "success" for task in history.runs[0].tasks}
    states["alerts"] = "success" if history.alerts_available else "skipped"
    states["report"] = "success" if report else "skipped"
    return states


def test_first_run_every_task_succeeds(history: History) -> None:
    run = history.runs[0]
    assert run.returncode == 0, run.output[-4000:]
    assert _states(run) == _expected_states(history, report=True)


def test_first_run_dbt_ran_and_passed_every_node(history: History) -> None:
    run = history.runs[0]
    assert history.expected_nodes
    assert {n.split(".")[0] for n in history.expected_nodes} == {"model", "test", "unit_test"}
    assert set(run.dbt_results) == history.expected_nodes
    assert {status for status in run.dbt_results.values()} <= {"success", "pass"}
    assert run.dbt_task_files == sum(t.startswith("dbt.") for t in run.tasks)


def test_first_run_marts_equal_the_truth(history: History) -> None:
    assert history.problems[0] == [], "\n".join(history.problems[0])


def test_the_monday_run_sent_the_weekly_report(history: History) -> None:
    monday = history.runs[0].logical_date
    year, week, _ = monday.isocalendar()
    assert history.report_week == f"{year}-W{week:02d}"
    assert "Busiest mailboxes" in history.runs[0].output


def test_second_run_is_incremental_and_equal_again(history: History) -> None:
    run = history.runs[1]
    assert run.returncode == 0, run.output[-4000:]
    assert _states(run) == _expected_states(history, report=False)
    assert set(run.dbt_results) == history.expected_nodes
    assert {status for status in run.dbt_results.values()} <= {"success", "pass"}
    new_rows = history.lake_rows[1] - history.lake_rows[0]
    assert 0 < new_rows < history.account_size / 2
    assert history.second_window_start is not None
    assert history.second_window_start > datetime(2025, 1, 2, tzinfo=timezone.utc)
    assert history.problems[1] == [], "\n".join(history.problems[1])


def test_wrong_secret_fails_the_load_once_and_runs_nothing_downstream(history: History) -> None:
    run = history.runs[2]
    states = _states(run)
    assert states["load"] == "failed"
    assert run.tasks["load"]["try_number"] == 1
    downstream = {task: state for task, state in states.items() if task != "load"}
    assert set(downstream.values()) <= {"upstream_failed", None}, downstream
    assert run.dbt_results == {} and run.dbt_task_files == 0
    assert "exited with code 4" in run.output


def test_no_task_log_holds_a_secret(history: History) -> None:
    """``dags test`` writes every task's log to its output (and none to files)."""
    logs = [run.output for run in history.runs]
    logs += [p.read_text(errors="replace")
             for p in (history.home.local.home / "logs").rglob("*") if p.is_file()]
    assert all("hs-ops load run" in run.output for run in history.runs)
    for text in logs:
        assert history.app_secret not in text
        assert WRONG_SECRET not in text
