"""``make demo``: a fresh clone to built, documented marts in one command.

Starts a sandbox Help Scout account in-process, loads it with the real loader over
HTTP into the configured database (the embedded PostgreSQL by default), runs
``dbt build`` and ``dbt docs generate``, and prints what was built.

The demo refuses to write into a lake that a real Help Scout account filled: a
demo account mixed into production data would be worse than no demo.

The account's history ends at today's midnight (UTC), so every demo of one day
serves the same account. A lake whose watermark already reaches that midnight
holds all of it: the load then resumes after the watermark like any later run
(and finds nothing new) instead of appending a second copy of the account. On a
later day the sandbox generates a newer account, which is read in full.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import datetime, timedelta, timezone

from loader.connection import Database
from loader.lake import RunLog
from loader.windows import watermark
from ops.dbt import run_dbt

MARTS = ("conversations", "conversation_tags", "conversation_custom_fields", "threads", "tags",
         "mailboxes", "users", "customers", "teams", "team_members", "satisfaction_ratings")


def _lake_has_foreign_runs(database: Database) -> str | None:
    """The API URL of an earlier non-sandbox load into this lake, if any."""
    conn = database.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("select to_regclass('helpscout_raw.load_runs') is not null")
            if not cur.fetchone()[0]:
                return None
            cur.execute(
                "select api_base_url from helpscout_raw.load_runs"
                " where api_base_url is not null"
                "   and api_base_url not like 'http://127.0.0.1:%%'"
                "   and api_base_url not like 'http://localhost:%%' limit 1"
            )
            row = cur.fetchone()
            return row[0] if row else None
    finally:
        conn.close()


def _lake_watermark(database: Database) -> datetime | None:
    """The lake's conversations watermark (as ``hs-load status`` reports it), if any."""
    conn = database.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("select to_regclass('helpscout_raw.load_windows') is not null")
            if not cur.fetchone()[0]:
                return None
        return watermark(RunLog().completed_windows(conn))
    finally:
        conn.close()


def _headlines(database: Database) -> list[str]:
    conn = database.connect()
    lines: list[str] = []
    try:
        with conn.cursor() as cur:
            for mart in MARTS:
                cur.execute(f"select count(*) from helpscout.{mart}")
                lines.append(f"  helpscout.{mart:<18} {cur.fetchone()[0]:>9,} rows")
            cur.execute(
                """
                select
                    count(*) filter (where not is_spam and not is_deleted),
                    count(*) filter (where status = 'closed'),
                    percentile_cont(0.5) within group (order by first_response_minutes),
                    percentile_cont(0.5) within group (order by resolution_minutes)
                from helpscout.conversations
                """
            )
            total, closed, frt, res = cur.fetchone()
            cur.execute(
                """
                select m.mailbox_name, count(*)
                from helpscout.conversations as c
                inner join helpscout.mailboxes as m on c.mailbox_id = m.mailbox_id
                where not c.is_spam and not c.is_deleted
                group by m.mailbox_name
                order by count(*) desc
                limit 1
                """
            )
            busiest = cur.fetchone()
    finally:
        conn.close()
    lines += [
        "",
        f"  conversations (not spam, not deleted): {total:,}; closed: {closed:,}",
        f"  median first response: {float(frt or 0) / 60:.1f} h;"
        f" median resolution: {float(res or 0) / 60 / 24:.1f} days",
    ]
    if busiest:
        lines.append(f"  busiest mailbox: {busiest[0]} ({busiest[1]:,} conversations)")
    return lines


def run_demo(database: Database, *, size: int = 3000, seed: int = 42, days: int = 365) -> int:
    """Sandbox, load, build, docs; returns the exit code (hs-load's table)."""
    started = time.monotonic()
    code = load_demo_account(database, size=size, seed=seed, days=days)
    if code != 0:
        return code
    print("3/4 dbt build (staging, marts, KPI marts and their tests)")
    if run_dbt(["build"], database).returncode != 0:
        print("error: dbt build failed (see the log above)", file=sys.stderr)
        return 1
    print("4/4 dbt docs generate")
    if run_dbt(["docs", "generate"], database).returncode != 0:
        print("error: dbt docs generate failed (see the log above)", file=sys.stderr)
        return 1
    print()
    print(f"Built in {time.monotonic() - started:.0f} s, in {database.describe()}:")
    print("\n".join(_headlines(database)))
    print()
    print("Next: `make docs` serves the documentation on http://127.0.0.1:8080,")
    print("      `make report` prints last week's summary, `make db-shell` opens psql.")
    return 0


def load_demo_account(database: Database, *, size: int, seed: int, days: int) -> int:
    """Steps 1 and 2: serve today's sandbox account and load it (then reconcile).
    Reads the account whole unless the lake already holds it (see the module's
    docstring); returns the exit code."""
    from loader import cli as loader_cli
    from sandbox import Sandbox

    foreign = _lake_has_foreign_runs(database)
    if foreign:
        print(f"error: {database.describe()} already holds a lake loaded from {foreign};"
              " the demo will not mix a sandbox account into it (point PG*/"
              "HELPSCOUT_DATABASE_URL at another database)", file=sys.stderr)
        return 2

    # History ends at today's midnight, so two demos on one day load the same account.
    now = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    start = now - timedelta(days=days)
    mark = _lake_watermark(database)
    resume = mark is not None and mark >= now
    print(f"1/4 sandbox Help Scout account: {size:,} conversations since {start:%Y-%m-%d}")
    with Sandbox(size=size, seed=seed, start=start, now=now, rate_limit=0) as sb:
        env = {"HELPSCOUT_APP_ID": sb.client_id, "HELPSCOUT_APP_SECRET": sb.client_secret}
        previous = {key: os.environ.get(key) for key in env}
        os.environ.update(env)
        try:
            print(f"2/4 loading it over HTTP from {sb.base_url} into {database.describe()}")
            common = ["--api-url", sb.base_url, "--token-url", sb.token_url]
            if resume:
                print("    the lake already holds today's account (watermark"
                      f" {mark:%Y-%m-%d %H:%M:%S} UTC): resuming after it")
                since: list[str] = []
            else:  # a new day's account: read it whole
                since = ["--since", start.strftime("%Y-%m-%d")]
            code = loader_cli.main(["run", *common, *since, "--lag", "0s"], database=database)
            if code == 0:
                code = loader_cli.main(["reconcile", *common], database=database)
        finally:
            for key, value in previous.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    return code
