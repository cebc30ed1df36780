"""Command line: ``hs-sandbox serve`` / ``python -m sandbox serve`` and ``advance``.

``serve`` prints the base URL, token URL, client id and the sandbox's own fake
secret (it guards nothing real), then serves until SIGINT/SIGTERM.
``advance`` asks a running sandbox's admin endpoint to apply changes.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from typing import Any

import httpx


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hs-sandbox",
                                     description="A local Help Scout Mailbox API 2.0 sandbox")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve a synthetic account until stopped")
    serve.add_argument("--size", type=int, default=3000, help="number of conversations")
    serve.add_argument("--seed", type=int, default=42)
    serve.add_argument("--start", default="2025-01-01", help="first day of history (UTC)")
    serve.add_argument("--now", default=None,
                       help="end of generated history (default: the wall clock)")
    serve.add_argument("--rate-limit", type=int, default=400, help="per minute; 0 = off")
    serve.add_argument("--token-lifetime", type=int, default=172_800, help="seconds")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=0, help="0 = a free port")
    serve.add_argument("--change-every", type=float, default=None, metavar="SECONDS",
                       help="apply one random change every SECONDS")
    serve.add_argument("--mutate-during-paging", type=int, default=0, metavar="N",
                       help="apply one change after every N conversation list pages")
    serve.add_argument("--all-includes-spam", action="store_true",
                       help="make status=all include spam (default: it does not)")
    serve.add_argument("--thread-count-excludes-lineitems", action="store_true",
                       help="leave line items out of each conversation's threads count "
                            "(as the legacy API did; default: count every thread)")
    serve.add_argument("--json", action="store_true", help="print the connection as JSON")
    adv = sub.add_parser("advance", help="apply changes to a running sandbox")
    adv.add_argument("--url", required=True, help="the sandbox base URL (…/v2) or its root")
    adv.add_argument("--steps", type=int, default=10)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            return _serve(args)
        return _advance(args)
    except (ValueError, OSError, httpx.HTTPError) as exc:
        print(f"hs-sandbox: error: {exc}", file=sys.stderr)
        return 2


def _serve(args: argparse.Namespace) -> int:
    from sandbox.core import Sandbox

    sandbox = Sandbox(size=args.size, seed=args.seed, start=args.start, now=args.now,
                      rate_limit=args.rate_limit, token_lifetime=args.token_lifetime,
                      host=args.host, port=args.port, all_includes_spam=args.all_includes_spam,
                      mutate_during_paging=args.mutate_during_paging,
                      thread_count_excludes_lineitems=args.thread_count_excludes_lineitems)
    info: dict[str, Any] = {
        "base_url": sandbox.base_url, "token_url": sandbox.token_url,
        "admin_url": sandbox.admin_url, "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
    }
    if args.json:
        print(json.dumps(info), flush=True)
    else:
        for key, value in info.items():
            print(f"{key}: {value}", flush=True)
    if args.change_every:
        sandbox.change_every(args.change_every)
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    stopped.wait()
    sandbox.stop()
    return 0


def _advance(args: argparse.Namespace) -> int:
    root = args.url.rstrip("/")
    for suffix in ("/v2", "/_sandbox"):
        root = root.removesuffix(suffix)
    response = httpx.post(f"{root}/_sandbox/advance", json={"steps": args.steps}, timeout=60)
    response.raise_for_status()
    summary = response.json()
    print(json.dumps({k: summary[k] for k in ("stamp", "applied", "counts")}))
    return 0
