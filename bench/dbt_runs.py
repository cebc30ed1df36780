"""One timed ``dbt`` invocation and what its ``run_results.json`` says about it."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.measure import stopwatch
from loader.connection import Database
from ops.dbt import run_dbt

TEST_TYPES = ("test", "unit_test")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class DbtFailed(RuntimeError):
    """A model did not build: timing it would be meaningless."""


@dataclass(frozen=True)
class NodeTime:
    unique_id: str
    resource_type: str
    status: str
    seconds: float
    message: str = ""


@dataclass
class DbtRun:
    args: tuple[str, ...]
    seconds: float  # wall clock of the whole invocation, startup included
    nodes: list[NodeTime] = field(default_factory=list)

    def total(self, *resource_types: str) -> float:
        return sum(n.seconds for n in self.nodes if n.resource_type in resource_types)

    def failed_tests(self) -> list[str]:
        return [n.unique_id for n in self.nodes if n.resource_type in TEST_TYPES
                and n.status in ("fail", "error")]

    def top(self, count: int = 8) -> list[dict[str, Any]]:
        ranked = sorted(self.nodes, key=lambda n: n.seconds, reverse=True)[:count]
        return [{"node": n.unique_id, "seconds": round(n.seconds, 2)} for n in ranked]


class DbtSession:
    """dbt runs against one database with a private target/log directory.

    The project is parsed once up front, so every timed run uses partial parsing
    as a scheduled production run would.
    """

    def __init__(self, database: Database, workdir: Path) -> None:
        self.database = database
        self.target = workdir / "target"
        self.env = {**os.environ, "DBT_TARGET_PATH": str(self.target),
                    "DBT_LOG_PATH": str(workdir / "logs")}
        self.invoke(["parse"])

    def invoke(self, args: Sequence[str]) -> DbtRun:
        with stopwatch() as elapsed:
            proc = run_dbt(list(args), self.database, env=self.env, capture=True)
        run = DbtRun(tuple(args), elapsed(), self._node_times() if args[0] != "parse" else [])
        # A failing data or unit test is reported, not fatal; but a model that
        # errored or was skipped after one would make the timing meaningless.
        broken = [n for n in run.nodes if n.resource_type not in TEST_TYPES
                  and n.status not in ("success", "pass")]
        if broken or (proc.returncode and not run.nodes):
            why = (f"{broken[0].unique_id}: {broken[0].message}" if broken
                   else _last_error(proc.stdout + proc.stderr))
            raise DbtFailed(f"dbt {' '.join(args)} failed: {' '.join(why.split())[:400]}")
        return run

    def _node_times(self) -> list[NodeTime]:
        path = self.target / "run_results.json"
        if not path.exists():
            return []
        data = json.loads(path.read_text())
        return [
            NodeTime(r["unique_id"], r["unique_id"].split(".", 1)[0], r["status"],
                     float(r.get("execution_time") or 0.0),
                     _ANSI.sub("", str(r.get("message") or "")))
            for r in data.get("results", [])
        ]

    def manifest(self) -> dict[str, Any]:
        return json.loads((self.target / "manifest.json").read_text())


def _last_error(output: str) -> str:
    """The first error line dbt printed and the two after it (the reason)."""
    lines = [line.strip() for line in _ANSI.sub("", output).splitlines()
             if line.strip()]
    for index, line in enumerate(lines):
        if "error" in line.lower():
            return " ".join(lines[index:index + 3])
    return lines[-1] if lines else "no output"


def upstream_models(manifest: dict[str, Any], names: Sequence[str], schema: str) -> set[str]:
    """The models called ``names`` in ``schema`` and every model they are built from."""
    nodes = manifest["nodes"]
    todo = [uid for uid, node in nodes.items() if node.get("resource_type") == "model"
            and node.get("name") in names and node.get("schema") == schema]
    seen: set[str] = set()
    while todo:
        uid = todo.pop()
        if uid in seen or uid not in nodes:
            continue
        seen.add(uid)
        todo.extend(d for d in nodes[uid].get("depends_on", {}).get("nodes", [])
                    if d.startswith("model."))
    return seen
