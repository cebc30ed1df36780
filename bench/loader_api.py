"""The loader against the sandbox API: budget use, speed and memory of real runs.

The loader runs as it does in production, as a subprocess (``python -m loader run``)
talking HTTP to a sandbox account, writing a throwaway lake. Four measurements:

* speed, limit off: conversations per second end to end (process start to exit),
  against a bare sequential client that only pages through the same listing
  (``embed=threads``, no storage): how fast the sandbox can hand them out;
* memory: the child's peak RSS (``VmHWM``) at two backfill sizes, 10x apart
  (10,000 and 100,000 conversations at scale 1);
* API efficiency: a first backfill from the default start (2011: years of nothing
  before the account's history) of an account of 3,000 conversations; the
  conversation requests the sandbox logged against the fewest the API allows,
  computed from its ground truth: one list page per 25 conversations plus, for
  each conversation, the thread pages beyond the 50 embedded in the listing;
* budget, 400 requests/minute: a sustained backfill sized from the speed runs to
  take a couple of minutes; requests per minute from the sandbox's request log
  (every complete minute, median) against the budget, and the 429s received.

Each run is checked against the sandbox's ground truth (every conversation in the
lake), so a fast loader that drops data does not get a figure.
"""

from __future__ import annotations

import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.config import BenchConfig
from bench.measure import Samples, ratio, stopwatch
from bench.pg import throwaway_database
from bench.report import BenchResult, Figure
from loader.connection import Database
from loader.schema import DEFAULT_RAW_SCHEMA

BUDGET = 400  # requests per minute, the figure Help Scout accounts see most
START = "2025-01-01"
TOKEN_PATH = "/v2/oauth2/token"


class LoaderFailed(RuntimeError):
    """The loader exited non-zero or left conversations out."""


@dataclass
class LoaderRun:
    account: int  # conversations in the sandbox account
    seconds: float
    peak_rss_mb: float
    api_requests: int
    rate_limited: int
    request_times: list[float] = field(default_factory=list)

    @property
    def conversations_per_s(self) -> float:
        return ratio(self.account, self.seconds)


def _loader_env(database: Database, sandbox) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PG") and k != "HELPSCOUT_DATABASE_URL"}
    env.update(database.libpq_env())
    env["HELPSCOUT_APP_ID"] = sandbox.client_id
    env["HELPSCOUT_APP_SECRET"] = sandbox.client_secret
    return env


def loader_command(sandbox, since: str | None = START) -> list[str]:
    return [sys.executable, "-m", "loader", "run", *(["--since", since] if since else []),
            "--api-url", sandbox.base_url, "--token-url", sandbox.token_url, "--lag", "0s"]


def _api_times(sandbox, since: float) -> list[float]:
    return sorted(r.at for r in sandbox.request_log
                  if r.at >= since and r.path.startswith("/v2/") and r.path != TOKEN_PATH)


class PeakMemory:
    """Polls a child's ``VmHWM`` (its own high-water RSS) in ``/proc`` until it exits.

    ``wait4``'s ``ru_maxrss`` cannot be used: Linux carries the parent's RSS over
    ``vfork``/``exec`` into it, so it would report this bench process, sandboxes and
    all. ``VmHWM`` belongs to the address space ``exec`` created. Readings are only
    taken once the child runs the loader (before ``exec`` it still is this process).
    """

    def __init__(self, pid: int, marker: bytes, interval: float = 0.05) -> None:
        self._status = Path(f"/proc/{pid}/status")
        self._cmdline = Path(f"/proc/{pid}/cmdline")
        self._marker = marker
        self._interval = interval
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self.peak_kb = 0

    def _read(self) -> None:
        try:
            if self._marker not in self._cmdline.read_bytes():
                return
            for line in self._status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    self.peak_kb = max(self.peak_kb, int(line.split()[1]))
        except (OSError, ValueError, IndexError):
            pass  # gone, or a zombie without an address space

    def _poll(self) -> None:
        while not self._done.wait(self._interval):
            self._read()

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()


def run_loader(sandbox, database: Database, since: str | None = START) -> LoaderRun:
    """One ``loader run`` backfill into ``database``, timed, its peak memory polled."""
    # History is stamped up to the sandbox's creation second; a run starting in that
    # second would rightly leave its last changes to the next run.
    time.sleep(max(0.0, sandbox.spec.now + 1 - time.time()))
    before = sandbox.stats()
    started = time.time()
    with tempfile.TemporaryFile() as out, stopwatch() as elapsed:
        proc = subprocess.Popen(loader_command(sandbox, since), env=_loader_env(database, sandbox),
                                stdout=out, stderr=subprocess.STDOUT, cwd=Path.cwd())
        with PeakMemory(proc.pid, b"-m\0loader\0run") as memory:
            proc.wait()
        seconds = elapsed()
        if proc.returncode:
            out.seek(0)
            tail = out.read().decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            raise LoaderFailed(f"loader exited {proc.returncode}: {tail[0][:300]}")
    after = sandbox.stats()
    _check_complete(database, sandbox, until=int(started))
    return LoaderRun(
        account=after["conversations"],
        seconds=seconds,
        peak_rss_mb=memory.peak_kb / 1024,
        api_requests=after["requests"] - before["requests"],
        rate_limited=after["rate_limited"] - before["rate_limited"],
        request_times=_api_times(sandbox, started),
    )


def _check_complete(database: Database, sandbox, until: int) -> None:
    """Every conversation modified before the run's start second must be in the lake
    (one modified in that very second is the next run's, as with ``--lag 0s``)."""
    truth = sandbox.truth()
    expected = {cid for cid in truth.conversations if truth.modified_at[cid].timestamp() < until}
    conn = database.connect()
    try:
        with conn.cursor() as cur:
            cur.execute(f"select distinct entity_id from {DEFAULT_RAW_SCHEMA}.conversations")
            loaded = {row[0] for row in cur.fetchall()}
    finally:
        conn.close()
    missing = expected - loaded
    if missing:
        raise LoaderFailed(f"{len(missing)} of {len(expected)} conversations missing from "
                           "the lake after the run")


def bare_fetch(sandbox) -> float:
    """Seconds for one client to page through every conversation with threads embedded."""
    with httpx.Client(timeout=60) as client, stopwatch() as elapsed:
        token = client.post(sandbox.token_url, data={
            "grant_type": "client_credentials", "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret}).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        url: str | None = f"{sandbox.base_url}/conversations?status=all&embed=threads"
        seen = 0
        while url:
            page = client.get(url, headers=headers)
            page.raise_for_status()
            body = page.json()
            seen += len(body.get("_embedded", {}).get("conversations", []))
            url = body.get("_links", {}).get("next", {}).get("href")
        return elapsed()


CONVERSATIONS_PATH = "/v2/conversations"
LIST_PAGE = 25    # conversations per list page
THREADS_PAGE = 50  # threads per page, embedded or listed


@dataclass
class Efficiency:
    account: int
    spam: int
    minimum_list: int
    minimum_threads: int
    requests: dict[str, int]

    @property
    def minimum(self) -> int:
        return self.minimum_list + self.minimum_threads

    @property
    def made(self) -> int:
        return sum(self.requests.values())


def minimum_requests(truth) -> tuple[int, int]:
    """The fewest conversation requests a backfill of ``truth`` can make: list pages
    for every conversation, and the thread pages the embedded first page leaves."""
    conversations = truth.conversations.values()
    listed = math.ceil(len(truth.conversations) / LIST_PAGE)
    threads = sum(max(0, math.ceil(len(c["_embedded"]["threads"]) / THREADS_PAGE) - 1)
                  for c in conversations)
    return listed, threads


def conversation_requests(sandbox, since: float) -> dict[str, int]:
    """The run's conversation requests, by kind, from the sandbox's request log
    (every request the loader sent, retries included, as the API would count them)."""
    kinds: dict[str, int] = {}
    for r in sandbox.request_log:
        if r.at < since or not r.path.startswith(CONVERSATIONS_PATH):
            continue
        if r.path == CONVERSATIONS_PATH:
            kind = "list status=spam" if "status=spam" in r.query else "list status=all"
        elif r.path.endswith("/threads"):
            kind = "threads"
        else:
            kind = "single"
        kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


def measure_efficiency(config: BenchConfig) -> Efficiency:
    """A first backfill from the default start, against the API's minimum."""
    from sandbox import Sandbox

    with Sandbox(size=config.size(3_000, 300), seed=config.seed + 3, start=START,
                 rate_limit=0) as sandbox, throwaway_database("loader_efficiency") as database:
        started = time.time()
        run_loader(sandbox, database, since=None)
        truth = sandbox.truth()
        listed, threads = minimum_requests(truth)
        spam = sum(1 for c in truth.conversations.values() if c["status"] == "spam")
        return Efficiency(len(truth.conversations), spam, listed, threads,
                          conversation_requests(sandbox, started))


def per_minute(times: Sequence[float]) -> tuple[list[int], float]:
    """Requests in each complete minute from the first request, and the mean rate/min."""
    if len(times) < 2:
        return [], float("nan")
    first, last = times[0], times[-1]
    minutes = int((last - first) // 60)
    counts = [sum(1 for t in times if first + 60 * k <= t < first + 60 * (k + 1))
              for k in range(minutes)]
    return counts, (len(times) - 1) / (last - first) * 60


@dataclass
class SpeedResult:
    small: int
    large: int
    runs: list[LoaderRun] = field(default_factory=list)
    bare: Samples = field(default_factory=lambda: Samples("s"))

    def of(self, size: int) -> list[LoaderRun]:
        return [r for r in self.runs if r.account == size]

    @property
    def requests_per_conversation(self) -> float:
        large = self.of(self.large)
        return statistics.median(r.api_requests / r.account for r in large)


def measure_speed(config: BenchConfig, rounds: int = 3, reserve: float = 0.0) -> SpeedResult:
    """Backfills of two account sizes, limit off, alternating; and the bare client.
    Repeats only while the budget keeps ``reserve`` seconds for what follows."""
    from sandbox import Sandbox

    small = config.size(10_000, 200)
    large = 10 * small
    with Sandbox(size=small, seed=config.seed, start=START, rate_limit=0) as sb_small, \
            Sandbox(size=large, seed=config.seed + 1, start=START, rate_limit=0) as sb_large:
        result = SpeedResult(sb_small.stats()["conversations"],
                             sb_large.stats()["conversations"])
        bare_fetch(sb_large)  # warm the sandbox's render cache: time the loader, not it
        bare_fetch(sb_small)
        last_round = 0.0
        for round_no in range(rounds):
            if round_no and not config.budget.allows(last_round + reserve):
                break
            started = time.monotonic()
            result.bare.add(bare_fetch(sb_large))
            for sandbox in (sb_small, sb_large):
                with throwaway_database("loader") as database:
                    result.runs.append(run_loader(sandbox, database))
            last_round = time.monotonic() - started
    return result


def measure_budget(config: BenchConfig, requests_per_conversation: float) -> tuple[LoaderRun,
                                                                                      int]:
    """A rate-limited backfill sized to take ``180 s x scale`` at the budget."""
    from sandbox import Sandbox

    seconds = budget_run_seconds(config)
    size = max(50, math.ceil(BUDGET * seconds / 60 / max(requests_per_conversation, 1e-3)))
    with Sandbox(size=size, seed=config.seed + 2, start=START, rate_limit=BUDGET) as sandbox, \
            throwaway_database("loader_budget") as database:
        return run_loader(sandbox, database), seconds


def budget_run_seconds(config: BenchConfig) -> int:
    return config.size(180, 30)


def estimate_seconds(config: BenchConfig) -> float:
    """Likely cost of one speed round, the rate-limited run and the sandboxes."""
    # A 100k backfill takes about three minutes at scale 1, each round runs one.
    return 40 + 300 * config.scale + budget_run_seconds(config)


def run(config: BenchConfig) -> BenchResult:
    efficiency = measure_efficiency(config)
    speed = measure_speed(config, reserve=budget_run_seconds(config) + 30)
    budget_run, planned = measure_budget(config, speed.requests_per_conversation)
    minutes, mean_rate = per_minute(budget_run.request_times)
    minute_rate = statistics.median(minutes) if minutes else mean_rate
    large_runs = speed.of(speed.large)
    small_rss = statistics.median(r.peak_rss_mb for r in speed.of(speed.small))
    large_rss = statistics.median(r.peak_rss_mb for r in large_runs)
    loader_rate = statistics.median(r.conversations_per_s for r in large_runs)
    bare_rate = ratio(speed.large, speed.bare.median)
    return BenchResult(
        name="loader_api",
        figures=[
            Figure.against(f"requests/min at a {BUDGET}/min budget", minute_rate, "req/min",
                           samples=len(minutes) or None),
            Figure.against("share of the budget used", ratio(minute_rate, BUDGET) * 100, "%",
                           at_least=95, samples=len(minutes) or None),
            Figure.against("429s received (rate-limited run)", budget_run.rate_limited, "",
                           at_most=0),
            Figure.against("conversations/s, limit off", loader_rate, "conv/s",
                           samples=len(large_runs)),
            Figure.against("loader / bare sequential client (limit off)",
                           ratio(loader_rate, bare_rate), "x", samples=len(large_runs),
                           note="the bare client only pages the listing and stores nothing"),
            Figure.against(f"peak RSS, {speed.small:,}-conversation backfill", small_rss, "MB",
                           samples=len(speed.of(speed.small))),
            Figure.against(f"peak RSS, {speed.large:,}-conversation backfill", large_rss, "MB",
                           samples=len(large_runs)),
            Figure.against("peak RSS growth for a 10x larger backfill",
                           ratio(large_rss, small_rss), "x", at_most=1.2,
                           samples=len(large_runs)),
            Figure.against("API requests / minimum, backfill from 2011",
                           ratio(efficiency.made, efficiency.minimum), "x", at_most=1.10,
                           note=f"{efficiency.made} conversation requests for "
                                f"{efficiency.account:,} conversations; minimum "
                                f"{efficiency.minimum}"),
        ],
        details={
            "efficiency": {
                "account_conversations": efficiency.account,
                "spam_conversations": efficiency.spam,
                "minimum_list_pages": efficiency.minimum_list,
                "minimum_thread_pages": efficiency.minimum_threads,
                "requests": efficiency.requests,
            },
            "budget_run": {
                "account_conversations": budget_run.account,
                "planned_seconds": planned,
                "seconds": round(budget_run.seconds, 1),
                "api_requests": budget_run.api_requests,
                "rate_limited": budget_run.rate_limited,
                "requests_per_complete_minute": minutes,
                "mean_requests_per_min_first_to_last": mean_rate,
            },
            "speed_runs": [_run_dict(r) for r in speed.runs],
            "bare_client_s": speed.bare.as_dict(),
            "bare_client_conversations_per_s": bare_rate,
            "requests_per_conversation": speed.requests_per_conversation,
        },
    )


def _run_dict(run: LoaderRun) -> dict[str, Any]:
    return {"account_conversations": run.account, "seconds": round(run.seconds, 2),
            "conversations_per_s": round(run.conversations_per_s, 1),
            "peak_rss_mb": round(run.peak_rss_mb, 1), "api_requests": run.api_requests,
            "rate_limited": run.rate_limited}
