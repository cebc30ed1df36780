"""``make demo`` twice in a day: the second load resumes instead of copying the account again.

Only the demo's loading steps run here (the sandbox account over HTTP into a
throwaway lake); its dbt build is the same as every other build's.
"""

from __future__ import annotations

import pytest

from loader.connection import Database
from ops.demo import load_demo_account


def _lake_counts(database: Database) -> tuple[int, int]:
    conn = database.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("select count(*) from helpscout_raw.conversations")
            copies = cur.fetchone()[0]
            cur.execute("select count(*) from helpscout_raw.load_runs"
                        " where command = 'run' and status = 'succeeded'")
            runs = cur.fetchone()[0]
        return copies, runs
    finally:
        conn.close()


def test_second_demo_of_the_day_resumes(pg_database: Database,
                                        capsys: pytest.CaptureFixture) -> None:
    assert load_demo_account(pg_database, size=120, seed=3, days=30) == 0
    first_copies, first_runs = _lake_counts(pg_database)
    assert first_copies >= 100 and first_runs == 1
    assert "resuming" not in capsys.readouterr().out

    assert load_demo_account(pg_database, size=120, seed=3, days=30) == 0
    copies, runs = _lake_counts(pg_database)
    assert runs == 2  # it did load, after the watermark
    assert copies == first_copies  # and found nothing new: no second copy of the account
    assert "resuming after it" in capsys.readouterr().out
