"""The DAG folder as Airflow parses it: no import errors, and the task graph of issue 19.

The dbt part is compared with the dbt project itself (its model files and ``dbt ls``),
never with a list copied from a parse.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from loader import errors
from ops.database import PROJECT_ROOT
from ops.dbt import DBT_PROJECT_DIR, run_dbt

DAGS = PROJECT_ROOT / "orchestration" / "airflow" / "dags"
sys.path.insert(0, str(DAGS))
import helpscout_elt_support as support  # noqa: E402


@pytest.fixture(scope="module")
def parsed(airflow_home) -> dict[str, Any]:
    return airflow_home.probe("dagbag")


@pytest.fixture(scope="module")
def tasks(parsed) -> dict[str, dict[str, Any]]:
    return parsed["dags"]["helpscout_elt"]["tasks"]


def _models() -> set[str]:
    return {path.stem for path in (DBT_PROJECT_DIR / "models").rglob("*.sql")}


def test_the_folder_imports_cleanly_and_holds_the_dag(parsed) -> None:
    assert parsed["import_errors"] == {}
    assert set(parsed["dags"]) == {"helpscout_elt"}


def test_schedule_defaults_to_hourly_one_run_at_a_time_no_catchup(parsed) -> None:
    dag = parsed["dags"]["helpscout_elt"]
    assert dag["schedule"] == "0 * * * *"
    assert dag["max_active_runs"] == 1
    assert dag["catchup"] is False


def test_schedule_comes_from_the_variable(airflow_home) -> None:
    parsed = airflow_home.probe(
        "dagbag", extra_env={"AIRFLOW_VAR_HELPSCOUT_ELT_SCHEDULE": "15 6 * * 1-5"})
    assert parsed["dags"]["helpscout_elt"]["schedule"] == "15 6 * * 1-5"


def test_load_then_reconcile_then_every_root_model(tasks, pg_server, tmp_path) -> None:
    assert tasks["load"]["upstream"] == []
    assert tasks["load"]["downstream"] == ["reconcile"]
    roots = [t for t, spec in tasks.items() if t.startswith("dbt.") and
             not any(u.startswith("dbt.") for u in spec["upstream"])]
    assert roots and sorted(tasks["reconcile"]["downstream"]) == sorted(roots)
    # the roots are exactly the seeds and the models that read no other model or seed
    listed = run_dbt(["--quiet", "ls", "--resource-type", "model", "--resource-type", "seed",
                      "--output", "json", "--output-keys", "name", "resource_type",
                      "depends_on"], pg_server, capture=True,
                     env=dict(os.environ, DBT_TARGET_PATH=str(tmp_path / "target"),
                              DBT_LOG_PATH=str(tmp_path / "logs")))
    assert listed.returncode == 0, listed.stdout[-2000:]
    nodes = [json.loads(line) for line in listed.stdout.splitlines() if line.startswith("{")]
    independent = {f'{node["name"]}_{node["resource_type"]}_build' for node in nodes
                   if not any(dep.startswith(("model.", "seed."))
                              for dep in node.get("depends_on", {}).get("nodes", []))}
    assert {t.removeprefix("dbt.") for t in roots} == independent
    assert any(name.startswith("stg_helpscout__") for name in independent)
    assert "holidays_seed_build" in independent


def test_one_task_per_model(tasks) -> None:
    model_tasks = {t.removeprefix("dbt.").removesuffix("_model_build")
                   for t in tasks if t.endswith("_model_build")}
    assert model_tasks == _models()
    assert {tasks[f"dbt.{m}_model_build"]["operator"] for m in _models()} == \
        {"DbtBuildLocalOperator"}


def test_tests_with_several_parents_wait_for_all_of_them(tasks, pg_server, tmp_path) -> None:
    """Relationship and singular tests reading two models run after both."""
    listed = run_dbt(["--quiet", "ls", "--resource-type", "test", "--output", "json",
                      "--output-keys", "name", "depends_on"], pg_server, capture=True,
                     env=dict(os.environ, DBT_TARGET_PATH=str(tmp_path / "target"),
                              DBT_LOG_PATH=str(tmp_path / "logs")))
    assert listed.returncode == 0, listed.stdout[-2000:]
    several = {}
    for line in listed.stdout.splitlines():
        if line.startswith("{"):
            node = json.loads(line)
            parents = [n for n in node["depends_on"]["nodes"] if n.startswith("model.")]
            if len(parents) > 1:
                several[node["name"]] = {p.split(".")[-1] for p in parents}
    assert several, "the project has relationship tests"
    for name, parents in several.items():
        task = tasks[f"dbt.{name}_test"]
        assert {f"dbt.{p}_model_build" for p in parents} <= set(task["upstream"]), name


def test_alerts_and_the_report_come_after_every_dbt_leaf(tasks) -> None:
    leaves = {t for t, spec in tasks.items() if t.startswith("dbt.") and
              not any(d.startswith("dbt.") for d in spec["downstream"])}
    assert set(tasks["alerts"]["upstream"]) == leaves
    assert set(tasks["report_due"]["upstream"]) == leaves
    assert tasks["report_due"]["downstream"] == ["report"]
    assert tasks["report"]["downstream"] == [] and tasks["alerts"]["downstream"] == []
    assert set(tasks) == {"load", "reconcile", "alerts", "report_due", "report"} | {
        t for t in tasks if t.startswith("dbt.")}


def test_load_and_reconcile_retry_with_backoff(tasks) -> None:
    for name in ("load", "reconcile"):
        assert tasks[name]["retries"] >= 3
        assert tasks[name]["retry_exponential_backoff"] > 1


def test_every_task_takes_the_connections_just_before_it_runs(tasks) -> None:
    assert {spec["pre_execute"] for spec in tasks.values()} == {"export_connections"}


def test_exit_codes_agree_with_the_loader() -> None:
    assert support.EXIT_USAGE == errors.EXIT_USAGE
    assert support.EXIT_DATABASE == errors.EXIT_DATABASE
    assert support.EXIT_CREDENTIALS == errors.EXIT_CREDENTIALS
    assert support.EXIT_API_UNREACHABLE == errors.EXIT_API_UNREACHABLE
    assert support.EXIT_API_FAILED == errors.EXIT_API_FAILED
    assert support.EXIT_DELIVERY == errors.EXIT_DELIVERY


@pytest.mark.parametrize(("code", "decision"), [
    (errors.EXIT_OK, "ok"),
    (errors.EXIT_API_UNREACHABLE, "retry"),
    (errors.EXIT_API_FAILED, "retry"),
    (errors.EXIT_DATABASE, "retry"),
    (errors.EXIT_DELIVERY, "retry"),
    (errors.EXIT_CREDENTIALS, "fail"),
    (errors.EXIT_USAGE, "fail"),
    (errors.EXIT_BAD_DATES, "fail"),
    (errors.EXIT_INTERNAL, "fail"),
])
def test_exit_code_decides_retry_or_fail(code: int, decision: str) -> None:
    assert support.exit_decision(code) == decision


def test_connections_become_the_tools_variables() -> None:
    assert support.api_env("id", "s3cret", {"api_url": "http://127.0.0.1:1/v2"}) == {
        "HELPSCOUT_APP_ID": "id", "HELPSCOUT_APP_SECRET": "s3cret",
        "HELPSCOUT_API_URL": "http://127.0.0.1:1/v2"}
    assert support.database_env("/run/pg", None, "elt", None, "analytics", {}) == {
        "PGHOST": "/run/pg", "PGPORT": "5432", "PGUSER": "elt", "PGDATABASE": "analytics"}
    env = support.child_env({"PATH": "/bin", "AIRFLOW__CORE__FERNET_KEY": "k",
                             "AIRFLOW_CONN_X": "c", "HELPSCOUT_APP_SECRET": "s"})
    assert env == {"PATH": "/bin", "HELPSCOUT_APP_SECRET": "s"}


def test_the_dag_files_name_no_credentials() -> None:
    for path in DAGS.glob("*.py"):
        text = path.read_text()
        assert "sandbox-app-secret" not in text and "postgresql://" not in text, path


def test_report_week_is_the_iso_week_of_a_monday() -> None:
    from datetime import datetime, timezone

    assert support.report_week(datetime(2026, 11, 30, 7, tzinfo=timezone.utc)) == "2026-W49"
    assert support.report_week(datetime(2026, 12, 1, 7, tzinfo=timezone.utc)) is None


def test_project_is_found_from_the_dag_folder() -> None:
    project = support.Project.locate({})
    assert project.root == PROJECT_ROOT
    assert project.hs_ops == PROJECT_ROOT / ".venv" / "bin" / "hs-ops"
    assert Path(project.dbt_through_ops).stat().st_mode & 0o111
