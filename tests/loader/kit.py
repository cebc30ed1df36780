"""Loader test helpers: a throwaway lake, and the loader run against a sandbox.

Expected values always come from the sandbox's ground truth (``sb.truth()``) or
from SQL over the lake, never from numbers copied out of a run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from loader.cli import main
from loader.connection import Database
from ops.database import PROJECT_ROOT
from sandbox import Sandbox

# Fast, deterministic loader settings for tests: no lag behind now, no overlap, tiny
# backoff. The sandbox's history starts 2025-01-01; --since skips the empty years.
FAST = ["--lag", "0", "--overlap", "0", "--retry-backoff", "0.01", "--timeout", "10"]
SINCE = ["--since", "2024-12-01"]


def database_url(database: Database) -> str:
    user = quote(database.user)
    password = f":{quote(database.password)}" if database.password else ""
    if database.host.startswith("/"):
        return (f"postgresql://{user}{password}@/{database.dbname}"
                f"?host={quote(database.host)}&port={database.port}")
    return f"postgresql://{user}{password}@{database.host}:{database.port}/{database.dbname}"


def settle(sb: Sandbox) -> None:
    """Wait until the sandbox's latest change is at least one second old.

    A run's windows end one second before now (a change stamped in the current
    second could land behind the read), so a change is in reach from the next second.
    """
    latest = max(sb.truth().modified_at.values()).timestamp()
    delay = latest + 1.05 - time.time()
    if delay > 0:
        time.sleep(delay)


def normalise(conversation: dict[str, Any]) -> dict[str, Any]:
    """A conversation without the tag and customer names embedded in it.

    A conversation carries the tag's and the customer's names as they were when that
    copy was fetched; renaming a tag or a customer does not modify the conversation
    (its modifiedAt stays), so only ids, colours and addresses are comparable with
    the current truth.
    """
    out = json.loads(json.dumps(conversation))
    out["tags"] = sorted(({k: v for k, v in t.items() if k != "tag"} for t in out["tags"]),
                         key=lambda t: t["id"])
    _drop_customer_names(out)
    return out


def _drop_customer_names(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("type") == "customer":
            node.pop("first", None)
            node.pop("last", None)
        for value in node.values():
            _drop_customer_names(value)
    elif isinstance(node, list):
        for value in node:
            _drop_customer_names(value)


@dataclass
class Lake:
    """Read-only SQL over one test's lake."""

    database: Database
    schema: str = "helpscout_raw"

    def query(self, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        conn = self.database.connect()
        try:
            with conn.cursor() as cur:
                cur.execute(statement.replace("{s}", self.schema), params)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()

    def latest(self, table: str) -> dict[int, dict[str, Any]]:
        """Latest copy of every entity: greatest (extracted_at, lake_id)."""
        rows = self.query(f"select distinct on (entity_id) entity_id, payload from {{s}}.{table}"
                          " order by entity_id, extracted_at desc, lake_id desc")
        return dict(rows)

    def latest_live_conversations(self) -> dict[int, dict[str, Any]]:
        """Latest copies of the conversations not tombstoned after that copy."""
        rows = self.query("""
            select c.entity_id, c.payload from (
                select distinct on (entity_id) entity_id, payload, extracted_at
                from {s}.conversations order by entity_id, extracted_at desc, lake_id desc
            ) c
            where not exists (select 1 from {s}.conversation_tombstones t
                              where t.entity_id = c.entity_id and t.detected_at > c.extracted_at)
        """)
        return dict(rows)

    def windows(self, stream: str = "conversations") -> list[tuple[Any, ...]]:
        return self.query("select run_id, window_start, window_end, status, rows_loaded, error"
                          " from {s}.load_windows where stream = %s order by window_id",
                          (stream,))

    def assert_only_whole_windows(self) -> None:
        """Every conversation row belongs to a completed window that counted it."""
        orphans = self.query("""
            select count(*) from {s}.conversations c
            where c.window_start is not null and not exists (
                select 1 from {s}.load_windows w
                where w.run_id = c.run_id and w.stream = 'conversations'
                  and w.status = 'completed'
                  and w.window_start = c.window_start and w.window_end = c.window_end)
        """)[0][0]
        assert orphans == 0
        mismatched = self.query("""
            select w.window_id from {s}.load_windows w
            where w.stream = 'conversations' and w.status = 'completed'
              and w.rows_loaded <> (select count(*) from {s}.conversations c
                                    where c.run_id = w.run_id and c.window_start = w.window_start
                                      and c.window_end = w.window_end)
        """)
        assert mismatched == []


@dataclass
class Loader:
    """Runs ``hs-load`` against one sandbox and one lake, in-process or as a child."""

    sb: Sandbox
    database: Database
    lake: Lake

    def settle(self) -> None:
        settle(self.sb)

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "HELPSCOUT_"))}
        env.update(HELPSCOUT_DATABASE_URL=database_url(self.database),
                   HELPSCOUT_APP_ID=self.sb.client_id,
                   HELPSCOUT_APP_SECRET=self.sb.client_secret,
                   HELPSCOUT_API_URL=self.sb.base_url)
        env.update(extra)
        return env

    def run(self, *args: str, command: str = "run", monkeypatch: pytest.MonkeyPatch) -> int:
        """``hs-load <command> <args>`` in this process; returns the exit code."""
        for key, value in self.env().items():
            if key.startswith("HELPSCOUT_"):
                monkeypatch.setenv(key, value)
        extra = [*FAST] if command == "run" else ["--retry-backoff", "0.01"]
        return main([command, *extra, *args])

    def argv(self, *args: str, command: str = "run",
             module: tuple[str, ...] = ("loader",)) -> list[str]:
        """``python -m loader <command> <args>`` with the fast test settings.

        ``module`` runs another entry point instead, e.g. the crash tests' script
        (``("tests.loader.crashing", "--after-pages", "6")``).
        """
        extra = [*FAST] if command == "run" else ["--retry-backoff", "0.01"]
        return [sys.executable, "-m", *module, command, *extra, *args]

    def spawn(self, *args: str, command: str = "run", module: tuple[str, ...] = ("loader",),
              **env: str) -> subprocess.CompletedProcess:
        """:meth:`argv` as a child process, waited for."""
        return subprocess.run(self.argv(*args, command=command, module=module),
                              env=self.env(**env), cwd=Path(PROJECT_ROOT), capture_output=True,
                              text=True, timeout=120)

    def start(self, *args: str, command: str = "run", **env: str) -> subprocess.Popen:
        """:meth:`argv` as a child process left running (for signals and concurrency)."""
        return subprocess.Popen(self.argv(*args, command=command), env=self.env(**env),
                                cwd=Path(PROJECT_ROOT), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)


def assert_conversations_match(lake: Lake, truth, *, exact: bool = True) -> None:
    """The lake's live conversations are the truth's (exactly, or a superset when gone
    ones are not yet reconciled), each in its current state with every thread."""
    latest = lake.latest_live_conversations()
    if exact:
        assert sorted(latest) == sorted(truth.conversations)
    else:
        assert set(truth.conversations) <= set(latest)
    for cid, expected in truth.conversations.items():
        got = latest[cid]
        assert [t["id"] for t in got["_embedded"]["threads"]] == \
            [t["id"] for t in expected["_embedded"]["threads"]], cid
        assert normalise(got) == normalise(expected), cid
