"""What the ``helpscout_elt`` DAG needs at run time, kept out of the DAG file.

Airflow runs in its own virtualenv, which does not have this project installed (its pins
and dbt's clash), so every step runs the project's command-line tools from the project's
``.venv`` in a child process and reads their exit codes: the table in ``loader/errors.py``,
repeated here because this module cannot import the project (a test keeps both equal).

Where things come from, never from the DAG file:

* the project checkout: ``HELPSCOUT_PROJECT_DIR`` (default: the checkout holding this
  file), its virtualenv ``HELPSCOUT_VENV`` (default ``<project>/.venv``);
* the Help Scout app: the Airflow connection ``helpscout_api`` when it exists (login = app
  id, password = app secret, extras ``api_url``/``token_url``), else the worker's
  ``HELPSCOUT_APP_ID``/``HELPSCOUT_APP_SECRET``/``HELPSCOUT_API_URL``;
* the database: the Airflow connection ``helpscout_db`` when it exists (a postgres
  connection; its ``schema`` is the database name), else the worker's ``PG*`` variables,
  else what ``hs-ops db env`` resolves (``HELPSCOUT_DATABASE_URL``, or the project's
  embedded PostgreSQL, started on demand).

A connection is turned into environment variables of the task's own process just before
the task runs (:func:`export_connections`), so the child tools, and the dbt that Cosmos
starts, inherit them without any secret passing through a templated (and stored) field.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

# loader/errors.py (see the module docstring for why it is repeated).
EXIT_OK = 0
EXIT_USAGE = 2
EXIT_DATABASE = 3
EXIT_CREDENTIALS = 4
EXIT_API_UNREACHABLE = 5
EXIT_API_FAILED = 9
EXIT_DELIVERY = 12

# Worth another try later: the API or the database was unreachable, the API kept
# failing after the loader's own bounded retries, or the chat service or mail server
# refused an alert or the report (what was not sent is not marked sent). Anything else
# (bad credentials, usage, bad dates, a malformed answer, a bug) fails the same way on
# every try.
TRANSIENT_EXIT_CODES = frozenset({EXIT_DATABASE, EXIT_API_UNREACHABLE, EXIT_API_FAILED,
                                  EXIT_DELIVERY})

API_CONN_ID = "helpscout_api"
DB_CONN_ID = "helpscout_db"

# What the task's child processes must not inherit from the Airflow worker: its own
# settings (fernet key, JWT secret, metadata database URL) are no business of the tools.
_AIRFLOW_ENV_PREFIXES = ("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_VAR_", "_AIRFLOW")


@dataclass(frozen=True)
class Project:
    """The checkout the DAG operates: its tools, its dbt project, its build directory."""

    root: Path
    venv: Path

    @classmethod
    def locate(cls, env: Mapping[str, str] | None = None) -> Project:
        env = os.environ if env is None else env
        default_root = Path(__file__).resolve().parents[3]
        root = Path(env.get("HELPSCOUT_PROJECT_DIR") or default_root).resolve()
        venv = Path(env.get("HELPSCOUT_VENV") or root / ".venv")
        return cls(root=root, venv=venv)

    @property
    def hs_ops(self) -> Path:
        return self.venv / "bin" / "hs-ops"

    @property
    def dbt(self) -> Path:
        """Plain dbt, enough for ``dbt ls`` while the DAG is parsed (no database needed)."""
        return self.venv / "bin" / "dbt"

    @property
    def dbt_through_ops(self) -> Path:
        """dbt behind ``hs-ops dbt``, for the runs: the project's own database choice."""
        return self.root / "orchestration" / "airflow" / "bin" / "hs-dbt"

    @property
    def dbt_project_dir(self) -> Path:
        return self.root / "dbt_project"

    def profiles_yml(self) -> Path:
        """The project's env-reading dbt profile, where Cosmos wants it (a profiles.yml).

        The same copy of ``profiles.yml.example`` that ``hs-ops dbt`` writes, written here
        too because Cosmos checks the file while the DAG is parsed, before any run.
        """
        target = self.root / ".build" / "profiles" / "profiles.yml"
        text = (self.root / "profiles.yml.example").read_text()
        if not target.exists() or target.read_text() != text:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        return target


def exit_decision(code: int) -> str:
    """``ok``, ``retry`` (a transient failure) or ``fail`` (retrying cannot help)."""
    if code == EXIT_OK:
        return "ok"
    return "retry" if code in TRANSIENT_EXIT_CODES else "fail"


def child_env(env: Mapping[str, str]) -> dict[str, str]:
    """The environment for a project tool: the worker's, less Airflow's own settings."""
    return {k: v for k, v in env.items() if not k.startswith(_AIRFLOW_ENV_PREFIXES)}


def api_env(login: str | None, password: str | None, extra: Mapping[str, Any]) -> dict[str, str]:
    """``HELPSCOUT_*`` variables from a ``helpscout_api`` connection's fields."""
    env: dict[str, str] = {}
    if login:
        env["HELPSCOUT_APP_ID"] = login
    if password:
        env["HELPSCOUT_APP_SECRET"] = password
    for key, variable in (("api_url", "HELPSCOUT_API_URL"), ("token_url", "HELPSCOUT_TOKEN_URL")):
        if extra.get(key):
            env[variable] = str(extra[key])
    return env


def database_env(host: str | None, port: int | None, login: str | None, password: str | None,
                 schema: str | None, extra: Mapping[str, Any]) -> dict[str, str]:
    """``PG*`` variables from a ``helpscout_db`` (postgres) connection's fields."""
    env = {"PGHOST": host or "localhost", "PGPORT": str(port or 5432)}
    if login:
        env["PGUSER"] = login
    if password:
        env["PGPASSWORD"] = password
    if schema:
        env["PGDATABASE"] = schema
    if extra.get("sslmode"):
        env["PGSSLMODE"] = str(extra["sslmode"])
    return env


def export_connections(context: Any = None) -> None:
    """Put the ``helpscout_api``/``helpscout_db`` connections, if any, into os.environ.

    Used as every task's ``pre_execute``: the task's process is its own, so this touches
    nothing else. A missing connection leaves the environment as the worker set it.
    """
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException
    from airflow.sdk.log import mask_secret

    try:
        api = Connection.get(API_CONN_ID)
    except AirflowNotFoundException:
        api = None
    if api is not None:
        if api.password:
            mask_secret(api.password)
        os.environ.update(api_env(api.login, api.password, api.extra_dejson))
    try:
        db = Connection.get(DB_CONN_ID)
    except AirflowNotFoundException:
        db = None
    if db is not None:
        if db.password:
            mask_secret(db.password)
        os.environ.pop("HELPSCOUT_DATABASE_URL", None)  # it would win over PG*
        for key in ("PGPASSWORD", "PGSSLMODE", "PGSERVICE"):
            os.environ.pop(key, None)
        os.environ.update(database_env(db.host, db.port, db.login, db.password, db.schema,
                                       db.extra_dejson))
    if not os.environ.get("PGHOST"):
        # Cosmos renders the dbt profile in this process after dbt ran (for lineage), so
        # the database must be in PG* here too, not only in the choice hs-ops makes.
        os.environ.update(project_database_env(Project.locate()))


def project_database_env(project: Project) -> dict[str, str]:
    """``PG*`` of the database the project resolves (``HELPSCOUT_DATABASE_URL``, or the
    embedded PostgreSQL, started if needed): ``hs-ops db env``."""
    from airflow.sdk.exceptions import AirflowException

    done = subprocess.run([str(project.hs_ops), "db", "env"], cwd=project.root,
                          env=child_env(os.environ), capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise AirflowException(f"hs-ops db env exited with code {done.returncode}: {last}")
    pairs = (line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    return {key: value for key, value in pairs if key.startswith("PG")}


def extra_args(text: str | None) -> list[str]:
    """Extra command-line arguments from a Variable (shell words)."""
    return shlex.split(text or "")


@dataclass
class ToolRun:
    """One run of a project tool with its output streamed into the task log."""

    command: Sequence[str]
    cwd: Path
    process: subprocess.Popen[str] | None = None

    def run(self, log: Any) -> int:
        self.process = subprocess.Popen(
            list(self.command), cwd=self.cwd, env=child_env(os.environ), text=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        )
        assert self.process.stdout is not None
        for line in self.process.stdout:
            log.info("%s", line.rstrip("\n"))
        return self.process.wait()

    def stop(self) -> None:
        """SIGINT first (the loader then commits nothing half-done), SIGKILL if it hangs."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGINT)
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        except ProcessLookupError:
            pass


def report_week(moment: datetime) -> str | None:
    """The ISO week a Monday run reports on (``2026-W49``); None on other days."""
    if moment.weekday() != 0:
        return None
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def keep_run_results(project_dir: str, *, context: Any, destination: str) -> None:
    """Cosmos callback: keep each dbt task's ``run_results.json`` after its temporary
    project directory is deleted, as ``<destination>/<run id>/<task id>.json``.

    What each node did, how long it took and which test failed, per run, for whoever
    investigates a run later (and for the tests, which count what dbt actually ran).
    """
    source = Path(project_dir) / "target" / "run_results.json"
    if not source.is_file():
        return
    run_dir = Path(destination) / _safe(str(context["run_id"]))
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / f"{_safe(context['ti'].task_id)}.json").write_text(source.read_text())


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]", "_", name)
