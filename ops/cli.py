"""``hs-ops``: operate the project (the make targets call it).

    hs-ops db start|stop|shell|describe|env    the configured PostgreSQL
    hs-ops load run|reconcile|status [...]      hs-load on that database
    hs-ops dbt <dbt arguments>                  dbt on the project and that database
    hs-ops report [--schema S] [--top N] [--html-dir D] [--email]   the latest complete week
    hs-ops demo [--size N] [--seed S]           sandbox account to built marts
    hs-ops alerts [--since DATE] [--dry-run]    new volume anomalies to webhook/e-mail
    hs-ops erase --email ADDRESS | --customer-id N   a customer's right to erasure
    hs-ops dashboards start|stop|status|export  the local Superset (make dashboards)
    hs-ops readonly-role [--role R] [--owner O] the read-only role BI tools log in as
    hs-ops airflow start|stop|status [--port P] a local Airflow running the DAG
    hs-ops holidays ES --years 2024-2027        public holidays into the dbt seed

Exit codes are hs-load's table (:mod:`loader.errors`), so a script or an orchestrator
reads every command alike; ``dbt`` passes dbt's own code through.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from loader.connection import DatabaseError
from loader.errors import (
    EXIT_CODES,
    EXIT_DATABASE,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_NOT_BUILT,
    EXIT_USAGE,
    LoaderError,
)
from ops import database as db
from ops.report import ReportError

DB_COMMANDS = ("start", "stop", "shell", "describe", "env")


class _Parser(argparse.ArgumentParser):
    """A usage error is one line and exit code 2, as in ``hs-load``."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"error: {message} (see {self.prog} --help)\n")


def _db(args: argparse.Namespace) -> int:
    if args.action == "start":
        print(f"ready: {db.resolve().describe()}")
    elif args.action == "stop":
        if db.is_external():
            print("an external database is configured; nothing to stop")
        else:
            print("stopped" if db.stop_embedded(db.pgdata_dir()) else "not running")
    elif args.action == "describe":
        print(db.resolve().describe())
    elif args.action == "env":
        # For shell use: export $(hs-ops db env). Holds the password only when the
        # environment already configures one.
        for key, value in db.resolve().libpq_env().items():
            print(f"{key}={value}")
    else:  # shell
        database = db.resolve()
        env = {**os.environ, **database.libpq_env()}
        os.execvpe(db.psql_path(), [db.psql_path(), *args.rest], env)
    return 0


def _load(args: argparse.Namespace) -> int:
    from loader import cli as loader_cli

    return loader_cli.main(args.rest, database=db.resolve())


def _dbt(args: argparse.Namespace) -> int:
    from ops.dbt import run_dbt

    return run_dbt(args.rest, db.resolve()).returncode


def _report(args: argparse.Namespace) -> int:
    from ops.report import build_report

    if args.top < 1:
        raise _UsageError("--top must be at least 1")
    database = db.resolve()
    text = build_report(database, args.schema, args.top)
    print(text)
    if args.html_dir is not None or args.email:
        from loader.errors import EXIT_DELIVERY
        from ops.delivery import ConfigurationError, DeliveryError
        from ops.report_html import publish

        try:
            lines = publish(database, args.schema, text, html_dir=args.html_dir,
                            email=args.email)
        except ConfigurationError as exc:
            raise _UsageError(str(exc)) from None
        except DeliveryError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_DELIVERY
        print("", *lines, sep="\n")
    return 0


def _alerts(args: argparse.Namespace) -> int:
    from loader.errors import EXIT_DELIVERY
    from ops import alerts
    from ops.delivery import ConfigurationError

    try:
        outcome = alerts.run_alerts(db.resolve(), schema=args.schema, ops_schema=args.ops_schema,
                                    since=args.since, dry_run=args.dry_run)
    except ConfigurationError as exc:
        raise _UsageError(str(exc)) from None
    except alerts.AlertsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_NOT_BUILT if exc.not_built else EXIT_DATABASE
    if outcome.failures:
        print(f"error: {alerts.failure_line(outcome)}", file=sys.stderr)
        return EXIT_DELIVERY
    return 0


def _day(text: str):
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _demo(args: argparse.Namespace) -> int:
    from ops.demo import run_demo

    return run_demo(db.resolve(), size=args.size, seed=args.seed, days=args.days)


def _erase(args: argparse.Namespace) -> int:
    from ops.dbt import run_dbt
    from ops.erasure import erase

    database = db.resolve()
    result = erase(database, email=args.email, customer_id=args.customer_id,
                   raw_schema=args.raw_schema)
    print(result.summary())
    if args.no_rebuild:
        print("not rebuilt: run `hs-ops dbt build --full-refresh` before anyone reads the marts")
        return 0
    # Incremental models never look at rows loaded before their high-water mark, so
    # only a full refresh replaces the erased values in staging and the marts.
    print("rebuilding every model from the erased lake (dbt build --full-refresh)")
    if run_dbt(["build", "--full-refresh"], database).returncode != 0:
        print("error: the lake is erased but the rebuild failed; run"
              " `hs-ops dbt build --full-refresh` once the cause is fixed", file=sys.stderr)
        return EXIT_INTERNAL
    return 0


def _dashboards(args: argparse.Namespace) -> int:
    from ops.dashboards import run_action
    from ops.readonly import ReadonlyRole

    database = db.resolve() if args.action == "start" else None
    return run_action(args.action, database, ReadonlyRole(name=args.role))


def _readonly_role(args: argparse.Namespace) -> int:
    from ops.readonly import ReadonlyRole, ensure_readonly_role

    password = os.environ.get("HELPSCOUT_READONLY_PASSWORD") or None
    role = ReadonlyRole(name=args.role, marts_schema=args.schema, owner=args.owner)
    owner = ensure_readonly_role(db.resolve(), role, password)
    print(f"role {role.name}: usage and select on schema {role.marts_schema}, including"
          f" tables {owner} creates later; no access to {', '.join(role.private_schemas)}")
    return 0


def _airflow(args: argparse.Namespace) -> int:
    from ops import airflow

    local = airflow.LocalAirflow(port=args.port)
    try:
        if args.action == "start":
            return airflow.start(local)
        if args.action == "stop":
            print("stopped" if airflow.stop(local) else "not running")
            return 0
        pid = local.running_pid()
        print(f"running (process group {pid}) at {local.url}" if pid else "not running")
        return 0
    except airflow.AirflowError as exc:
        raise _UsageError(str(exc)) from None


def _holidays(args: argparse.Namespace) -> int:
    from ops import holidays

    try:
        result = holidays.fill_seed(
            args.country, holidays.parse_years(args.years), subdivision=args.subdiv,
            mailbox_id=args.mailbox_id, language=args.language, replace=args.replace,
            path=args.output or holidays.SEED_PATH)
    except holidays.HolidaysError as exc:
        raise _UsageError(str(exc)) from None
    scope = f"mailbox {args.mailbox_id}" if args.mailbox_id is not None else "every mailbox"
    print(f"holidays {args.country.upper()}{'-' + args.subdiv.upper() if args.subdiv else ''}"
          f" {args.years} for {scope}: {result.added} added, {result.kept} already there"
          + (f", {result.dropped} replaced" if args.replace else "") + f" -> {result.path}")
    print("next: hs-ops dbt seed --select holidays, then"
          " hs-ops dbt build --full-refresh --select conversations+")
    return 0


class _UsageError(Exception):
    pass


def build_parser() -> argparse.ArgumentParser:
    codes = "\n".join(f"  {code:>3}  {meaning}" for code, meaning in EXIT_CODES.items())
    parser = _Parser(prog="hs-ops", description="Operate the Help Scout ELT project.",
                     formatter_class=argparse.RawDescriptionHelpFormatter,
                     epilog=f"exit codes:\n{codes}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("db", help="the configured PostgreSQL (embedded unless PG* say otherwise)")
    p.add_argument("action", choices=DB_COMMANDS)
    p.add_argument("rest", nargs=argparse.REMAINDER, help="psql arguments (shell)")
    p.set_defaults(handler=_db)

    p = sub.add_parser("load", help="hs-load on the configured database", add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(handler=_load)

    p = sub.add_parser("dbt", help="dbt on the project and the configured database",
                       add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(handler=_dbt)

    p = sub.add_parser("report", help="the latest complete week and its busiest mailboxes")
    p.add_argument("--schema", default="helpscout", help="schema of the marts")
    p.add_argument("--top", type=int, default=5, help="how many mailboxes to list")
    p.add_argument("--html-dir", type=Path, default=None,
                   help="also write the week's self-contained HTML report (with charts) here")
    p.add_argument("--email", action="store_true",
                   help="also e-mail the HTML report (HELPSCOUT_SMTP_*, HELPSCOUT_REPORT_EMAIL_TO)")
    p.set_defaults(handler=_report)

    p = sub.add_parser("demo", help="a sandbox account loaded, built and documented")
    p.add_argument("--size", type=int, default=3000, help="conversations (default 3000)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--days", type=int, default=365, help="days of history (default 365)")
    p.set_defaults(handler=_demo)

    p = sub.add_parser("alerts", help="send new volume anomalies to the webhook and/or e-mail")
    p.add_argument("--schema", default="helpscout", help="schema of the marts")
    p.add_argument("--ops-schema", default="helpscout_ops",
                   help="schema of the alerts_sent record (created on first use)")
    p.add_argument("--since", type=_day, default=None,
                   help="first day to consider (default: seven days ago)")
    p.add_argument("--dry-run", action="store_true",
                   help="print the alerts that are due; send and record nothing")
    p.set_defaults(handler=_alerts)

    p = sub.add_parser("erase", help="erase a customer's personal data (right to erasure)",
                       description="Remove a customer's names, addresses and thread bodies "
                                   "from the lake, log it, and rebuild the marts.")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--email", help="the customer's email address")
    who.add_argument("--customer-id", type=int, help="the customer's Help Scout id")
    p.add_argument("--raw-schema", default=os.environ.get("HELPSCOUT_RAW_SCHEMA",
                                                          "helpscout_raw"))
    p.add_argument("--no-rebuild", action="store_true",
                   help="skip the full rebuild (run it yourself before the marts are read)")
    p.set_defaults(handler=_erase)

    p = sub.add_parser("dashboards", help="the local Superset with the project's dashboards")
    p.add_argument("action", choices=("start", "stop", "status", "export"))
    p.add_argument("--role", default="helpscout_reader", help="read-only role Superset uses")
    p.set_defaults(handler=_dashboards)

    p = sub.add_parser("readonly-role", help="create or update the read-only role for BI tools"
                       " (password from HELPSCOUT_READONLY_PASSWORD, if set)")
    p.add_argument("--role", default="helpscout_reader")
    p.add_argument("--schema", default="helpscout", help="the marts schema it may read")
    p.add_argument("--owner", default=None,
                   help="the role dbt builds as (default: the connecting user)")
    p.set_defaults(handler=_readonly_role)

    p = sub.add_parser("airflow", help="a local Airflow (own virtualenv) running the DAG")
    p.add_argument("action", choices=("start", "stop", "status"))
    p.add_argument("--port", type=int, default=int(os.environ.get("AIRFLOW_PORT") or 8081),
                   help="API server and UI port on 127.0.0.1 (AIRFLOW_PORT, default 8081)")
    p.set_defaults(handler=_airflow)

    p = sub.add_parser("holidays", help="fill the holidays seed from the `holidays` package")
    p.add_argument("country", help="ISO 3166-1 code, e.g. ES")
    p.add_argument("--years", required=True, help="2025 or 2024-2027")
    p.add_argument("--subdiv", help="region whose holidays also count, e.g. MD (Madrid)")
    p.add_argument("--mailbox-id", type=int, help="only for this mailbox (default: every one)")
    p.add_argument("--language", help="language of the names, e.g. es (default: the country's)")
    p.add_argument("--replace", action="store_true",
                   help="first drop the seed's rows of the same mailbox scope in those years")
    p.add_argument("--output", type=Path, help="seed file (default dbt_project/seeds/holidays.csv)")
    p.set_defaults(handler=_holidays)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error already printed on one line
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except _UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except DatabaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_DATABASE
    except LoaderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_NOT_BUILT
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
