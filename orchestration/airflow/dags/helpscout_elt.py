"""``helpscout_elt``: load Help Scout, reconcile when due, build with dbt, alert, report.

    load -> reconcile -> dbt (one task per model, with its tests) -> alerts
                                                                  -> report_due -> report

* ``load``: ``hs-ops load run`` (incremental; resumes from the watermark). Retried with
  exponential backoff when the loader exits with a transient code (3 database
  unreachable, 5 API unreachable, 9 API kept failing); failed at once, without retries,
  on anything else, such as 4 (credentials missing or rejected) or 2 (usage).
* ``reconcile``: ``hs-ops load reconcile --if-due`` (tombstones for deleted and merged
  conversations, at most once per ``--every``, 24 h by default; same retry rule).
* ``dbt``: an astronomer-cosmos ``DbtTaskGroup``, one ``dbt build --select <model>`` per
  model (its unit and data tests included), tests with several parents in their own
  tasks after all of them, run by the project's own dbt in ``.venv`` (through
  ``hs-ops dbt``) so Airflow's dependencies and dbt's never meet.
* ``alerts``: ``hs-ops alerts`` (each new volume anomaly sent once); skipped, saying so,
  when no channel is configured (neither HELPSCOUT_WEBHOOK_URL nor HELPSCOUT_SMTP_HOST).
* ``report``: ``hs-ops report``, on Mondays (UTC, from the run's logical date), once a
  week: the week reported is recorded in the Variable ``helpscout_report_week``.

One run at a time (loads must never overlap), no catch-up. Airflow Variables (all
optional): ``helpscout_elt_schedule`` (a cron expression or preset, ``none`` for manual
only; default ``@hourly``; read when the DAG is parsed), ``helpscout_load_args``,
``helpscout_reconcile_args``, ``helpscout_alerts_args``, ``helpscout_report_args``
(extra command-line words, read at run time). Credentials and the database: see
:mod:`helpscout_elt_support` (Airflow connections ``helpscout_api`` and ``helpscout_db``,
else the worker's environment); nothing secret is in this file or in a task's fields.
"""

from __future__ import annotations

import os
import warnings
from datetime import timedelta
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import BaseOperator, Variable, dag, task
from airflow.sdk.exceptions import AirflowException, AirflowFailException, AirflowSkipException
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior
from helpscout_elt_support import (
    Project,
    ToolRun,
    exit_decision,
    export_connections,
    extra_args,
    keep_run_results,
    report_week,
)

DAG_ID = "helpscout_elt"
DEFAULT_SCHEDULE = "@hourly"
REPORT_WEEK_VARIABLE = "helpscout_report_week"
# dbt ls only renders the profile while the DAG is parsed; these stand in for the
# database variables a parsing process may not have (runs get the real ones).
PARSE_PLACEHOLDERS = {"PGHOST": "localhost", "PGUSER": "parse-only", "PGDATABASE": "parse-only"}

PROJECT = Project.locate()


class HsOpsOperator(BaseOperator):
    """Run ``hs-ops <args>`` from the project's virtualenv and judge its exit code.

    ``args_variable`` names a Variable with extra arguments; ``needs_any_env`` skips the
    task when the worker's environment sets none of those variables (alerts with no
    channel configured: nothing to send to is not a failure).
    """

    ui_color = "#d8e9f5"

    def __init__(self, *, hs_ops_args: list[str], args_variable: str | None = None,
                 needs_any_env: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hs_ops_args = hs_ops_args
        self.args_variable = args_variable
        self.needs_any_env = needs_any_env
        self._run: ToolRun | None = None

    def execute(self, context: Any) -> None:
        if self.needs_any_env and not any(os.environ.get(name) for name in self.needs_any_env):
            raise AirflowSkipException(
                f"none of {', '.join(self.needs_any_env)} is set; nothing to send to, skipped")
        args = list(self.hs_ops_args)
        if self.args_variable:
            args += extra_args(Variable.get(self.args_variable, default=""))
        self.log.info("running hs-ops %s", " ".join(args))
        self._run = ToolRun([str(PROJECT.hs_ops), *args], PROJECT.root)
        code = self._run.run(self.log)
        decision = exit_decision(code)
        if decision == "ok":
            return
        message = f"hs-ops {' '.join(self.hs_ops_args)} exited with code {code}"
        if decision == "retry":
            raise AirflowException(f"{message} (transient: retried with backoff)")
        raise AirflowFailException(f"{message} (not retried: the next try would fail alike)")

    def on_kill(self) -> None:
        if self._run is not None:
            self._run.stop()

class ReportOperator(HsOpsOperator):
    """``hs-ops report``, then record the week reported so that it goes out once."""

    def execute(self, context: Any) -> None:
        week = context["ti"].xcom_pull(task_ids="report_due")
        super().execute(context)
        Variable.set(REPORT_WEEK_VARIABLE, week)


def _schedule() -> str | None:
    try:
        value = Variable.get("helpscout_elt_schedule", default=DEFAULT_SCHEDULE)
    except Exception:  # parsed with no metadata database at hand: the default
        value = DEFAULT_SCHEDULE
    value = str(value).strip()
    return None if value.lower() in ("", "none") else value


def _parse_env() -> dict[str, str]:
    return {key: os.environ.get(key) or value for key, value in PARSE_PLACEHOLDERS.items()}


def _artifacts_dir() -> str:
    home = os.environ.get("AIRFLOW_HOME") or str(Path.home() / "airflow")
    return os.environ.get("HELPSCOUT_DBT_ARTIFACTS_DIR") or str(Path(home) / "dbt_artifacts")


def _dbt_group() -> DbtTaskGroup:
    with warnings.catch_warnings():
        # RenderConfig.env_vars is deprecated in favour of ProjectConfig.env_vars, which
        # would also override the runs' real database variables with the placeholders.
        warnings.simplefilter("ignore", DeprecationWarning)
        render = RenderConfig(
            load_method=LoadMode.DBT_LS,
            dbt_executable_path=str(PROJECT.dbt),
            invocation_mode=InvocationMode.SUBPROCESS,
            env_vars=_parse_env(),
            # BUILD: each model's task runs its unit and data tests too; the default
            # makes test tasks only for models with data tests and skips unit tests.
            test_behavior=TestBehavior.BUILD,
            # Relationship and singular tests wait for all their parents, not the first.
            should_detach_multiple_parents_tests=True,
            # Asset URIs need a host; a unix-socket PGHOST fails every task otherwise.
            emit_datasets=False,
        )
    return DbtTaskGroup(
        group_id="dbt",
        project_config=ProjectConfig(PROJECT.dbt_project_dir, install_dbt_deps=False),
        profile_config=ProfileConfig(profile_name="helpscout", target_name="prod",
                                     profiles_yml_filepath=PROJECT.profiles_yml()),
        execution_config=ExecutionConfig(execution_mode=ExecutionMode.LOCAL,
                                         invocation_mode=InvocationMode.SUBPROCESS,
                                         dbt_executable_path=str(PROJECT.dbt_through_ops)),
        render_config=render,
        operator_args={
            "install_deps": False,
            "callback": keep_run_results,
            "callback_args": {"destination": _artifacts_dir()},
        },
        default_args={"retries": 0},
    )


@dag(
    dag_id=DAG_ID,
    schedule=_schedule(),
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["helpscout", "elt", "dbt"],
    doc_md=__doc__,
    default_args={"owner": "helpscout-elt", "pre_execute": export_connections, "retries": 0},
)
def helpscout_elt() -> None:
    transient_retries = {"retries": 4, "retry_delay": timedelta(minutes=1),
                         "retry_exponential_backoff": 2.0,
                         "max_retry_delay": timedelta(minutes=30)}
    load = HsOpsOperator(task_id="load", hs_ops_args=["load", "run"],
                         args_variable="helpscout_load_args", **transient_retries)
    reconcile = HsOpsOperator(task_id="reconcile",
                              hs_ops_args=["load", "reconcile", "--if-due"],
                              args_variable="helpscout_reconcile_args", **transient_retries)
    dbt = _dbt_group()
    alerts = HsOpsOperator(task_id="alerts", hs_ops_args=["alerts"],
                           args_variable="helpscout_alerts_args",
                           needs_any_env=("HELPSCOUT_WEBHOOK_URL", "HELPSCOUT_SMTP_HOST"))

    @task.short_circuit(task_id="report_due")
    def report_due(**context: Any) -> str | None:
        """The ISO week to report when this is a Monday run and that week has not gone out."""
        run = context["dag_run"]
        week = report_week(run.logical_date or run.run_after)
        if week is None or Variable.get(REPORT_WEEK_VARIABLE, default=None) == week:
            return None
        return week

    report = ReportOperator(task_id="report", hs_ops_args=["report"],
                            args_variable="helpscout_report_args")

    load >> reconcile >> dbt >> alerts
    dbt >> report_due() >> report


helpscout_elt()
