"""No secret leaks: a load, reconcile, build and docs with a recognisable app secret.

The loader runs as ``make load`` runs it (``hs-ops load``), at its most verbose, and
also once with a wrong secret (the failure path quotes errors). Afterwards every
line it printed, every file dbt wrote (target/, logs) and every text cell of the
database (the lake's run log with its arguments and errors included) is searched
for the app secret and for every bearer token the sandbox issued. The Airflow and
Superset tests search their own homes the same way (tests/secret_scan.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from loader.connection import Database
from ops.database import PROJECT_ROOT
from ops.dbt import run_dbt
from sandbox import Sandbox
from tests.loader.kit import database_url
from tests.secret_scan import cells_containing, files_containing

pytestmark = pytest.mark.slow


def test_no_secret_or_token_anywhere(pg_database: Database, tmp_path: Path) -> None:
    secret = f"canary-secret-{uuid.uuid4().hex}"
    outputs = tmp_path / "outputs"
    outputs.mkdir()
    with Sandbox(size=150, seed=3, start="2025-01-01", rate_limit=0,
                 client_secret=secret) as sb:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "HELPSCOUT_"))}
        env.update(HELPSCOUT_DATABASE_URL=database_url(pg_database),
                   HELPSCOUT_APP_ID=sb.client_id, HELPSCOUT_APP_SECRET=secret,
                   HELPSCOUT_API_URL=sb.base_url, HELPSCOUT_TOKEN_URL=sb.token_url,
                   DBT_TARGET_PATH=str(tmp_path / "target"), DBT_LOG_PATH=str(tmp_path / "logs"))
        runs = [
            ["load", "run", "-vv", "--since", "2024-12-01", "--lag", "0", "--retry-backoff", "0"],
            ["load", "reconcile", "-vv", "--retry-backoff", "0"],
            ["load", "status"],
        ]
        for number, args in enumerate(runs):
            done = subprocess.run([sys.executable, "-m", "ops", *args], env=env, cwd=PROJECT_ROOT,
                                  capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, done.stderr[-2000:]
            (outputs / f"{number}.txt").write_text(done.stdout + done.stderr)
        # The failure path: a secret that is almost right, quoted nowhere either.
        wrong = {**env, "HELPSCOUT_APP_SECRET": secret + "-wrong"}
        done = subprocess.run([sys.executable, "-m", "ops", "load", "run", "-vv"], env=wrong,
                              cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode == 4, done.stderr[-2000:]
        (outputs / "wrong.txt").write_text(done.stdout + done.stderr)
        tokens = sb.issued_tokens()
    assert tokens, "the loader never obtained a token"

    for command in (["build", "--exclude", "test_type:unit"], ["docs", "generate"]):
        built = run_dbt(command, pg_database, env=env, capture=True)
        assert built.returncode == 0, built.stdout[-3000:]
        (outputs / f"dbt-{command[0]}.txt").write_text(built.stdout + built.stderr)

    assert (tmp_path / "target" / "catalog.json").exists()
    secrets = [secret, *tokens]
    assert files_containing([tmp_path], secrets) == []
    assert cells_containing(pg_database, secrets) == []


def test_the_scan_finds_what_it_looks_for(pg_database: Database, tmp_path: Path) -> None:
    """The leak checks above would notice a leak (so a pass means something)."""
    secret = f"canary-secret-{uuid.uuid4().hex}"
    (tmp_path / "a.log").write_text(f"token={secret}\n")
    conn = pg_database.connect()
    with conn.cursor() as cur:
        cur.execute("create table leak (note jsonb)")
        cur.execute("insert into leak values (%s)", (f'{{"x": "{secret}"}}',))
    conn.commit()
    conn.close()
    assert len(files_containing([tmp_path], [secret])) == 1
    assert cells_containing(pg_database, [secret]) == ["public.leak.note: secret #0"]
