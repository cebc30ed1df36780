"""Measure the sandbox as a load generator: ``python -m sandbox.measure --size 200000``.

Starts ``python -m sandbox serve`` in a child process and reports its start-up time
and memory, list pages per second with ``embed=threads`` (cold: first render; warm:
cached), hourly modifiedAt windows per second, and the cost of the streamed truth.
Server CPU time per request is reported too: wall-clock rates on a shared machine
say more about the neighbours than about the sandbox.
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from datetime import datetime, timedelta, timezone

import httpx

from sandbox.remote import ServedSandbox, fetch_token, serve_subprocess

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _memory_mb(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as status:
        line = next(x for x in status if x.startswith(key))
    return int(line.split()[1]) // 1024


def _pages(served: ServedSandbox, headers: dict[str, str], first: int, count: int,
           clients: int) -> tuple[float, float, float]:
    """(pages per second, server CPU ms per page, KB per page) over ``clients`` threads."""
    sizes: list[int] = []

    def run(start: int) -> None:
        with httpx.Client(headers=headers, timeout=60) as client:
            for page in range(start, start + count):
                answer = client.get(f"{served.base_url}/conversations",
                                    params={"status": "all", "embed": "threads", "page": page})
                answer.raise_for_status()
                sizes.append(len(answer.content))

    workers = [threading.Thread(target=run, args=(first + i * count,)) for i in range(clients)]
    cpu, began = _cpu_seconds(served.process.pid), time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    wall, cpu = time.monotonic() - began, _cpu_seconds(served.process.pid) - cpu
    return len(sizes) / wall, 1000 * cpu / len(sizes), sum(sizes) / len(sizes) / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.measure")
    parser.add_argument("--size", type=int, default=200_000)
    parser.add_argument("--pages", type=int, default=200, help="pages per client and pass")
    parser.add_argument("--truth", action="store_true", help="also time /_sandbox/truth")
    args = parser.parse_args(argv)
    began = time.monotonic()
    with serve_subprocess("--size", str(args.size), "--seed", "1", "--start", "2024-01-01",
                          "--rate-limit", "0") as served:
        pid = served.process.pid
        print(f"size {args.size}: ready in {time.monotonic() - began:.1f} s wall "
              f"({_cpu_seconds(pid):.1f} s CPU), RSS {_memory_mb(pid, 'VmRSS')} MB")
        token = fetch_token(served.token_url, served.client_id, served.client_secret)
        headers = {"Authorization": f"Bearer {token}"}
        for label, first, clients in (("cold, 1 client", 1, 1), ("warm, 1 client", 1, 1),
                                      ("cold, 2 clients", 1 + args.pages, 2)):
            rate, cpu_ms, kb = _pages(served, headers, first, args.pages, clients)
            print(f"  list pages, embed=threads, {label}: {rate:.0f}/s wall; "
                  f"{cpu_ms:.1f} ms server CPU each ({1000 / cpu_ms:.0f}/s per core); "
                  f"{kb:.0f} KB each")
        hour = datetime.now(timezone.utc).replace(minute=0, second=0) - timedelta(days=30)
        cpu, t0, n = _cpu_seconds(pid), time.monotonic(), 300
        with httpx.Client(headers=headers, timeout=60) as client:
            for i in range(n):
                low = hour + timedelta(hours=i)
                high = low + timedelta(seconds=3599)
                query = (f"(modifiedAt:[{low:%Y-%m-%dT%H:%M:%SZ} TO "
                         f"{high:%Y-%m-%dT%H:%M:%SZ}])")
                client.get(f"{served.base_url}/conversations",
                           params={"status": "all", "query": query, "embed": "threads",
                                   "sortField": "modifiedAt", "sortOrder": "asc"}
                           ).raise_for_status()
        print(f"  hourly modifiedAt windows: {n / (time.monotonic() - t0):.0f}/s wall; "
              f"{1000 * (_cpu_seconds(pid) - cpu) / n:.1f} ms server CPU each")
        if args.truth:
            cpu, t0 = _cpu_seconds(pid), time.monotonic()
            body = httpx.get(f"{served.admin_url}/truth", timeout=1800).content
            print(f"  /_sandbox/truth: {time.monotonic() - t0:.0f} s wall, "
                  f"{_cpu_seconds(pid) - cpu:.0f} s CPU, {len(body) >> 20} MB")
        print(f"  server peak RSS {_memory_mb(pid, 'VmHWM')} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
