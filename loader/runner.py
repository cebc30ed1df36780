"""One loader invocation from start to end, callable from Python without argv.

:func:`load` and :func:`reconcile` are what ``hs-load run`` and ``hs-load reconcile``
do after parsing flags; the demo and the bench can call them directly. Each opens
the database, migrates the lake, takes the lake's lock (:mod:`loader.lock`), marks
runs whose process is gone ``abandoned``, records a ``load_runs`` row, does its work
and closes the row as ``succeeded``, ``failed`` or ``interrupted`` (with the one-line
reason). Expected failures and interrupts come back in :attr:`RunReport.error`,
never as an exception, once the run row exists; before that (database unreachable,
missing credentials, the lake busy) they raise :class:`~loader.errors.LoaderError`
(or :class:`KeyboardInterrupt`).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TextIO

import psycopg2

from loader import lock
from loader.client import HelpScoutClient
from loader.config import ApiSettings, RunSettings, check_range, iso, utcnow
from loader.connection import Database, DatabaseError, from_environment
from loader.errors import (
    DatabaseUnavailable,
    InternalError,
    Interrupted,
    LoaderError,
    first_line,
)
from loader.extract import (
    FATAL,
    ConversationWindows,
    StreamResult,
    load_listing,
    load_per_parent,
)
from loader.lake import RunLog
from loader.observe import Observer, Observers
from loader.progress import Progress
from loader.reconcile import ReconcileResult
from loader.reconcile import reconcile as sweep
from loader.schema import DEFAULT_RAW_SCHEMA, migrate
from loader.signals import as_error, stop_signals
from loader.stats import Counters
from loader.streams import Kind, Stream, select
from loader.windows import run_span, watermark
from loader.work import Extraction, connect

log = logging.getLogger(__name__)


@dataclass
class RunReport:
    """What a run did, for the summary line, the exit code and callers."""

    command: str
    run_id: uuid.UUID | None = None
    streams: list[StreamResult] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    error: LoaderError | None = None
    elapsed: float = 0.0
    watermark: datetime | None = None
    reconcile: ReconcileResult | None = None
    skipped: str | None = None
    abandoned: int = 0  # earlier runs found `running` with their process gone

    @property
    def status(self) -> str:
        """How the run ended, as ``load_runs.status`` records it."""
        if self.error is None:
            return "succeeded"
        return "interrupted" if isinstance(self.error, Interrupted) else "failed"

    @property
    def exit_code(self) -> int:
        return self.error.exit_code if self.error else 0

    @property
    def rows(self) -> int:
        return sum(s.rows for s in self.streams) + (self.reconcile.rows if self.reconcile else 0)

    def summary(self) -> str:
        if self.skipped:
            return f"{self.command}: {self.skipped}"
        outcome = self.status
        parts = [f"{s.stream} {s.rows:,} rows" + (f" in {s.units} windows"
                                                   if s.kind is Kind.WINDOWED else "")
                 for s in self.streams]
        if self.reconcile:
            r = self.reconcile
            parts.append(f"{r.listed:,} listed, {r.deleted} deleted, {r.merged} merged, "
                         f"{r.still_there} re-read")
        s = self.stats
        parts.append(f"{s.get('requests', 0):,} requests ({s.get('rate_limited', 0)} rate-limited"
                     f", {s.get('retries', 0)} retries)")
        if self.watermark:
            parts.append(f"watermark {iso(self.watermark)}")
        if self.abandoned:
            parts.append(f"{self.abandoned} earlier run(s) found killed, marked abandoned")
        return f"{self.command} {outcome} in {self.elapsed:.1f}s: " + "; ".join(parts)


def open_database(database: Database | None = None) -> Database:
    try:
        return database or from_environment()
    except DatabaseError as exc:
        raise DatabaseUnavailable(str(exc)) from None


Work = Callable[[Any, Extraction, RunReport], None]


def _execute(command: str, api: ApiSettings, arguments: dict[str, Any],
             database: Database | None, schema: str, work: Work, *,
             observers: Sequence[Observer] = (), settings: RunSettings | None = None,
             wait: bool = False) -> RunReport:
    """Database, lake, lock, run row, client: the frame around every command's ``work``.

    Every ending closes the run row as it really ended: ``succeeded``; ``failed``
    with the error; ``interrupted`` (SIGINT or SIGTERM) with which. A unit in
    progress is rolled back first, so nothing half-done is ever committed with it.
    """
    database = open_database(database)
    with stop_signals():
        conn = connect(database)
        try:
            migrate(conn, schema)
            runlog = RunLog(schema)
            lock.acquire(conn, runlog, wait=wait)
            report = RunReport(command, abandoned=runlog.abandon_running(conn))
            with HelpScoutClient(api, Counters()) as client:
                _run_recorded(conn, client, database, runlog, report, work, arguments,
                              Observers(observers), settings or RunSettings())
        finally:
            conn.close()
    return report


def _run_recorded(conn, client: HelpScoutClient, database: Database, runlog: RunLog,
                  report: RunReport, work: Work, arguments: dict[str, Any],
                  observers: Observers, settings: RunSettings) -> None:
    started = time.monotonic()
    counters = client.counters
    report.run_id = runlog.start_run(conn, report.command, arguments, client.settings.api_url)
    ex = Extraction(client, database, runlog, report.run_id, counters, settings, observers,
                    secrets=[database.password])
    try:
        client.authenticate()
        work(conn, ex, report)
    except LoaderError as exc:
        report.error = exc
    except psycopg2.OperationalError as exc:
        report.error = DatabaseUnavailable(f"lost the database: {first_line(exc)}")
    except KeyboardInterrupt as exc:  # SIGINT, or SIGTERM (loader.signals)
        report.error = as_error(exc)
    except Exception as exc:
        log.debug("internal error", exc_info=True)
        report.error = InternalError(f"{type(exc).__name__}: {first_line(exc)}")
    finally:
        report.elapsed = time.monotonic() - started
        report.stats = counters.snapshot()
        error = ex.describe(report.error) if report.error else None
        try:
            with suppress(psycopg2.Error):
                conn.rollback()  # whatever a unit left open is not part of the record
            runlog.finish_run(conn, report.run_id, status=report.status, error=error,
                              requests=counters.requests, rows=report.rows,
                              stats=report.stats)
        except Exception:  # the database went away: the error already says so
            if report.error is None:
                raise


def load(api: ApiSettings, settings: RunSettings, *, database: Database | None = None,
         schema: str = DEFAULT_RAW_SCHEMA, arguments: dict[str, Any] | None = None,
         progress: TextIO | None = None, observers: Sequence[Observer] = (),
         wait: bool = False, now: datetime | None = None) -> RunReport:
    """``hs-load run``: every chosen stream in registry order (listings, then windows)."""
    now = now or utcnow()
    settings.validate(now)
    api.require_credentials()

    def work(conn, ex: Extraction, report: RunReport) -> None:
        first_error: LoaderError | None = None
        done: dict[str, StreamResult] = {}
        for stream in select(settings.streams):
            if stream.parent is not None and stream.parent not in done:
                continue  # its parent failed: already reported
            try:
                result = _read(ex, conn, stream, done, settings, now, progress, report)
            except FATAL:
                raise
            except LoaderError as exc:  # logged as a failed unit; other streams go on
                first_error = first_error or exc
                continue
            done[stream.name] = result
            report.streams.append(result)
        if first_error:
            raise first_error

    return _execute("run", api, arguments or {}, database, schema, work, observers=observers,
                    settings=settings, wait=wait)


def _read(ex: Extraction, conn, stream: Stream, done: dict[str, StreamResult],
          settings: RunSettings, now: datetime, progress: TextIO | None,
          report: RunReport) -> StreamResult:
    """One stream, by the reader its kind names."""
    if stream.kind is Kind.LISTING:
        return load_listing(ex, conn, stream)
    if stream.kind is Kind.PER_PARENT:
        return load_per_parent(ex, conn, stream, done[stream.parent].ids)
    result = _windows(ex, conn, stream, settings, now, progress)
    report.watermark = watermark(ex.runlog.completed_windows(conn, stream.name))
    return result


def _windows(ex: Extraction, conn, stream: Stream, settings: RunSettings, now: datetime,
             progress: TextIO | None) -> StreamResult:
    mark = watermark(ex.runlog.completed_windows(conn, stream.name))
    span = run_span(now, since=settings.since, until=settings.until, mark=mark,
                    overlap=settings.overlap, lag=settings.lag)
    if span is None:
        return StreamResult(stream.name, kind=stream.kind)
    bar = Progress(stream.name, span.seconds, ex.counters, stream=progress)
    try:
        return ConversationWindows(ex, span, stream, ex.observer.with_(bar)).run()
    finally:
        bar.close()


def reconcile(api: ApiSettings, *, database: Database | None = None,
              schema: str = DEFAULT_RAW_SCHEMA, if_due: bool = False,
              every: timedelta = timedelta(hours=24), arguments: dict[str, Any] | None = None,
              observers: Sequence[Observer] = (), wait: bool = False,
              now: datetime | None = None) -> RunReport:
    """``hs-load reconcile``: tombstone conversations that were deleted or merged away."""
    now = now or utcnow()
    check_range("--every", every.total_seconds(), 0, 366 * 86400, unit="s")
    if if_due:
        database = open_database(database)
        conn = connect(database)
        try:
            migrate(conn, schema)
            last = RunLog(schema).last_success(conn, "reconcile")
        finally:
            conn.close()
        if last is not None and now - last < every:
            return RunReport("reconcile", skipped=f"not due (last succeeded {iso(last)}, "
                                                  f"next after {iso(last + every)})")
    # Only a sweep that will run needs credentials: `make run` must not demand them
    # of a reconcile that is not due.
    api.require_credentials()

    def work(conn, ex: Extraction, report: RunReport) -> None:
        report.reconcile = sweep(ex, conn)

    return _execute("reconcile", api, arguments or {}, database, schema, work,
                    observers=observers, wait=wait)
