"""``python -m bench [benchmark ...]``: run benchmarks, write results, print a table.

With no name every benchmark runs. Results merge into ``bench/results/latest.json``
(``--output`` writes elsewhere, e.g. a scratch file for a quick look).
"""

from __future__ import annotations

import argparse
import importlib
import json
import signal
import sys
import traceback
from dataclasses import replace
from pathlib import Path

from bench.config import BenchConfig, ConfigError
from bench.measure import stopwatch
from bench.report import LATEST, BenchResult, load_average, markdown, table, write_results
from loader.errors import first_line

#: name -> module, in running order (the longest last: it gets what time is left).
#: Each module has ``run(config) -> BenchResult`` and ``estimate_seconds(config)``.
BENCHMARKS = {
    "lake_write": "bench.lake_write",
    "loader_api": "bench.loader_api",
    "dbt_scale": "bench.dbt_scale",
}


def with_budget_for_rest(config: BenchConfig, later: list[str]) -> BenchConfig:
    """The config for one benchmark: its deadline keeps time for the ones after it."""
    reserve = sum(importlib.import_module(BENCHMARKS[n]).estimate_seconds(config) for n in later)
    return replace(config, budget=replace(config.budget,
                                          seconds=config.budget.seconds - reserve))


def run_one(name: str, config: BenchConfig) -> BenchResult:
    module = importlib.import_module(BENCHMARKS[name])
    print(f"== {name} (scale {config.scale:g})", flush=True)
    load_at_start = load_average()
    with stopwatch() as elapsed:
        try:
            result = module.run(config)
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # one benchmark failing must not lose the others
            traceback.print_exc()
            result = BenchResult(name, error=f"{type(exc).__name__}: {first_line(exc, '')}")
    result.seconds = elapsed()
    result.scale = config.scale
    result.load_average = {"start": load_at_start, "end": load_average()}
    print(f"== {name} done in {result.seconds:.0f} s", flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="benchmark",
                        help=f"any of: {', '.join(BENCHMARKS)} (default: all)")
    parser.add_argument("--output", type=Path, default=LATEST, help="results file (JSON)")
    parser.add_argument("--markdown", action="store_true",
                        help="print the results file as a Markdown table and exit")
    args = parser.parse_args(argv)
    if args.markdown:
        if not args.output.exists():
            print(f"error: no results at {args.output}; run the benchmarks first",
                  file=sys.stderr)
            return 2
        print(markdown(json.loads(args.output.read_text())))
        return 0
    try:
        config = BenchConfig.from_env()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        print(f"error: unknown benchmark {unknown[0]!r} (any of: {', '.join(BENCHMARKS)})",
              file=sys.stderr)
        return 2
    # A plain kill must still drop the throwaway databases: unwind like Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    names = [n for n in BENCHMARKS if n in args.names] if args.names else list(BENCHMARKS)
    results = [run_one(name, with_budget_for_rest(config, names[i + 1:]))
               for i, name in enumerate(names)]
    write_results(results, args.output)
    print()
    print(table(results))
    print(f"\nresults: {args.output}")
    return 1 if any(r.error for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
