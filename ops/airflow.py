"""A local Airflow that runs the ``helpscout_elt`` DAG: ``make airflow`` / ``make airflow-stop``.

Airflow lives in its own virtualenv (``.build/airflow-venv``, from
``orchestration/airflow/requirements.txt``; ``make airflow-venv``), never in ``.venv``:
its pins and dbt's clash. Its home is ``.build/airflow`` (SQLite metadata, logs, the
generated ``airflow.cfg`` with its keys, mode 0600), its DAG folder
``orchestration/airflow/dags``.

``hs-ops airflow start`` runs ``airflow standalone`` in a process group of its own,
detached, with its output in ``.build/airflow/standalone.log``, and waits until the API
server answers on 127.0.0.1. What the trial runs taught, each silent otherwise:

* ``standalone`` starts its parts as a bare ``airflow``, so the virtualenv's ``bin`` goes
  first on PATH; there, a shim adds ``--skip-serve-logs`` to the scheduler and the
  triggerer, whose log servers would listen on every interface (their host is not
  configurable). The UI reads the task logs from the files in the home instead.
* parallelism is low (2): otherwise the local executor forks dozens of workers (~5.5 GiB).
* ``stop`` signals the whole process group: signalling the parent alone orphans the
  scheduler, the API server and the task processes.

Without Help Scout credentials in the environment, a sandbox account is served (in the
same process group) so that a triggered run has something to load.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ops.database import PROJECT_ROOT

AIRFLOW_VENV = PROJECT_ROOT / ".build" / "airflow-venv"
AIRFLOW_HOME = PROJECT_ROOT / ".build" / "airflow"
DAGS_FOLDER = PROJECT_ROOT / "orchestration" / "airflow" / "dags"
DEFAULT_PORT = 8081
ADMIN_USER = "admin"
PARALLELISM = 2

_SHIM = """#!/bin/sh
# Written by ops/airflow.py: `airflow standalone` runs its parts as a bare `airflow`;
# this one keeps the scheduler's and triggerer's log servers (all interfaces) off.
case "$1" in
  scheduler|triggerer) exec "{airflow}" "$@" --skip-serve-logs ;;
  *) exec "{airflow}" "$@" ;;
esac
"""


class AirflowError(RuntimeError):
    """Airflow cannot be set up or started (one-line message)."""


@dataclass(frozen=True)
class LocalAirflow:
    """One Airflow home and how to reach its API server."""

    home: Path = AIRFLOW_HOME
    venv: Path = AIRFLOW_VENV
    port: int = DEFAULT_PORT

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def password_file(self) -> Path:
        return self.home / "admin-password.json"

    @property
    def pid_file(self) -> Path:
        return self.home / "standalone.pid"

    @property
    def log_file(self) -> Path:
        return self.home / "standalone.log"

    @property
    def shim_dir(self) -> Path:
        return self.home / "bin"

    def airflow(self) -> Path:
        executable = self.venv / "bin" / "airflow"
        if not executable.exists():
            raise AirflowError(f"no Airflow virtualenv at {self.venv}: run `make airflow-venv`")
        return executable

    def environment(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """Airflow's settings as environment variables (they win over ``airflow.cfg``)."""
        env = dict(os.environ if base is None else base)
        env.update({
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__PARALLELISM": str(PARALLELISM),
            "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": str(PARALLELISM),
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            # The first parse runs `dbt ls` (10-30 s on a busy machine; Cosmos then caches
            # it in a Variable): Airflow's 30 s import timeout would call it a broken DAG.
            "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "180",
            "AIRFLOW__DAG_PROCESSOR__DAG_FILE_PROCESSOR_TIMEOUT": "240",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.password_file),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API__BASE_URL": self.url,
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.home / 'airflow.db'}",
            # No phoning home from an offline machine (Airflow's and Cosmos's usage data).
            "AIRFLOW__USAGE_DATA_COLLECTION__ENABLED": "False",
            "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
            # Cosmos keeps dbt's partial-parse cache in /tmp/cosmos by default, shared by
            # every Airflow on the machine; each home gets its own.
            "AIRFLOW__COSMOS__CACHE_DIR": str(self.home / "cosmos_cache"),
            "SCARF_ANALYTICS": "false",
            "DO_NOT_TRACK": "1",
            "HELPSCOUT_PROJECT_DIR": str(PROJECT_ROOT),
            "PATH": os.pathsep.join([str(self.shim_dir), str(self.venv / "bin"),
                                     env.get("PATH", "")]),
        })
        return env

    def prepare(self) -> str | None:
        """Create the home, the PATH shim and the admin password; the password if new."""
        self.home.mkdir(parents=True, exist_ok=True)
        self.shim_dir.mkdir(exist_ok=True)
        shim = self.shim_dir / "airflow"
        shim.write_text(_SHIM.format(airflow=self.airflow()))
        shim.chmod(0o755)
        if self.password_file.exists():
            return None
        password = secrets.token_urlsafe(18)
        fd = os.open(self.password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump({ADMIN_USER: password}, out)
        return password

    def running_pid(self) -> int | None:
        """The process group leader of a standalone started here, if it still runs."""
        try:
            pid = int(self.pid_file.read_text().strip())
            os.kill(pid, 0)
        except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
            return None
        return pid

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/api/v2/monitor/health", timeout=3) as r:
                return r.status == 200
        except (urllib.error.URLError, OSError):
            return False


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _sandbox_env(env: dict[str, str]) -> tuple[dict[str, str], list[str] | None]:
    """Without credentials, a sandbox account to load (its fake secret guards nothing)."""
    if env.get("HELPSCOUT_APP_ID") or env.get("HELPSCOUT_APP_SECRET"):
        return env, None
    from sandbox.core import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

    port = _free_port()
    env = {**env, "HELPSCOUT_APP_ID": DEFAULT_CLIENT_ID,
           "HELPSCOUT_APP_SECRET": DEFAULT_CLIENT_SECRET,
           "HELPSCOUT_API_URL": f"http://127.0.0.1:{port}/v2"}
    command = [sys.executable, "-m", "sandbox", "serve", "--port", str(port), "--size", "3000",
               "--change-every", "60"]
    return env, command


def start(local: LocalAirflow, *, timeout: float = 300.0) -> int:
    """Start ``airflow standalone`` unless it already runs; wait until it answers."""
    if (pid := local.running_pid()) is not None:
        state = "ready" if local.healthy() else "starting"
        print(f"Airflow already running (process group {pid}, {state}) at {local.url}")
        print(f"login: {ADMIN_USER}, password in {local.password_file}")
        return 0
    if not _port_free(local.port):
        raise AirflowError(f"port {local.port} is in use: set AIRFLOW_PORT to another one")
    password = local.prepare()
    env, sandbox = _sandbox_env(local.environment())
    standalone = f'exec "{local.airflow()}" standalone'
    script = standalone if sandbox is None else (
        " ".join(f'"{part}"' for part in sandbox) + " >/dev/null & " + standalone)
    with open(local.log_file, "ab") as log:
        process = subprocess.Popen(["/bin/sh", "-c", script], env=env, cwd=PROJECT_ROOT,
                                   stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    local.pid_file.write_text(f"{process.pid}\n")
    print(f"starting Airflow at {local.url} (log: {local.log_file})", flush=True)
    if sandbox is not None:
        print(f"no HELPSCOUT_APP_ID/SECRET set: loading a sandbox account at "
              f"{env['HELPSCOUT_API_URL']}", flush=True)
    deadline = time.monotonic() + timeout
    while not local.healthy():
        if process.poll() is not None:
            local.pid_file.unlink(missing_ok=True)
            raise AirflowError(f"airflow standalone exited with {process.returncode};"
                               f" see {local.log_file}")
        if time.monotonic() > deadline:
            raise AirflowError(f"Airflow did not answer within {timeout:.0f}s;"
                               f" see {local.log_file} (`make airflow-stop` to stop it)")
        time.sleep(2)
    print(f"Airflow is up at {local.url}; DAG helpscout_elt (paused until you unpause it"
          " or trigger it)")
    if password is not None:
        print(f"login: {ADMIN_USER} / {password}  (shown once; kept in {local.password_file},"
              " mode 0600)")
    else:
        print(f"login: {ADMIN_USER}, password in {local.password_file}")
    return 0


def stop(local: LocalAirflow, *, timeout: float = 30.0) -> bool:
    """Stop the whole process group of a standalone started here; True if one ran."""
    pid = local.running_pid()
    if pid is None:
        local.pid_file.unlink(missing_ok=True)
        return False
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and _group_alive(pid):
            time.sleep(0.5)
        if not _group_alive(pid):
            break
    local.pid_file.unlink(missing_ok=True)
    return True


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    # A zombie leader still counts as alive here; reap it if it is our child.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pgid, os.WNOHANG)
    return True
