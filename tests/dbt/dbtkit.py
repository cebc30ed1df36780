"""Helpers for the dbt tests: write lake rows by hand and run dbt on a throwaway database."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from loader.connection import Database
from loader.schema import DEFAULT_RAW_SCHEMA, migrate
from ops.dbt import run_dbt

CORE_ONLY = ["--exclude", "tag:kpi"]


def at(text: str) -> datetime:
    """``'2025-01-01 10:00'`` as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def api_time(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Lake:
    """Appends rows to one database's lake, as the loader would (plus explicit load times)."""

    database: Database
    schema: str = DEFAULT_RAW_SCHEMA

    def __post_init__(self) -> None:
        conn = self.database.connect()
        try:
            migrate(conn, self.schema)
        finally:
            conn.close()

    def new_run(self) -> uuid.UUID:
        run_id = uuid.uuid4()
        self.execute(f"insert into {self.schema}.load_runs (run_id, command, status)"
                     " values (%s, 'test', 'succeeded')", [(str(run_id),)])
        return run_id

    def execute(self, statement: str, rows: Sequence[tuple[Any, ...]]) -> None:
        conn = self.database.connect()
        try:
            with conn.cursor() as cur:
                cur.executemany(statement, rows)
            conn.commit()
        finally:
            conn.close()

    def append(self, table: str, payloads: Sequence[dict[str, Any]], *, extracted_at: datetime,
               run_id: uuid.UUID | None = None, loaded_at: datetime | None = None) -> None:
        """Copies of entities (their ``id`` is the entity id) in one stream table."""
        run_id = run_id or self.new_run()
        self.execute(
            f"insert into {self.schema}.{table}"
            " (entity_id, payload, extracted_at, run_id, loaded_at)"
            " values (%s, %s, %s, %s, coalesce(%s, clock_timestamp()))",
            [(p["id"], json.dumps(p), extracted_at, str(run_id), loaded_at) for p in payloads])

    def tombstone(self, conversation_id: int, reason: str, *, detected_at: datetime,
                  merged_into: int | None = None, loaded_at: datetime | None = None) -> None:
        self.execute(
            f"insert into {self.schema}.conversation_tombstones"
            " (entity_id, reason, merged_into_id, detected_at, run_id, loaded_at)"
            " values (%s, %s, %s, %s, %s, coalesce(%s, clock_timestamp()))",
            [(conversation_id, reason, merged_into, detected_at, str(self.new_run()),
              loaded_at)])

    def query(self, statement: str) -> list[tuple[Any, ...]]:
        conn = self.database.connect()
        try:
            with conn.cursor() as cur:
                cur.execute(statement)
                return cur.fetchall()
        finally:
            conn.close()


@dataclass
class Dbt:
    """dbt on one database with a private target and log directory."""

    database: Database
    workdir: Path
    vars: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)

    def __call__(self, *args: str) -> str:
        env = dict(os.environ, DBT_TARGET_PATH=str(self.workdir / "target"),
                   DBT_LOG_PATH=str(self.workdir / "logs"), **self.env)
        extra = ["--vars", json.dumps(self.vars)] if self.vars else []
        done = run_dbt([*args, *extra], self.database, env=env, capture=True)
        assert done.returncode == 0, done.stdout[-4000:]
        return done.stdout

    @property
    def target(self) -> Path:
        return self.workdir / "target"


def conversation(cid: int, *, status: str = "active", state: str = "published",
                 created: str = "2025-01-01 10:00", created_by: str = "customer",
                 threads: Sequence[tuple[int, str, str, str]] = (),
                 tags: Sequence[tuple[int, str]] | Any = (), **extra: Any) -> dict[str, Any]:
    """A conversation in the API's shape; threads are (id, type, author type, created)."""
    payload: dict[str, Any] = {
        "id": cid, "number": 1000 + cid, "threads": len(threads), "type": "email",
        "status": status, "state": state, "subject": f"Subject {cid}", "mailboxId": 1,
        "createdBy": {"id": 9, "type": created_by, "email": f"c{cid}@example.com"},
        "createdAt": api_time(at(created)), "customerWaitingSince": {},
        "source": {"type": "email", "via": created_by},
        "tags": ([{"id": tid, "color": "#aaa", "tag": name} for tid, name in tags]
                 if isinstance(tags, list | tuple) else tags),
        "_embedded": {"threads": [
            {"id": tid, "type": ttype, "status": "active", "state": "published",
             "createdBy": {"id": 5 if by == "user" else 9, "type": by},
             "createdAt": api_time(at(when)), "source": {"type": "email", "via": by}}
            for tid, ttype, by, when in threads]},
    }
    payload.update(extra)
    return payload


def tag(tid: int, name: str, color: str = "#aaa") -> dict[str, Any]:
    return {"id": tid, "name": name, "slug": name.lower().replace(" ", "-"), "color": color,
            "createdAt": "2024-01-01T00:00:00Z", "ticketCount": 0}
