"""An Airflow of the tests' own: Airflow's virtualenv, a throwaway home, SQLite metadata.

``make test`` creates the virtualenv (``.build/airflow-venv``) before pytest runs; without
it these tests fail and say how to make it. Airflow is driven through its command line
(``airflow dags test``) and :mod:`tests.orchestration.airflow_probe`, both with Airflow's
interpreter, since the project's own has no Airflow.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ops.airflow import AIRFLOW_VENV, LocalAirflow

PROBE = Path(__file__).with_name("airflow_probe.py")


@dataclass
class AirflowHome:
    """One Airflow home and the environment every command in it runs with."""

    local: LocalAirflow
    env: dict[str, str]

    def run(self, *args: str, extra_env: Mapping[str, str] | None = None,
            timeout: float = 1200) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(self.local.venv / "bin" / "airflow"), *args],
                              env={**self.env, **(extra_env or {})}, capture_output=True,
                              text=True, timeout=timeout)

    def probe(self, *args: str, extra_env: Mapping[str, str] | None = None) -> Any:
        done = subprocess.run([str(self.local.venv / "bin" / "python"), str(PROBE), *args],
                              env={**self.env, **(extra_env or {})}, capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])


def clean_environment() -> dict[str, str]:
    """The test process's environment less anything naming a database, an account or
    an Airflow: every test says exactly which ones it uses."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("PG", "HELPSCOUT_", "AIRFLOW", "_AIRFLOW"))}


def make_home(path: Path) -> AirflowHome:
    if not (AIRFLOW_VENV / "bin" / "airflow").exists():
        pytest.fail(f"no Airflow virtualenv at {AIRFLOW_VENV}: run `make airflow-venv`"
                    " (`make test` does)")
    local = LocalAirflow(home=path)
    local.prepare()
    home = AirflowHome(local, local.environment(clean_environment()))
    done = home.run("db", "migrate", timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return home


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory) -> AirflowHome:
    """A migrated Airflow home shared by the tests that only parse the DAG folder."""
    return make_home(tmp_path_factory.mktemp("airflow-home"))
