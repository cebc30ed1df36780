"""A sandbox account with planted volume anomalies, loaded over HTTP and built.

History from 2025-01-01 to Tuesday 2025-06-03 14:00 UTC, the day of a monthly
mass mailing (the sandbox sends one on the 3rd of each month at 09:00 UTC, and
its replies flood the "Factures" mailbox). Before the load, every conversation
but one that the dominant mailbox received on Tuesday 2025-05-13 is hard-deleted:
a near-silent day. The real loader reads the account over HTTP up to the end of
its history (``--until``), so the data watermark stops there and 2025-06-03 is
the unfinished day of the data.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from loader import cli as loader_cli
from loader.connection import Database
from ops.dbt import run_dbt
from sandbox import Sandbox

START = "2025-01-01"
END = datetime(2025, 6, 3, 14, 0, tzinfo=timezone.utc)
SILENT_DAY = date(2025, 5, 13)
CAMPAIGN_DAY_UNFINISHED = END.date()
DOMINANT_MAILBOX = 80_000  # "Atenció a les persones sòcies", 64 % of the volume
CAMPAIGN_MAILBOX = 80_011  # "Factures": the mass mailing's replies land there


@dataclass
class Scenario:
    sandbox: Sandbox
    database: Database
    workdir: Path
    timings: dict[str, float]

    def dbt(self, *args: str) -> str:
        env = {**os.environ, "DBT_TARGET_PATH": str(self.workdir / "target"),
               "DBT_LOG_PATH": str(self.workdir / "logs")}
        # the sandbox's customers at its own domain are internal, as a real setup says
        dbt_vars = json.dumps({"internal_email_domains": [self.sandbox.account.internal_domain]})
        done = run_dbt([*args, "--vars", dbt_vars], self.database, env=env, capture=True)
        assert done.returncode == 0, done.stdout[-4000:]
        return done.stdout

    def load(self, *extra: str, resume: bool = False) -> None:
        """hs-load run over HTTP: the whole history, or on from the watermark (``resume``)."""
        sb = self.sandbox
        since = () if resume else ("--since", START)
        env = {"HELPSCOUT_APP_ID": sb.client_id, "HELPSCOUT_APP_SECRET": sb.client_secret}
        with _environ(env):
            code = loader_cli.main(["run", "--api-url", sb.base_url, "--token-url", sb.token_url,
                                    *since, "--lag", "0s", *extra],
                                   database=self.database)
        assert code == 0

    def execute(self, statement: str) -> None:
        conn = self.database.connect()
        try:
            with conn.cursor() as cur:
                cur.execute(statement)
            conn.commit()
        finally:
            conn.close()

    def query(self, statement: str, params: tuple = ()) -> list[tuple]:
        conn = self.database.connect()
        try:
            with conn.cursor() as cur:
                cur.execute(statement, params)
                return cur.fetchall()
        finally:
            conn.close()


@contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    previous = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def silence(sb: Sandbox, mailbox_id: int, day: date, keep: int = 1) -> int:
    """Hard-delete all but ``keep`` of the conversations ``mailbox_id`` received on ``day``."""
    start = int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp())
    ids = sorted(c.id for c in sb.account.conversations.values()
                 if c.mailbox_id == mailbox_id and start <= c.created_at < start + 86400)
    for conversation_id in ids[keep:]:
        assert sb.change("hard_delete", conversation_id) is not None
    return len(ids) - keep


@contextmanager
def built_scenario(database: Database, workdir: Path, *, select: tuple[str, ...]
                   ) -> Iterator[Scenario]:
    """The account loaded up to END and ``dbt run`` on ``select``; the sandbox keeps serving."""
    timings: dict[str, float] = {}
    started = time.monotonic()
    with Sandbox(size=6000, seed=3, start=START, now=END, rate_limit=0) as sb:
        timings["sandbox"] = time.monotonic() - started
        assert silence(sb, DOMINANT_MAILBOX, SILENT_DAY) >= 15
        scenario = Scenario(sb, database, workdir, timings)
        started = time.monotonic()
        scenario.load("--until", END.strftime("%Y-%m-%dT%H:%M:%SZ"))
        timings["load"] = time.monotonic() - started
        started = time.monotonic()
        scenario.dbt("run", "--select", *select)
        timings["dbt"] = time.monotonic() - started
        yield scenario


def day_end(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc) + timedelta(days=1)
