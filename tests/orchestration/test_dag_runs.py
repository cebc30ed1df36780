"""``airflow dags test helpscout_elt`` against a sandbox account and a throwaway database.

One Airflow home, the sandbox served by a child process:

1. a Sunday, only the ``load`` task (``airflow tasks test``), the database named by
   ``HELPSCOUT_DATABASE_URL``: the backfill;
2. the Monday after, once the account has changed (merges, deletions, retags, replies,
   new conversations), the whole DAG with the database from the Airflow connection
   ``helpscout_db``: every task succeeds (``alerts`` posts to a webhook receiver on
   loopback), the load read only what changed, dbt ran and passed every seed, model,
   test and unit test of the project (counted from each dbt task's
   ``run_results.json``, not from the DagRun state), the core marts equal what
   :mod:`tests.e2e.reference` derives from the sandbox's ground truth, and the weekly
   report went out;
3. with a wrong secret (from an Airflow connection, which wins over the environment):
   the load fails at once, without a retry, and nothing downstream runs.

Every dbt task of a run costs a dbt start-up (about 5 s of CPU), so the DAG runs in full
once; the reports-only-on-Mondays rule is unit-tested in ``test_dag_structure``.
No task log, in any run, holds the app secret or the webhook's URL, and every alert the
alerts task says it sent reached the receiver, once.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from loader.connection import Database
from ops.dbt import run_dbt
from sandbox.remote import ServedSandbox, serve_subprocess
from tests.e2e import reference as ref
from tests.orchestration.conftest import AirflowHome, make_home
from tests.receivers import WebhookReceiver

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
    monday: Run
    wrong_secret: Run
    backfill_output: str
    problems: list[str]
    lake_rows: list[int]  # conversation copies after the backfill and after Monday's load
    account_size: int
    second_window_start: datetime | None
    expected_nodes: set[str]
    report_week: str | None
    app_secret: str
    webhook_url: str
    webhook_texts: list[str]


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
    """Every seed, model, data test and unit test of the project, as dbt itself lists them."""
    env = {"DBT_TARGET_PATH": str(workdir / "target"), "DBT_LOG_PATH": str(workdir / "logs")}
    listed = run_dbt(["--quiet", "ls", "--resource-type", "seed", "--resource-type", "model",
                      "--resource-type", "test",
                      "--resource-type", "unit_test", "--output", "json",
                      "--output-keys", "unique_id"], database, env={**os.environ, **env},
                     capture=True)
    assert listed.returncode == 0, listed.stdout[-2000:]
    return {json.loads(line)["unique_id"] for line in listed.stdout.splitlines()
            if line.startswith("{")}


@pytest.fixture(scope="module")
def history(module_pg_database: Database, tmp_path_factory) -> History:
    home = make_home(tmp_path_factory.mktemp("airflow-runs"))
    monday = date.today() - timedelta(days=date.today().weekday() + 7)
    webhook = WebhookReceiver()
    with serve_subprocess("--size", str(SIZE), "--seed", str(SEED), "--start", "2025-01-01",
                          "--rate-limit", "0") as sb:
        db = module_pg_database
        # the backfill names the database in the environment (hs-ops resolves the URL),
        # the DAG runs through an Airflow connection
        by_url = {"HELPSCOUT_DATABASE_URL":
                  f"postgresql://{db.user}@/{db.dbname}?host={db.host}&port={db.port}"}
        by_connection = {"AIRFLOW_CONN_HELPSCOUT_DB": json.dumps({
            "conn_type": "postgres", "host": db.host, "port": db.port, "login": db.user,
            "schema": db.dbname})}
        env = {"HELPSCOUT_APP_ID": sb.client_id, "HELPSCOUT_APP_SECRET": sb.client_secret,
               "HELPSCOUT_API_URL": sb.base_url, "HELPSCOUT_WEBHOOK_URL": webhook.url,
               # the sandbox has no search-index lag; tests need no real backoff
               "AIRFLOW_VAR_HELPSCOUT_LOAD_ARGS":
                   "--lag 0 --overlap 0 --retry-backoff 0.01",
               # due every run, so that each run's tombstones reach the marts
               "AIRFLOW_VAR_HELPSCOUT_RECONCILE_ARGS": "--every 0 --retry-backoff 0.01"}
        state = ref.ReferenceState(ref.Settings())
        count_rows = "select count(*) from helpscout_raw.conversations"

        _settle(sb)
        backfill = home.run("tasks", "test", DAG_ID, "load", (monday - timedelta(days=1))
                            .isoformat(), extra_env={**env, **by_url})
        assert backfill.returncode == 0, backfill.stdout[-3000:] + backfill.stderr[-3000:]
        # the reference keeps what it saw: removed conversations stay in the marts, flagged
        state.observe(sb.truth(), reconciled=False)
        lake_rows = [_query(module_pg_database, count_rows)[0][0]]
        account_size = len(sb.truth().conversations)

        sb.advance(steps=20, **CHANGES)
        _settle(sb)
        monday_run = _dags_test(home, {**env, **by_connection}, monday)
        state.observe(sb.truth())
        problems = _problems(state, module_pg_database)
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
        wrong_run = _dags_test(home, wrong, monday + timedelta(days=1))
        report_week = _variable(home, env)
    webhook.stop()
    return History(home, monday_run, wrong_run, backfill.stdout + backfill.stderr, problems,
                   lake_rows, account_size, second_window_start,
                   _project_nodes(module_pg_database, tmp_path_factory.mktemp("ls")),
                   report_week, sb.client_secret, webhook.url,
                   webhook.texts)


def _variable(home: AirflowHome, env: dict[str, str]) -> str | None:
    done = home.run("variables", "get", "helpscout_report_week", extra_env=env, timeout=300)
    return done.stdout.strip().splitlines()[-1] if done.returncode == 0 else None


def _nodes(run: Run) -> set[str]:
    """The project's nodes that ran (each dbt task also runs the on-run-start hooks)."""
    return {node for node in run.dbt_results if not node.startswith("operation.")}


def _states(run: Run) -> dict[str, str | None]:
    return {task: spec["state"] for task, spec in run.tasks.items()}


def test_the_backfill_task_loaded_the_account(history: History) -> None:
    assert "hs-ops load run" in history.backfill_output
    assert history.lake_rows[0] >= history.account_size > 0


def test_monday_run_every_task_succeeds(history: History) -> None:
    run = history.monday
    assert run.returncode == 0, run.output[-4000:]
    assert set(run.tasks) >= {"load", "reconcile", "alerts", "report_due", "report"}
    assert _states(run) == {task: "success" for task in run.tasks}


def test_monday_run_loaded_only_what_changed(history: History) -> None:
    new_rows = history.lake_rows[1] - history.lake_rows[0]
    assert 0 < new_rows < history.account_size / 2
    assert history.second_window_start is not None
    assert history.second_window_start > datetime(2025, 1, 2, tzinfo=timezone.utc)


def test_monday_run_dbt_ran_and_passed_every_node(history: History) -> None:
    run = history.monday
    assert history.expected_nodes
    assert {n.split(".")[0] for n in history.expected_nodes} == {"seed", "model", "test",
                                                                   "unit_test"}
    assert _nodes(run) == history.expected_nodes
    assert {status for status in run.dbt_results.values()} <= {"success", "pass"}
    assert run.dbt_task_files == sum(t.startswith("dbt.") for t in run.tasks)


def test_monday_run_marts_equal_the_truth(history: History) -> None:
    assert history.problems == [], "\n".join(history.problems)


def test_the_monday_run_sent_the_weekly_report(history: History) -> None:
    year, week, _ = history.monday.logical_date.isocalendar()
    assert history.report_week == f"{year}-W{week:02d}"
    assert "Busiest mailboxes" in history.monday.output


def test_wrong_secret_fails_the_load_once_and_runs_nothing_downstream(history: History) -> None:
    run = history.wrong_secret
    states = _states(run)
    assert states["load"] == "failed"
    assert run.tasks["load"]["try_number"] == 1
    downstream = {task: state for task, state in states.items() if task != "load"}
    assert set(downstream.values()) <= {"upstream_failed", None}, downstream
    assert run.dbt_results == {} and run.dbt_task_files == 0
    assert "exited with code 4" in run.output


def test_alerts_reached_the_webhook_once(history: History) -> None:
    """``hs-ops alerts`` says ``sent N alert message(s)`` or ``no new anomalies since``."""
    output = history.monday.output
    said = [int(n) for n in re.findall(r"sent (\d+) alert message\(s\)", output)]
    assert said or "no new anomalies since" in output, output[-3000:]
    assert len(history.webhook_texts) == sum(said)
    assert len(set(history.webhook_texts)) == len(history.webhook_texts)


def test_no_task_log_holds_a_secret(history: History) -> None:
    """``dags test`` writes every task's log to its output (and none to files)."""
    logs = [history.backfill_output, history.monday.output, history.wrong_secret.output]
    logs += [p.read_text(errors="replace")
             for p in (history.home.local.home / "logs").rglob("*") if p.is_file()]
    assert all("hs-ops load run" in text for text in logs[:3])
    for text in logs:
        assert history.app_secret not in text
        assert WRONG_SECRET not in text
        assert history.webhook_url.rsplit("/", 1)[-1] not in text
