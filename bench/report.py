"""Results: figures against targets, the JSON file and the printed table."""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).with_name("results")
LATEST = RESULTS_DIR / "latest.json"


@dataclass(frozen=True)
class Figure:
    """One reported number; ``target`` is human text, ``met`` None when there is none."""

    name: str
    value: float | None
    unit: str
    target: str | None = None
    met: bool | None = None
    note: str | None = None
    samples: int | None = None  # how many runs the median is over

    @classmethod
    def against(cls, name: str, value: float | None, unit: str, *, at_least: float | None = None,
                at_most: float | None = None, note: str | None = None,
                samples: int | None = None) -> Figure:
        """A figure with a target bound; ``met`` is computed, None for a missing value."""
        missing = value is None or (isinstance(value, float) and math.isnan(value))
        if at_least is not None:
            target, met = f">= {at_least:g}", None if missing else value >= at_least
        elif at_most is not None:
            target, met = f"<= {at_most:g}", None if missing else value <= at_most
        else:
            target, met = None, None
        return cls(name, None if missing else value, unit, target, met, note, samples)


@dataclass
class BenchResult:
    name: str
    figures: list[Figure] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    scale: float = 1.0
    error: str | None = None
    load_average: dict[str, list[float]] = field(default_factory=dict)  # start/end: 1, 5, 15 min

    def as_dict(self) -> dict[str, Any]:
        return {
            "scale": self.scale,
            "seconds": round(self.seconds, 1),
            "error": self.error,
            "load_average": self.load_average,
            "figures": [asdict(f) for f in self.figures],
            "details": self.details,
        }


def load_average() -> list[float]:
    """1, 5 and 15-minute load averages: how busy the shared machine was."""
    with contextlib.suppress(OSError):
        return [round(x, 2) for x in os.getloadavg()]
    return []


def source_version(root: Path = RESULTS_DIR.parent.parent) -> dict[str, Any]:
    """The commit measured, and whether the working tree differed from it."""
    import subprocess

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              check=False)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "HEAD")
    if not commit:
        return {}
    changed = git("status", "--porcelain", "--untracked-files=no", "--", "loader", "sandbox",
                  "dbt_project", "bench")
    return {"commit": commit, "uncommitted_changes": bool(changed)}


def machine() -> dict[str, Any]:
    """What the figures were measured on; the load average says how shared it was."""
    info: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
    }
    return info


def write_results(results: list[BenchResult], path: Path = LATEST,
                  extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write (merging into) ``path``: a selective run keeps the other benchmarks' entries."""
    document: dict[str, Any] = {}
    if path.exists():
        try:
            document = json.loads(path.read_text())
        except ValueError:
            document = {}
    benchmarks = document.get("benchmarks", {})
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    version = source_version()
    for result in results:
        benchmarks[result.name] = {"measured_at": now, "source": version, **result.as_dict()}
    document = {"generated_at": now, "machine": machine(), **(extra or {}),
                "benchmarks": dict(sorted(benchmarks.items()))}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, default=_jsonable) + "\n")
    return document


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    return str(value)


def _format(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "%":
        return f"{value:.1f}%"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
    return f"{text} {unit}" if unit else text


def table(results: list[BenchResult]) -> str:
    """A plain-text table: benchmark, figure, value, target, verdict."""
    rows = [("benchmark", "figure", "value", "n", "target", "")]
    for result in results:
        if result.error:
            rows.append((result.name, "ERROR", result.error, "", "", ""))
        for fig in result.figures:
            verdict = "" if fig.met is None else ("ok" if fig.met else "MISS")
            rows.append((result.name, fig.name, _format(fig.value, fig.unit),
                         "" if fig.samples is None else str(fig.samples), fig.target or "",
                         verdict))
    widths = [max(len(r[i]) for r in rows) for i in range(6)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown(document: dict[str, Any]) -> str:
    """The results file as a Markdown table (for the README's Performance section)."""
    lines = ["| benchmark | figure | value | runs | target | |",
             "| --- | --- | ---: | ---: | --- | --- |"]
    for name, entry in document.get("benchmarks", {}).items():
        if entry.get("error"):
            lines.append(f"| {name} | error | {entry['error']} | | | |")
        for fig in entry.get("figures", []):
            verdict = "" if fig.get("met") is None else ("met" if fig["met"] else "**missed**")
            target = (fig.get("target") or "").replace(">=", "≥").replace("<=", "≤")
            runs = "" if fig.get("samples") is None else str(fig["samples"])
            lines.append(f"| {name} | {fig['name']} | {_format(fig.get('value'), fig['unit'])}"
                         f" | {runs} | {target} | {verdict} |")
    machine_info = document.get("machine", {})
    lines.append("")
    lines.append(f"{machine_info.get('cpus')} CPUs, Python {machine_info.get('python')}.")
    for name, entry in document.get("benchmarks", {}).items():
        load = entry.get("load_average") or {}
        lines.append(f"- {name}: scale {entry.get('scale')}, {entry.get('measured_at')}, "
                     f"{entry.get('seconds')} s; load average {load.get('start')} at start, "
                     f"{load.get('end')} at end")
    return "\n".join(lines)
