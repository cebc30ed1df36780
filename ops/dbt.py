"""Run dbt against the database :mod:`ops.database` chose, with no profile to copy.

``hs-ops dbt build`` writes a profile equivalent to
``profiles.yml.example`` under ``.build/profiles`` (values still read from the
environment, so no secret lands on disk), puts the chosen database in the child's
``PG*`` variables and runs the ``dbt`` next to this interpreter on ``dbt_project/``.

``DBT_TARGET_PATH`` and ``DBT_LOG_PATH`` may point elsewhere so that concurrent
invocations (parallel tests, the bench) do not share ``target/``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from loader.connection import Database
from ops.database import PROJECT_ROOT, resolve

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
PROFILE_TEMPLATE = PROJECT_ROOT / "profiles.yml.example"
PROFILES_DIR = PROJECT_ROOT / ".build" / "profiles"
PERSONAL_DATA_KEY_VARIABLE = "HELPSCOUT_PERSONAL_DATA_KEY"


def write_profile(profiles_dir: Path = PROFILES_DIR) -> Path:
    """Copy the env-reading example profile into place (idempotent)."""
    profiles_dir.mkdir(parents=True, exist_ok=True)
    target = profiles_dir / "profiles.yml"
    text = PROFILE_TEMPLATE.read_text()
    if not target.exists() or target.read_text() != text:
        # Whole or not at all: a dbt started by another process may be reading it.
        partial = target.with_name(f".{target.name}.{os.getpid()}")
        partial.write_text(text)
        partial.replace(target)
    return profiles_dir


def dbt_env(database: Database, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for a dbt child process talking to ``database``."""
    env = dict(os.environ if base is None else base)
    # An unset password must not leak in from a stale PGPASSWORD of the parent.
    for key in ("PGPASSWORD", "PGSSLMODE", "PGSERVICE"):
        env.pop(key, None)
    env.update(database.libpq_env())
    # The personal-data key reaches SQL as a session setting, never as SQL text (dbt
    # writes compiled SQL to target/) and never as a dbt var (dbt records those).
    personal_key = env.pop(PERSONAL_DATA_KEY_VARIABLE, None)
    if personal_key:
        escaped = personal_key.replace("\\", "\\\\").replace(" ", "\\ ")
        options = env.get("PGOPTIONS", "")
        env["PGOPTIONS"] = f"{options} -c helpscout.personal_data_key={escaped}".strip()
    env.setdefault("DBT_PROFILES_DIR", str(write_profile()))
    # This machine (and many CI runners) has no internet: never try to phone home.
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    env["DO_NOT_TRACK"] = "1"
    return env


def dbt_executable() -> str:
    local = Path(sys.executable).with_name("dbt")
    return str(local) if local.exists() else (shutil.which("dbt") or "dbt")


def run_dbt(
    args: Sequence[str],
    database: Database | None = None,
    *,
    env: Mapping[str, str] | None = None,
    check: bool = False,
    capture: bool = False,
) -> subprocess.CompletedProcess:
    """Run ``dbt <args>`` on the project; tests pass their own throwaway database."""
    database = database or resolve()
    child_env = dbt_env(database, env)
    command = [dbt_executable(), *args]
    if "--project-dir" not in args:
        command += ["--project-dir", str(DBT_PROJECT_DIR)]
    return subprocess.run(
        command, env=child_env, check=check, text=True, capture_output=capture,
        cwd=str(DBT_PROJECT_DIR),
    )
