"""Lake write: the loader's storage path against a bare COPY and against row-by-row INSERTs.

The same rows (sandbox conversation payloads with threads, as the loader receives
them: parsed JSON) are written three ways into an empty lake table, in rounds:

* ``loader``: :func:`loader.lake.write_rows`, the loader's own path (serialise,
  escape, COPY in batches, one commit);
* ``paged``: the same, one ``write_rows`` per API page of 25 conversations in one
  transaction, as a conversations window is written (a COPY per page);
* ``copy``: a bare ``COPY ... FROM STDIN`` of a file prepared beforehand with the
  same rows: the floor, nothing to do but what PostgreSQL must do;
* ``insert``: one ``INSERT`` and one commit per row, what the old pipeline did.

A round runs all three back to back (rotating the order), and ratios are taken
within a round before the median, so a noisy neighbour slows both sides alike.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench.bulkfill import ID_BASE
from bench.config import BenchConfig, TimeBudget
from bench.measure import Samples, ratio, stopwatch
from bench.pg import throwaway_database
from bench.report import BenchResult, Figure
from bench.source import payload_source
from loader.connection import Database
from loader.lake import copy_escape, write_rows
from loader.schema import DEFAULT_RAW_SCHEMA, migrate

TABLE = f"{DEFAULT_RAW_SCHEMA}.conversations"
COLUMNS = "entity_id, payload, extracted_at, run_id"
ROUNDS = 5
PAGE_SIZE = 25  # conversations per page of the API's listing

Rows = Sequence[tuple[int, dict[str, Any]]]


def _rows(payloads: Sequence[dict[str, Any]], count: int) -> Rows:
    """``count`` rows cycling through the payloads, each with its own entity id."""
    return [(ID_BASE + i, payloads[i % len(payloads)]) for i in range(count)]


def _copy_file(rows: Rows, moment: datetime, run_id: uuid.UUID, directory: Path) -> Path:
    path = directory / "rows.copy"
    with path.open("w", encoding="utf-8") as out:
        for entity_id, payload in rows:
            text = copy_escape(json.dumps(payload, ensure_ascii=False, separators=(",", ":")))
            out.write(f"{entity_id}\t{text}\t{moment.isoformat()}\t{run_id}\n")
    return path


def _loader(conn, rows: Rows, moment: datetime, run_id: uuid.UUID, _: Path) -> None:
    write_rows(conn, rows, run_id=run_id, extracted_at=moment)


def _paged(conn, rows: Rows, moment: datetime, run_id: uuid.UUID, _: Path) -> None:
    for start in range(0, len(rows), PAGE_SIZE):
        write_rows(conn, rows[start:start + PAGE_SIZE], run_id=run_id, extracted_at=moment,
                   commit=False)
    conn.commit()


def _copy(conn, rows: Rows, moment: datetime, run_id: uuid.UUID, path: Path) -> None:
    with conn.cursor() as cur, path.open("r", encoding="utf-8") as source:
        cur.copy_expert(f"copy {TABLE} ({COLUMNS}) from stdin", source, size=1 << 20)
    conn.commit()


def _insert(conn, rows: Rows, moment: datetime, run_id: uuid.UUID, _: Path) -> None:
    with conn.cursor() as cur:
        for entity_id, payload in rows:
            cur.execute(f"insert into {TABLE} ({COLUMNS}) values (%s, %s, %s, %s)",
                        (entity_id, json.dumps(payload), moment, str(run_id)))
            conn.commit()


METHODS: dict[str, Callable[..., None]] = {"loader": _loader, "paged": _paged, "copy": _copy,
                                           "insert": _insert}


def _count_and_reset(conn, expected: int) -> None:
    with conn.cursor() as cur:
        cur.execute(f"select count(*) from {TABLE}")
        written = cur.fetchone()[0]
        cur.execute(f"truncate {TABLE}")
    conn.commit()
    if written != expected:
        raise RuntimeError(f"wrote {written} rows, expected {expected}")


def measure(database: Database, rows: Rows, rounds: int,
            budget: TimeBudget | None = None) -> dict[str, Samples]:
    """Rows per second of each method, ``rounds`` times (fewer if ``budget`` runs
    short, never fewer than one), plus per-round ratios."""
    samples = {name: Samples("rows/s") for name in METHODS}
    samples["loader/copy"] = Samples("x")
    samples["paged/copy"] = Samples("x")
    samples["loader/insert"] = Samples("x")
    samples["copy/insert"] = Samples("x")
    moment = datetime.now(timezone.utc)
    run_id = uuid.uuid4()
    conn = database.connect()
    try:
        migrate(conn)
        with tempfile.TemporaryDirectory(prefix="bench-lake-") as tmp:
            path = _copy_file(rows, moment, run_id, Path(tmp))
            names = list(METHODS)
            last_round = 0.0
            for round_no in range(rounds):
                if round_no and budget is not None and not budget.allows(last_round):
                    break
                started = time.monotonic()
                order = names[round_no % len(names):] + names[:round_no % len(names)]
                rates = {}
                for name in order:
                    with stopwatch() as elapsed:
                        METHODS[name](conn, rows, moment, run_id, path)
                    rates[name] = len(rows) / elapsed()
                    samples[name].add(rates[name])
                    _count_and_reset(conn, len(rows))
                samples["loader/copy"].add(ratio(rates["loader"], rates["copy"]))
                samples["paged/copy"].add(ratio(rates["paged"], rates["copy"]))
                samples["loader/insert"].add(ratio(rates["loader"], rates["insert"]))
                samples["copy/insert"].add(ratio(rates["copy"], rates["insert"]))
                last_round = time.monotonic() - started
    finally:
        conn.close()
    return samples


def estimate_seconds(config: BenchConfig) -> float:
    """Likely cost of one round and the set-up (for the budget of earlier benchmarks)."""
    return 20 + 30 * config.scale


def run(config: BenchConfig) -> BenchResult:
    source = payload_source(config)
    count = config.size(10_000, 300)
    rows = _rows(source.payloads, count)
    sizes = [len(json.dumps(p, separators=(",", ":"))) for _, p in rows]
    with throwaway_database("lake_write") as database:
        samples = measure(database, rows, ROUNDS, config.budget)
    loader_rate = samples["loader"].median
    rounds = len(samples["loader"].values)
    return BenchResult(
        name="lake_write",
        figures=[
            Figure.against("loader rows/s", loader_rate, "rows/s", samples=rounds),
            Figure.against("bare COPY rows/s", samples["copy"].median, "rows/s", samples=rounds),
            Figure.against("row-by-row INSERT rows/s", samples["insert"].median, "rows/s",
                           samples=rounds),
            Figure.against("loader / bare COPY", samples["loader/copy"].median, "x",
                           at_least=0.9, samples=rounds,
                           note="bare COPY is the floor: the rows serialised beforehand"),
            Figure.against("loader, a COPY per page of 25 / bare COPY",
                           samples["paged/copy"].median, "x", samples=rounds,
                           note="how a conversations window is written"),
            Figure.against("loader / row-by-row INSERT", samples["loader/insert"].median, "x",
                           samples=rounds, note="reference: the old pipeline's writes"),
            Figure.against("bare COPY / row-by-row INSERT", samples["copy/insert"].median, "x",
                           note="reference: about 7x measured elsewhere", samples=rounds),
        ],
        details={
            "rows": count,
            "rounds": rounds,
            "payload_bytes_mean": statistics.fmean(sizes),
            "payload_bytes_median": statistics.median(sizes),
            "loader_mb_per_s": loader_rate * statistics.fmean(sizes) / 1e6,
            "samples": {name: s.as_dict() for name, s in samples.items()},
            "source": source.describe(),
        },
    )
