"""``hs-load``: load a Help Scout account into the PostgreSQL lake.

    hs-load run [--since DATE] [--until DATE] [--streams tags,mailboxes,folders,users,conversations]
                [--window DURATION] [--overlap 15m] [--lag 5m] [--concurrency 4]
    hs-load reconcile [--if-due] [--every 24h]
    hs-load status

From Python: ``loader.cli.main(["run", "--api-url", url])`` returns the exit code
(credentials from ``HELPSCOUT_APP_ID``/``HELPSCOUT_APP_SECRET``); or call
:func:`loader.runner.load` / :func:`loader.runner.reconcile` for a report object.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn
from urllib.parse import urlparse

from loader.config import (
    RunSettings,
    api_settings_from,
    iso,
    parse_datetime,
    parse_duration,
    parse_streams,
    raw_schema_from,
)
from loader.connection import Database
from loader.errors import (
    EXIT_CODES,
    EXIT_INTERNAL,
    EXIT_USAGE,
    LoaderError,
    UsageError,
    scrub,
)
from loader.observe import Observer
from loader.runner import RunReport, load, open_database, reconcile
from loader.schema import migrate
from loader.signals import as_error, stop_signals
from loader.status import render
from loader.streams import DEFAULT_STREAMS, STREAMS
from loader.work import connect

ENVIRONMENT = """\
environment:
  HELPSCOUT_APP_ID, HELPSCOUT_APP_SECRET   the app's credentials (never logged or stored)
  HELPSCOUT_API_URL    default https://api.helpscout.net/v2 (--api-url overrides)
  HELPSCOUT_TOKEN_URL  default <api url>/oauth2/token (--token-url overrides)
  HELPSCOUT_RAW_SCHEMA default helpscout_raw
  HELPSCOUT_DATABASE_URL or PG* variables: the lake's PostgreSQL
  (`hs-ops load ...` runs hs-load on the project's database, the embedded one by default)
"""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit code 2), like every other error."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"error: {message} (see {self.prog} --help)\n")


def _duration(text: str):
    try:
        return parse_duration(text)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return int(text)


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return int(text)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected seconds >= 0, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    codes = "\n".join(f"  {code:>3}  {meaning}" for code, meaning in EXIT_CODES.items())
    parser = _Parser(
        prog="hs-load", description="Load a Help Scout account into the PostgreSQL lake.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=f"{ENVIRONMENT}\nexit codes:\n{codes}",
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--api-url", help="Help Scout API base URL (HELPSCOUT_API_URL)")
    common.add_argument("--token-url", help="OAuth2 token URL (HELPSCOUT_TOKEN_URL)")
    common.add_argument("--retries", type=_count, default=5,
                        help="resends of a failed request (default 5)")
    common.add_argument("--retry-backoff", type=_seconds, default=1.0, metavar="SECONDS",
                        help="first backoff, doubled per retry (default 1)")
    common.add_argument("--timeout", type=_seconds, default=60.0, metavar="SECONDS",
                        help="HTTP timeout (default 60)")
    common.add_argument("-v", "--verbose", action="count", default=0,
                        help="log retries and windows (-vv: debug)")
    locking = argparse.ArgumentParser(add_help=False)
    locking.add_argument("--wait", action="store_true",
                         help="if another run or reconcile holds the lake, wait for it "
                              "(default: exit 11 at once)")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", parents=[common, locking], help="extract into the lake",
                         description="Load the listings, then conversations modified since "
                                     "the watermark (or --since) up to now - lag.")
    run.add_argument("--since", help="first modifiedAt to read (date or ISO datetime, UTC); "
                                     "default: the watermark, or 2011-01-01 on a first run")
    run.add_argument("--until", help="stop before this moment (exclusive); default now - lag")
    run.add_argument("--streams", default=",".join(DEFAULT_STREAMS),
                     help="comma list of " + "; ".join(f"{s.name} ({s.description})"
                                                        for s in STREAMS) + " (default all)")
    run.add_argument("--window", type=_duration, default=None,
                     help="the first modifiedAt window (default: the whole span); later "
                          "windows are sized to ~--window-target conversations and grow "
                          "over empty spans")
    run.add_argument("--window-target", type=_positive, default=500, metavar="N",
                     help="conversations per window to aim for (default 500)")
    run.add_argument("--overlap", type=_duration, default=parse_duration("15m"),
                     help="re-read this much before the watermark (default 15m)")
    run.add_argument("--lag", type=_duration, default=parse_duration("5m"),
                     help="stay this far behind now: the search index lags (default 5m)")
    run.add_argument("--ratings-lookback", type=_duration, default=parse_duration("30d"),
                     metavar="DURATION",
                     help="ratings created this long before the watermark are re-read "
                          "each run, to see changed ratings (default 30d)")
    run.add_argument("--concurrency", type=_positive, default=4,
                     help="windows in flight at once (default 4)")

    rec = sub.add_parser("reconcile", parents=[common, locking],
                         help="tombstone deleted/merged ones",
                         description="List the ids the account still has and tombstone the "
                                     "known conversations that are gone.")
    rec.add_argument("--if-due", action="store_true",
                     help="only if the last successful reconcile is older than --every")
    rec.add_argument("--every", type=_duration, default=parse_duration("24h"),
                     help="cadence for --if-due (default 24h)")

    sub.add_parser("status", parents=[common], help="watermark, recent runs, failures")
    return parser


def _api(args: argparse.Namespace, env: dict[str, str]):
    return api_settings_from(env, api_url=args.api_url, token_url=args.token_url,
                             retries=args.retries, backoff=args.retry_backoff,
                             timeout=args.timeout)


def _run(args: argparse.Namespace, env: dict[str, str], database: Database | None,
         observers: Sequence[Observer]) -> RunReport:
    streams = parse_streams(args.streams)
    since = parse_datetime(args.since, "--since") if args.since else None
    until = parse_datetime(args.until, "--until") if args.until else None
    settings = RunSettings(streams=streams, since=since, until=until, window=args.window,
                           window_target=args.window_target, overlap=args.overlap,
                           lag=args.lag, concurrency=args.concurrency,
                           report_lookback=args.ratings_lookback)
    api = _api(args, env)
    arguments: dict[str, Any] = {
        "streams": list(streams), "since": iso(since) if since else None,
        "until": iso(until) if until else None,
        "window": args.window.total_seconds() if args.window else None,
        "window_target": args.window_target, "overlap": args.overlap.total_seconds(),
        "lag": args.lag.total_seconds(), "concurrency": args.concurrency,
        "ratings_lookback": args.ratings_lookback.total_seconds(),
        "token_url": api.token_url,
    }
    return load(api, settings, database=database, schema=raw_schema_from(env),
                arguments=arguments,
                progress=sys.stderr, observers=observers, wait=args.wait)


def _reconcile(args: argparse.Namespace, env: dict[str, str], database: Database | None,
               observers: Sequence[Observer]) -> RunReport:
    api = _api(args, env)
    arguments = {"if_due": args.if_due, "every": args.every.total_seconds(),
                 "token_url": api.token_url}
    return reconcile(api, database=database, schema=raw_schema_from(env), if_due=args.if_due,
                     every=args.every, arguments=arguments, observers=observers,
                     wait=args.wait)


def _status(env: dict[str, str], database: Database | None) -> str:
    schema = raw_schema_from(env)
    conn = connect(open_database(database))
    try:
        migrate(conn, schema)
        return render(conn, schema)
    finally:
        conn.close()


def _configure_logging(verbosity: int) -> None:
    level = {0: logging.ERROR, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    logging.basicConfig(level=level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs every request at INFO; only our own lines are wanted at -v.
    logging.getLogger("httpx").setLevel(logging.WARNING if verbosity < 2 else logging.DEBUG)
    logging.getLogger("httpcore").setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None, *, database: Database | None = None,
         observers: Sequence[Observer] = ()) -> int:
    """Entry point of ``hs-load``; returns the exit code (see :mod:`loader.errors`).

    ``database`` is the lake to load; by default the environment names it.
    ``observers`` are told how the run advances (:mod:`loader.observe`).
    """
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error already printed on one line
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    env = dict(os.environ)
    _configure_logging(args.verbose)
    secrets = [env.get("HELPSCOUT_APP_SECRET"), env.get("PGPASSWORD"),
               urlparse(env.get("HELPSCOUT_DATABASE_URL", "")).password]
    try:
        with stop_signals():  # SIGTERM as Ctrl-C from here on, even before a run starts
            return _command(args, env, database, observers, secrets)
    except KeyboardInterrupt as exc:  # before the run row existed (after: in the report)
        error = as_error(exc)
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code


def _command(args: argparse.Namespace, env: dict[str, str], database: Database | None,
             observers: Sequence[Observer], secrets: list[str | None]) -> int:
    try:
        if args.command == "status":
            _api(args, env)  # its options are checked like everywhere, though unused
            print(_status(env, database))
            return 0
        if args.command == "run":
            report = _run(args, env, database, observers)
        else:
            report = _reconcile(args, env, database, observers)
    except LoaderError as exc:
        print(f"error: {scrub(str(exc), secrets)}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:  # a bug: still one line, the traceback only with -v
        logging.getLogger(__name__).debug("internal error", exc_info=True)
        text = " ".join(str(exc).split())
        print(f"error: internal error: {type(exc).__name__}: {scrub(text, secrets)}",
              file=sys.stderr)
        return EXIT_INTERNAL
    print(scrub(report.summary(), secrets))
    for stream in report.streams:  # not an error: the run succeeds without it
        if stream.unavailable:
            print(f"warning: {stream.stream} skipped: {scrub(stream.unavailable, secrets)}",
                  file=sys.stderr)
    if report.error:
        print(f"error: {scrub(str(report.error), secrets)}", file=sys.stderr)
    return report.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
