"""One timed ``dbt`` invocation and what its ``run_results.json`` says about it."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.measure import Samples, stopwatch
from loader.connection import Database
from ops.dbt import dbt_env, dbt_executable, run_dbt

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
    #: why dbt parsed the whole project ("Unable to do partial parsing because ..."),
    #: None when it reused its saved manifest
    full_parse_reason: str | None = None

    def total(self, *resource_types: str) -> float:
        return sum(n.seconds for n in self.nodes if n.resource_type in resource_types)

    def failed_tests(self) -> list[str]:
        return [n.unique_id for n in self.nodes if n.resource_type in TEST_TYPES
                and n.status in ("fail", "error")]

    def top(self, count: int = 8, *resource_types: str) -> list[dict[str, Any]]:
        """The ``count`` slowest nodes (of ``resource_types``, when given)."""
        nodes = [n for n in self.nodes if not resource_types or n.resource_type in resource_types]
        ranked = sorted(nodes, key=lambda n: n.seconds, reverse=True)[:count]
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
        # a run that selects nothing writes no run_results.json: never read a stale one
        (self.target / "run_results.json").unlink(missing_ok=True)
        with stopwatch() as elapsed:
            proc = run_dbt(list(args), self.database, env=self.env, capture=True)
        run = DbtRun(tuple(args), elapsed(), self._node_times() if args[0] != "parse" else [],
                     full_parse_reason(proc.stdout + proc.stderr))
        # A failing data or unit test is reported, not fatal; but a model that
        # errored or was skipped after one would make the timing meaningless.
        broken = [n for n in run.nodes if n.resource_type not in TEST_TYPES
                  and n.status not in ("success", "pass")]
        if broken or (proc.returncode and not run.nodes):
            # a model skipped after a failing test has an empty message: name the cause
            causes = [n for n in run.nodes if n.status in ("error", "fail")] or broken
            why = (f"{causes[0].unique_id}: {causes[0].message}" if causes
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

    def parse_seconds(self) -> float | None:
        """The latest parse's own time inside dbt (``perf_info.json``
        ``load_all_elapsed``): reading the saved manifest, or parsing every file."""
        path = self.target / "perf_info.json"
        if not path.exists():
            return None
        return float(json.loads(path.read_text()).get("load_all_elapsed") or 0.0)

    def startup(self) -> float:
        """Wall clock of ``dbt --version``: the interpreter and dbt's imports, no project."""
        with stopwatch() as elapsed:
            subprocess.run([dbt_executable(), "--version"], env=dbt_env(self.database, self.env),
                           capture_output=True, check=True)
        return elapsed()


_FULL_PARSE = re.compile(r"Unable to do partial parsing because ([^.\n]*)")


def full_parse_reason(output: str) -> str | None:
    """dbt's reason for parsing the whole project, from its log; None if it did not."""
    found = _FULL_PARSE.search(_ANSI.sub("", output))
    return found.group(1).strip() if found else None


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


#: a selector no node matches: `dbt build` then does everything but run a node
EMPTY_SELECTION = ("--select", "tag:bench_selects_nothing")


@dataclass
class FixedCost:
    """What one dbt invocation costs before (or without) any model: the seconds a
    scheduled run pays even when nothing changed."""

    startup: Samples = field(default_factory=lambda: Samples("s"))
    full_parse: Samples = field(default_factory=lambda: Samples("s"))
    full_parse_in_dbt: Samples = field(default_factory=lambda: Samples("s"))
    partial_parse: Samples = field(default_factory=lambda: Samples("s"))
    partial_parse_in_dbt: Samples = field(default_factory=lambda: Samples("s"))
    empty_build: Samples = field(default_factory=lambda: Samples("s"))
    nothing_new_build: Samples = field(default_factory=lambda: Samples("s"))
    nothing_new_runs: list[DbtRun] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        last = self.nothing_new_runs[-1] if self.nothing_new_runs else None
        return {
            "startup_s": self.startup.as_dict(),
            "full_parse_s": self.full_parse.as_dict(),
            "full_parse_in_dbt_s": self.full_parse_in_dbt.as_dict(),
            "partial_parse_s": self.partial_parse.as_dict(),
            "partial_parse_in_dbt_s": self.partial_parse_in_dbt.as_dict(),
            "empty_selection_build_s": self.empty_build.as_dict(),
            "nothing_new_build_s": self.nothing_new_build.as_dict(),
            "nothing_new_models_s": round(last.total("model"), 1) if last else None,
            "nothing_new_tests_s": round(last.total(*TEST_TYPES), 1) if last else None,
            "nothing_new_top_nodes": last.top() if last else [],
        }


def measure_fixed_cost(session: DbtSession, rounds: int, allows: Callable[[float], bool]
                       ) -> FixedCost:
    """``rounds`` of: start-up (``dbt --version``), a parse from scratch
    (``--no-partial-parse``), a parse reusing the saved manifest, a build that selects
    nothing and a build with nothing new in the lake; the repeats while ``allows``
    their likely cost. A partial parse that fell back to a full one is an error: the
    figure would be a lie."""
    cost = FixedCost()
    for round_no in range(rounds):
        if round_no and not allows(cost.full_parse.values[-1] + cost.nothing_new_build.values[-1]
                                   + 3 * cost.partial_parse.values[-1]):
            break
        cost.startup.add(session.startup())
        run = session.invoke(["parse", "--no-partial-parse"])
        cost.full_parse.add(run.seconds)
        cost.full_parse_in_dbt.add(session.parse_seconds() or float("nan"))
        run = session.invoke(["parse"])
        _require_partial(run)
        cost.partial_parse.add(run.seconds)
        cost.partial_parse_in_dbt.add(session.parse_seconds() or float("nan"))
        run = session.invoke(["build", *EMPTY_SELECTION])
        _require_partial(run)
        cost.empty_build.add(run.seconds)
        run = session.invoke(["build"])
        _require_partial(run)
        cost.nothing_new_build.add(run.seconds)
        cost.nothing_new_runs.append(run)
    return cost


def _require_partial(run: DbtRun) -> None:
    if run.full_parse_reason:
        raise DbtFailed(f"dbt {' '.join(run.args)} parsed the whole project: "
                        f"unable to do partial parsing because {run.full_parse_reason}")
