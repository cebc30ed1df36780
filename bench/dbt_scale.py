"""dbt at scale: full and incremental builds over a bulk-filled lake, against a floor.

For each lake size (100,000 and 1,000,000 conversations at scale 1):

1. fill a fresh lake with replicated sandbox payloads (:mod:`bench.bulkfill`);
2. in rounds, run the hand-written floor (:mod:`bench.floor`) and a ``dbt build``
   from scratch (the first) or ``--full-refresh`` (later rounds), and take their ratio;
3. in rounds, append new and changed conversations, as one load would, and run an
   incremental ``dbt build``; compare it with the full build's median. The kinds of
   batch are :data:`CHANGE_KINDS`: 1% and 0.1% of recent activity (the targets), and
   once 1% changed all over the history (the worst case, no target);
4. at the small size, dbt's fixed cost per invocation (:func:`measure_fixed_cost`).

``pg_database_size`` is polled all along (except while the floor's own tables
exist) to find the peak disk a lake of that size needs with its marts.

Every load in a real lake happens at its own time, and incremental models re-read
``lookback_hours`` before their high-water mark; batches are therefore stamped
hours apart in the past (see :mod:`bench.bulkfill`), as hourly loads would be.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml

from bench.bulkfill import FillStats, LakeFiller
from bench.config import BenchConfig, TimeBudget
from bench.dbt_runs import (
    TEST_TYPES,
    DbtRun,
    DbtSession,
    FixedCost,
    measure_fixed_cost,
    upstream_models,
)
from bench.floor import (
    CONTRACT_MARTS,
    FLOOR_SCHEMA,
    FloorRun,
    drop_floor,
    floor_marts,
    run_floor,
)
from bench.measure import Samples, ratio, stopwatch
from bench.pg import SizeSampler, database_size, throwaway_database
from bench.report import BenchResult, Figure
from bench.source import PayloadSource, payload_source
from loader.connection import Database
from ops.dbt import DBT_PROJECT_DIR

FULL_SIZES = (100_000, 1_000_000)
MARTS_SCHEMA = "helpscout"


@dataclass(frozen=True)
class ChangeKind:
    """One kind of incremental batch: its share of the lake, how it is spread, and the
    most an incremental build after it may cost at the large size, as a share of the
    full build."""

    label: str
    fraction: float
    spread: bool = False
    rounds: int = 3
    target: float | None = None


#: Recent batches are what a schedule loads (see ``LakeFiller.change_batch``); the
#: spread one is the worst case, a change touching every period, measured once.
CHANGE_KINDS = (
    ChangeKind("1% new/changed", 0.01, target=0.10),
    ChangeKind("0.1% new/changed", 0.001, target=0.05),
    ChangeKind("1% changed all over the history", 0.01, spread=True, rounds=1),
)


@dataclass(frozen=True)
class Plan:
    conversations: int
    full_rounds: int

    @property
    def incremental_rounds(self) -> int:
        return sum(kind.rounds for kind in CHANGE_KINDS)


@dataclass
class SizeResult:
    plan: Plan
    fill: FillStats = field(default_factory=FillStats)
    fill_seconds: float = 0.0
    full: Samples = field(default_factory=lambda: Samples("s"))
    floor: Samples = field(default_factory=lambda: Samples("s"))
    full_over_floor: Samples = field(default_factory=lambda: Samples("x"))
    chain_over_floor: Samples = field(default_factory=lambda: Samples("x"))
    incremental: dict[str, Samples] = field(default_factory=dict)  # by ChangeKind label
    batches: dict[str, list[FillStats]] = field(default_factory=dict)
    empty_bytes: int = 0  # the fresh database (catalogs): not the lake's cost
    lake_bytes: int = 0
    peak_bytes: int = 0
    floor_runs: list[FloorRun] = field(default_factory=list)
    full_runs: list[DbtRun] = field(default_factory=list)
    incremental_runs: dict[str, list[DbtRun]] = field(default_factory=dict)
    mart_rows: dict[str, int] = field(default_factory=dict)
    floor_differences: dict[str, int] | None = None
    marts_not_in_floor: list[str] = field(default_factory=list)
    fixed_cost: FixedCost | None = None
    #: builds with no new lake rows after the incremental rounds: what any
    #: incremental build at this size costs at least
    nothing_new_runs: list[DbtRun] = field(default_factory=list)

    @property
    def nothing_new(self) -> Samples:
        samples = Samples("s")
        for run in self.nothing_new_runs:
            samples.add(run.seconds)
        return samples

    def incremental_over_full(self, kind: ChangeKind) -> float:
        return ratio(self.incremental[kind.label].median, self.full.median)

    @property
    def peak_bytes_per_million(self) -> float:
        return ratio(self.peak_bytes - self.empty_bytes, self.plan.conversations / 1e6)

    def _incremental_dict(self, kind: ChangeKind) -> dict[str, Any]:
        runs = self.incremental_runs.get(kind.label, [])
        last = runs[-1] if runs else None
        return {
            "build_s": self.incremental[kind.label].as_dict(),
            "over_full": self.incremental_over_full(kind),
            "batch_rows": [b.conversation_rows for b in self.batches[kind.label]],
            "models_s": round(last.total("model"), 1) if last else None,
            "tests_s": round(last.total(*TEST_TYPES), 1) if last else None,
            "top_nodes": last.top() if last else [],
            "top_tests": last.top(8, *TEST_TYPES) if last else [],
            # the first one after the full builds has been the slowest by far
            "first_run_s": round(runs[0].seconds, 1) if runs else None,
            "first_run_top_nodes": runs[0].top() if len(runs) > 1 else [],
        }

    def as_dict(self) -> dict[str, Any]:
        full_last = self.full_runs[-1] if self.full_runs else None
        incremental_runs = [r for runs in self.incremental_runs.values() for r in runs]
        return {
            "conversations": self.plan.conversations,
            "lake_conversation_rows": self.fill.conversation_rows,
            "lake_payload_mb": round(self.fill.payload_bytes / 1e6, 1),
            "fill_seconds": round(self.fill_seconds, 1),
            "fill_rows_per_s": round(ratio(self.fill.conversation_rows, self.fill_seconds)),
            "full_build_s": self.full.as_dict(),
            "floor_s": self.floor.as_dict(),
            "full_over_floor": self.full_over_floor.as_dict(),
            "contract_models_over_floor": self.chain_over_floor.as_dict(),
            "incremental": {kind.label: self._incremental_dict(kind) for kind in CHANGE_KINDS
                            if kind.label in self.incremental},
            "empty_database_mb": round(self.empty_bytes / 1e6, 1),
            "lake_mb_after_fill": round(self.lake_bytes / 1e6, 1),
            "peak_mb": round(self.peak_bytes / 1e6, 1),
            "peak_mb_per_million_conversations": round(self.peak_bytes_per_million / 1e6),
            "floor_statement_s": self.floor_runs[-1].per_statement if self.floor_runs else {},
            "floor_rows": self.floor_runs[-1].row_counts if self.floor_runs else {},
            "mart_rows": self.mart_rows,
            "rows_differing_floor_vs_dbt": self.floor_differences,
            "marts_not_in_floor": self.marts_not_in_floor,
            "full_build_models_s": round(full_last.total("model"), 1) if full_last else None,
            "full_build_tests_s": round(full_last.total(*TEST_TYPES), 1) if full_last else None,
            "full_build_top_nodes": full_last.top() if full_last else [],
            "failed_tests": sorted({t for r in self.full_runs + incremental_runs
                                    for t in r.failed_tests()}),
            # every timed run should reuse the manifest parsed before them
            "timed_runs_that_parsed_everything": [
                {"args": " ".join(r.args), "because": r.full_parse_reason}
                for r in self.full_runs + incremental_runs if r.full_parse_reason],
            "fixed_cost": self.fixed_cost.as_dict() if self.fixed_cost else None,
            "nothing_new_build": _nothing_new_dict(self.nothing_new_runs),
        }


def _nothing_new_dict(runs: list[DbtRun]) -> dict[str, Any] | None:
    if not runs:
        return None
    last = runs[-1]
    return {"build_s": [round(r.seconds, 1) for r in runs],
            "models_s": round(last.total("model"), 1),
            "tests_s": round(last.total(*TEST_TYPES), 1),
            "top_nodes": last.top(12)}


def plans(config: BenchConfig) -> list[Plan]:
    """At most three rounds of each kind per size; at the large size the time budget
    usually allows one full round (build and floor take a quarter of an hour on two
    shared cores) and the report says so with its run count."""
    small, large = (config.size(n, minimum) for n, minimum in zip(FULL_SIZES, (1_000, 5_000),
                                                                   strict=True))
    return [Plan(small, full_rounds=3), Plan(large, full_rounds=3)]


def _lookback(project_dir: Path = DBT_PROJECT_DIR) -> timedelta:
    """The incremental models' lookback (a dbt var), so batches can be spaced beyond it."""
    config = yaml.safe_load((project_dir / "dbt_project.yml").read_text())
    return timedelta(hours=float((config.get("vars") or {}).get("lookback_hours", 3)))


def _mart_rows(database: Database) -> dict[str, int]:
    conn = database.connect()
    try:
        with conn.cursor() as cur:
            counts = {}
            for mart in floor_marts():
                cur.execute(f"select count(*) from {MARTS_SCHEMA}.{mart}")
                counts[mart] = int(cur.fetchone()[0])
            return counts
    finally:
        conn.close()


def missing_marts(manifest: dict[str, Any]) -> list[str]:
    """The marts the build makes (models in the marts schema) that the floor does not:
    their cost is in the full build and not in the floor."""
    built = {node["name"] for node in manifest["nodes"].values()
             if node.get("resource_type") == "model" and node.get("schema") == MARTS_SCHEMA}
    return sorted(built - set(floor_marts()))


def floor_differences(database: Database) -> dict[str, int]:
    """Rows that differ between the floor's marts and dbt's, per mart (0 = identical).

    Proof that the floor does the same job: compared on every column the floor has.
    """
    conn = database.connect()
    out = {}
    try:
        with conn.cursor() as cur:
            for mart in floor_marts():
                cur.execute("select column_name from information_schema.columns"
                            " where table_schema = %s and table_name = %s"
                            " order by ordinal_position", (FLOOR_SCHEMA, mart))
                columns = ", ".join(f'"{name}"' for (name,) in cur.fetchall())
                cur.execute(
                    f"select count(*) from ((select {columns} from {FLOOR_SCHEMA}.{mart}"
                    f" except all select {columns} from {MARTS_SCHEMA}.{mart})"
                    f" union all (select {columns} from {MARTS_SCHEMA}.{mart}"
                    f" except all select {columns} from {FLOOR_SCHEMA}.{mart})) as diff"
                )
                out[mart] = int(cur.fetchone()[0])
    finally:
        conn.close()
    return out


def measure_size(plan: Plan, source: PayloadSource, budget: TimeBudget, *, reserve: float = 0.0,
                 compare: bool = False, fixed_cost: bool = False, nothing_new: bool = False,
                 log: Callable[[str], None] = print) -> SizeResult:
    """Fill, full rounds, incremental rounds, then (``nothing_new``) one build with no
    new lake rows and (``fixed_cost``) dbt's cost per invocation. The first of each
    always runs; the repeats only while ``budget`` still has their likely cost plus
    ``reserve`` left."""
    result = SizeResult(plan)
    spacing = _lookback() + timedelta(hours=1)
    now = datetime.now(timezone.utc)
    base_time = now - spacing * (plan.incremental_rounds + 1) - timedelta(days=1)
    filler = LakeFiller(source.templates, base_time=base_time)
    with throwaway_database(f"dbt{plan.conversations}") as database, \
            tempfile.TemporaryDirectory(prefix="bench-dbt-") as tmp, \
            SizeSampler(database) as sampler:
        result.empty_bytes = sampler.peak
        with stopwatch() as elapsed:
            filler.prepare(database, source.truth)
            result.fill = filler.fill(database, plan.conversations)
        result.fill_seconds = elapsed()
        log(f"   filled {plan.conversations:,} conversations "
            f"({result.fill.conversation_rows:,} rows) in {result.fill_seconds:.0f} s")
        result.lake_bytes = database_size(database)
        session = DbtSession(database, Path(tmp))
        chain: set[str] = set()
        for round_no in range(plan.full_rounds):
            # a repeat must leave time for the (first) incremental round too
            if round_no and not budget.allows(2 * result.full_runs[-1].seconds
                                              + result.floor_runs[-1].seconds + reserve):
                break
            args = ["build"] if round_no == 0 else ["build", "--full-refresh"]
            build = session.invoke(args)
            with sampler.paused():  # the floor's tables are not the lake's nor dbt's
                floor = run_floor(database)
                if compare and round_no == 0:
                    result.floor_differences = floor_differences(database)
                drop_floor(database)
            result.floor_runs.append(floor)
            result.floor.add(floor.seconds)
            result.full_runs.append(build)
            result.full.add(build.seconds)
            result.full_over_floor.add(ratio(build.seconds, floor.seconds))
            if not chain:
                manifest = session.manifest()
                chain = upstream_models(manifest, CONTRACT_MARTS, MARTS_SCHEMA)
                result.marts_not_in_floor = missing_marts(manifest)
            chain_seconds = sum(n.seconds for n in build.nodes if n.unique_id in chain)
            result.chain_over_floor.add(ratio(chain_seconds, floor.seconds))
            log(f"   dbt {' '.join(args)} {build.seconds:.1f} s, floor {floor.seconds:.1f} s")
        result.mart_rows = _mart_rows(database)
        moments = iter([now - spacing * k for k in range(plan.incremental_rounds - 1, -1, -1)])
        for kind in CHANGE_KINDS:
            changes = max(1, round(plan.conversations * kind.fraction / 2))
            runs = result.incremental_runs.setdefault(kind.label, [])
            samples = result.incremental.setdefault(kind.label, Samples("s"))
            batches = result.batches.setdefault(kind.label, [])
            for round_no in range(kind.rounds):
                moment = next(moments)
                if round_no and not budget.allows(runs[-1].seconds + reserve):
                    continue  # the moment stays spent: batches keep their spacing
                batches.append(filler.change_batch(database, changes, changes, moment,
                                                   spread=kind.spread))
                build = session.invoke(["build"])
                runs.append(build)
                samples.add(build.seconds)
                log(f"   {kind.label}: +{2 * changes:,} rows, incremental dbt build "
                    f"{build.seconds:.1f} s")
        if nothing_new:
            result.nothing_new_runs.append(session.invoke(["build"]))
            log(f"   nothing new: incremental dbt build "
                f"{result.nothing_new_runs[-1].seconds:.1f} s")
        if fixed_cost:
            result.fixed_cost = measure_fixed_cost(
                session, 3, lambda seconds: budget.allows(seconds + reserve))
            cost = result.fixed_cost
            log(f"   dbt fixed cost: start-up {cost.startup.median:.1f} s, parse "
                f"{cost.full_parse.median:.1f} s (partial {cost.partial_parse.median:.1f} s), "
                f"empty build {cost.empty_build.median:.1f} s, nothing-new build "
                f"{cost.nothing_new_build.median:.1f} s")
        result.peak_bytes = sampler.peak
    return result


def estimate_seconds(config: BenchConfig) -> float:
    """Likely cost of the runs that always happen (for the budget of earlier benchmarks):
    on two shared cores, about 17 minutes at scale 1, mostly the million-conversation
    fill, full build and floor; at small scales dbt's fixed cost per invocation."""
    return 150 + 1000 * config.scale


def run(config: BenchConfig) -> BenchResult:
    """The large size first: its single full build is the one that must fit; the
    small size then repeats its rounds as far as the remaining time allows."""
    source = payload_source(config)
    small, large = plans(config)
    # what the small size's single rounds need, on two shared cores
    small_reserve = 90 + 100 * config.scale
    large_result = measure_size(large, source, config.budget, reserve=small_reserve,
                                nothing_new=True)
    small_result = measure_size(small, source, config.budget, compare=True, fixed_cost=True)
    sizes = [small_result, large_result]
    figures = []
    for size in sizes:
        n = f"{size.plan.conversations:,}"
        full_n = len(size.full.values)
        figures += [
            Figure.against(f"{n}: full dbt build", size.full.median, "s", samples=full_n),
            Figure.against(f"{n}: hand-written SQL floor", size.floor.median, "s",
                           samples=full_n),
        ]
        for kind in CHANGE_KINDS:
            samples = size.incremental[kind.label]
            figures += [
                Figure.against(f"{n}: incremental build ({kind.label})", samples.median, "s",
                               samples=len(samples.values)),
                Figure.against(f"{n}: incremental ({kind.label}) / full",
                               size.incremental_over_full(kind), "x",
                               at_most=kind.target if size is large_result else None,
                               samples=len(samples.values)),
            ]
        if size.nothing_new_runs:
            quiet = size.nothing_new
            figures += [
                Figure.against(f"{n}: incremental build, nothing new", quiet.median, "s",
                               samples=len(quiet.values),
                               note="no new lake rows: the least any incremental build "
                                    "at this size costs"),
                Figure.against(f"{n}: incremental (nothing new) / full",
                               ratio(quiet.median, size.full.median), "x",
                               samples=len(quiet.values)),
            ]
        figures += [
            Figure.against(f"{n}: full build / hand-written SQL", size.full_over_floor.median,
                           "x", at_most=2, samples=full_n,
                           note=(f"floor lacks {', '.join(size.marts_not_in_floor)}"
                                 if size.marts_not_in_floor else "the floor builds every mart")),
            Figure.against(f"{n}: contract marts' models / hand-written SQL",
                           size.chain_over_floor.median, "x", samples=full_n,
                           note="sum of dbt's node times for the contract marts and "
                                "their upstream models (4 dbt threads on 2 cores)"),
            Figure.against(f"{n}: peak database size per 1M conversations",
                           size.peak_bytes_per_million / 1e9, "GB"),
        ]
    figures += fixed_cost_figures(small_result)
    return BenchResult(
        name="dbt_scale",
        figures=figures,
        details={"sizes": [s.as_dict() for s in sizes], "source": source.describe()},
    )


def fixed_cost_figures(size: SizeResult) -> list[Figure]:
    """dbt's cost per invocation, whatever the lake's size: what a schedule pays per run."""
    cost = size.fixed_cost
    if cost is None:
        return []
    n = len(cost.startup.values)
    lake = f"{size.plan.conversations:,} conversations"
    return [
        Figure.against("dbt per invocation: start-up (dbt --version)", cost.startup.median, "s",
                       samples=n),
        Figure.against("dbt per invocation: parse from scratch", cost.full_parse.median, "s",
                       samples=n, note=f"dbt parse --no-partial-parse; in dbt "
                                       f"{cost.full_parse_in_dbt.median:.1f} s"),
        Figure.against("dbt per invocation: partial parse, nothing changed",
                       cost.partial_parse.median, "s", samples=n,
                       note=f"dbt parse; in dbt {cost.partial_parse_in_dbt.median:.1f} s"),
        Figure.against("dbt per invocation: build selecting nothing", cost.empty_build.median, "s",
                       samples=n, note="start-up, partial parse, node selection; no node runs"),
        Figure.against(f"{size.plan.conversations:,}: incremental build, nothing new",
                       cost.nothing_new_build.median, "s", samples=n,
                       note=f"dbt build on the {lake} with no new lake rows: every model "
                            "and test of a 15-minute schedule's quiet run"),
    ]
