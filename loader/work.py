"""What every stream shares: the run's context, and the unit of work.

A *unit* is one window of conversations, one full listing, or one reconcile
sweep. Its lake rows and its ``load_windows`` row commit in a single transaction,
so a crash (even SIGKILL) leaves either the whole unit or none of it. A unit that
fails is rolled back and logged as ``failed`` with its reason, in a transaction of
its own.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg2

from loader.client import HelpScoutClient
from loader.config import RunSettings, utcnow
from loader.connection import Database, DatabaseError
from loader.errors import DatabaseUnavailable, LoaderError, first_line, scrub
from loader.lake import RunLog
from loader.observe import Observers
from loader.pages import Tally
from loader.stats import Counters

log = logging.getLogger(__name__)


class Retreat(Exception):
    """Abandon a unit without logging a failure (it is replaced by smaller units)."""


@dataclass
class Extraction:
    """Everything a stream needs during one run."""

    client: HelpScoutClient
    database: Database
    runlog: RunLog
    run_id: uuid.UUID
    counters: Counters
    settings: RunSettings = field(default_factory=RunSettings)
    observer: Observers = field(default_factory=Observers)
    secrets: list[str | None] = field(default_factory=list)

    @property
    def schema(self) -> str:
        return self.runlog.schema

    @contextmanager
    def connection(self) -> Iterator[Any]:
        """A connection of this worker's own (psycopg2 connections are not shared)."""
        conn = connect(self.database)
        try:
            yield conn
        finally:
            conn.close()

    def unit(self, conn, stream: str, work: Callable[[Any, Tally], None], *,
             window_start: datetime | None = None, window_end: datetime | None = None,
             request: dict[str, Any] | None = None) -> Tally:
        """Run ``work(cursor, tally)`` and log it, all in one transaction."""
        tally = Tally()
        started = utcnow()
        record = dict(window_start=window_start, window_end=window_end, request=request)
        try:
            with conn.cursor() as cur:
                work(cur, tally)
                self.runlog.record_window(cur, self.run_id, stream, status="completed",
                                          started_at=started, pages=tally.pages,
                                          requests=tally.requests, rows=tally.rows,
                                          rescans=tally.rescans, **record)
            conn.commit()
        except Retreat:
            _rollback(conn)
            raise
        except Exception as exc:
            _rollback(conn)
            if isinstance(exc, psycopg2.OperationalError):
                raise DatabaseUnavailable(f"lost the database: {first_line(exc)}") from None
            reason = self.describe(exc)
            log.warning("%s %s failed: %s", stream, _bounds(window_start, window_end), reason)
            try:
                with conn.cursor() as cur:
                    self.runlog.record_window(cur, self.run_id, stream, status="failed",
                                              started_at=started, pages=tally.pages,
                                              requests=tally.requests, rows=0,
                                              rescans=tally.rescans, error=reason, **record)
                conn.commit()
            except psycopg2.Error as db_exc:
                raise DatabaseUnavailable(f"cannot log the failure: {first_line(db_exc)}") \
                    from None
            raise
        except BaseException:  # interrupted (SIGINT/SIGTERM): nothing of the unit is kept
            _rollback(conn)
            raise
        finally:
            self.counters.add(pages=tally.pages, rows=tally.rows, rescans=tally.rescans)
        return tally

    def describe(self, exc: BaseException) -> str:
        """A one-line, secret-free account of an exception."""
        text = str(exc) if isinstance(exc, LoaderError) else f"{type(exc).__name__}: {exc}"
        return scrub(first_line(text), [*self.secrets, *self.client.secrets])


def connect(database: Database):
    try:
        return database.connect()
    except DatabaseError as exc:
        raise DatabaseUnavailable(str(exc)) from None


def _rollback(conn) -> None:
    with suppress(psycopg2.Error):
        conn.rollback()


def _bounds(start: datetime | None, end: datetime | None) -> str:
    return f"[{start:%Y-%m-%dT%H:%M:%SZ} .. {end:%Y-%m-%dT%H:%M:%SZ}]" if start and end else ""
