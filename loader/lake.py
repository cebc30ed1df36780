"""Writing the lake: ``COPY`` into the append-only stream tables, and the run log.

Rows go in with ``COPY ... FROM STDIN`` (text format) from an in-memory buffer
filled as PostgreSQL reads it (:data:`READ_BYTES` at a time), inside the caller's
transaction: the caller decides what commits together (a whole window and its
``load_windows`` row). Nothing here updates or deletes a lake row.

Payloads are stored as received, with one documented exception. PostgreSQL's
``jsonb`` cannot hold the character U+0000 (JSON ``\\u0000``) nor an unpaired
UTF-16 surrogate (``\\ud800``): either makes the whole ``COPY`` fail. Such
characters are replaced by U+FFFD (the Unicode replacement character), in keys and
values alike, so a stray null byte in one message body cannot stop a run; every
other character, key and value is kept. (Numbers are kept by value: ``jsonb``
normalises their text anyway.)
"""

from __future__ import annotations

import json
import queue
import re
import threading
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, AnyStr

import psycopg2
from psycopg2 import sql
from psycopg2.extras import Json

from loader.schema import DEFAULT_RAW_SCHEMA
from loader.streams import for_table

READ_BYTES = 256 * 1024  # what copy_expert asks the source for at a time
REPLACEMENT = "\ufffd"
_SURROGATE = re.compile("[\ud800-\udfff]")
_NULL = b"\\N"
# COPY text format: backslash first, then the characters that end fields or rows.
_COPY_ESCAPES = (("\\", "\\\\"), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"))
_COPY_ESCAPES_BYTES = tuple((raw.encode(), escaped.encode()) for raw, escaped in _COPY_ESCAPES)


@dataclass(frozen=True)
class LakeRow:
    """One copy of one entity: the API's JSON (bytes, str or parsed) and its context."""

    entity_id: int
    payload: Any
    extracted_at: datetime
    parent_id: int | None = None  # per-parent streams: the id their listing was read under


def _clean_text(text: str) -> str:
    if "\x00" in text:
        text = text.replace("\x00", REPLACEMENT)
    # json.loads joins valid surrogate pairs, so any surrogate left in a str is unpaired.
    return _SURROGATE.sub(REPLACEMENT, text)


def sanitize(value: Any) -> Any:
    """``value`` with U+0000 and lone surrogates replaced in every key and string."""
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, dict):
        return {_clean_text(k): sanitize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [sanitize(v) for v in value]
    return value


# Payloads are parsed JSON, which cannot be circular: skipping json.dumps' circularity
# bookkeeping makes serialising, the writer's main cost, about a quarter cheaper.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)


def _dumps(value: Any) -> bytes:
    return _ENCODER.encode(value).encode("utf-8")


def encode_payload(payload: Any) -> bytes:
    """UTF-8 JSON that ``jsonb`` accepts, unchanged unless it holds U+0000/lone surrogates."""
    if isinstance(payload, (bytes, bytearray, memoryview)):
        raw = bytes(payload)
        if b"\\u0000" not in raw and b"\\ud" not in raw and b"\\uD" not in raw:
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                pass
            else:
                return raw
        return _dumps(sanitize(json.loads(raw.decode("utf-8", "replace"))))
    if isinstance(payload, str):
        return encode_payload(payload.encode("utf-8", "surrogatepass"))
    try:
        text = _dumps(payload)
    except UnicodeEncodeError:  # a lone surrogate
        return _dumps(sanitize(payload))
    return _dumps(sanitize(payload)) if b"\\u0000" in text else text


def copy_escape(value: AnyStr) -> AnyStr:
    """``value`` as one field of ``COPY ... FROM STDIN`` text format (bytes or str).

    The one home of COPY escaping: the loader's writer, the test lake fill and the
    bench's bulk fills all use it.
    """
    table: Any = _COPY_ESCAPES_BYTES if isinstance(value, bytes) else _COPY_ESCAPES
    for raw, escaped in table:
        if raw in value:
            value = value.replace(raw, escaped)
    return value


def _timestamp(moment: datetime | None) -> bytes:
    if moment is None:
        return _NULL
    return moment.astimezone(timezone.utc).isoformat().encode("ascii")


def _copy_lines(rows: Iterable[LakeRow], run_id: bytes, window: tuple[bytes, bytes],
                with_parent: bool) -> Iterator[bytes]:
    moment, stamp = None, _NULL  # rows mostly share their extraction time
    for row in rows:
        if row.extracted_at is not moment:
            moment, stamp = row.extracted_at, _timestamp(row.extracted_at)
        fields = [
            str(int(row.entity_id)).encode("ascii"),
            copy_escape(encode_payload(row.payload)),
            stamp,
            run_id,
            *window,
        ]
        if with_parent:
            fields.append(_NULL if row.parent_id is None else str(row.parent_id).encode())
        yield b"\t".join(fields) + b"\n"


class _CopySource:
    """A file-like view of COPY lines made on demand, as ``copy_expert`` reads.

    Only a few reads' worth of lines is ever in memory, however many rows. A write
    longer than one read (a bulk write, not one API page) makes its later reads in a
    helper thread: ``copy_expert`` releases the GIL while it sends a read to
    PostgreSQL, and serialising the next one meanwhile is what brings the loader to
    the speed of a bare ``COPY`` (serialising is a third of its time). A page's
    write is one read and stays in the calling thread: a thread per page costs more
    than it overlaps. An error while making lines (a bad row) reaches the caller
    from :meth:`read`, which makes ``copy_expert`` abort the whole ``COPY``.
    """

    _END = object()

    def __init__(self, lines: Iterator[bytes], size: int) -> None:
        self._lines = lines
        self._size = size
        self.count = 0
        #: what went wrong making lines: psycopg2 reports it as a cancelled COPY
        self.error: BaseException | None = None
        self._exhausted = False
        self._ahead: queue.Queue[Any] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _chunk(self) -> bytes:
        # Whole lines, at least ``size`` bytes of them: copy_expert sends whatever
        # length it is given, and one join is the only copy made.
        chunk: list[bytes] = []
        total = 0
        for line in self._lines:
            chunk.append(line)
            total += len(line)
            self.count += 1
            if total >= self._size:
                return b"".join(chunk)
        self._exhausted = True
        return b"".join(chunk)

    def _hand_over(self, item: Any) -> None:
        assert self._ahead is not None
        while not self._stop.is_set():
            try:
                self._ahead.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def _make_ahead(self) -> None:
        try:
            while not (self._exhausted or self._stop.is_set()):
                self._hand_over(self._chunk())
            self._hand_over(self._END)
        except BaseException as error:  # re-raised in the reading thread
            self._hand_over(error)

    def read(self, size: int = -1) -> bytes:
        try:
            return self._read()
        except BaseException as error:
            self.error = error
            raise

    def _read(self) -> bytes:
        if self._ahead is None:
            first = self._chunk()
            if not self._exhausted:
                self._ahead = queue.Queue(maxsize=2)
                self._thread = threading.Thread(target=self._make_ahead,
                                                name="lake-copy-lines", daemon=True)
                self._thread.start()
            return first
        if self._thread is None:
            return b""
        item = self._ahead.get()
        if item is self._END:
            self.close()
            return b""
        if isinstance(item, BaseException):
            self.close()
            raise item
        return item

    def close(self) -> None:
        """Stop and wait for the helper thread (the COPY ended or failed)."""
        if self._thread is None:
            return
        self._stop.set()
        assert self._ahead is not None
        while self._thread.is_alive():
            try:
                self._ahead.get(timeout=0.1)
            except queue.Empty:
                continue
        self._thread.join()
        self._thread = None


def copy_rows(cursor, table: str, rows: Iterable[LakeRow], *, run_id: uuid.UUID | str,
              window_start: datetime | None = None, window_end: datetime | None = None,
              schema: str = DEFAULT_RAW_SCHEMA) -> int:
    """COPY ``rows`` into ``schema.table`` in the cursor's transaction; returns the count."""
    stream = for_table(table)
    parent_column = stream.parent_column if stream else None
    columns = ["entity_id", "payload", "extracted_at", "run_id", "window_start", "window_end"]
    if parent_column:
        columns.append(parent_column)
    statement = sql.SQL("copy {}.{} ({}) from stdin").format(
        sql.Identifier(schema), sql.Identifier(table),
        sql.SQL(", ").join(sql.Identifier(c) for c in columns),
    ).as_string(cursor)
    window = (_timestamp(window_start), _timestamp(window_end))
    source = _CopySource(_copy_lines(rows, str(run_id).encode("ascii"), window,
                                     parent_column is not None), READ_BYTES)
    try:
        cursor.copy_expert(statement, source, size=READ_BYTES)
    except psycopg2.Error:
        if source.error is not None:
            raise source.error from None
        raise
    finally:
        source.close()
    return source.count


def write_rows(conn, rows: Iterable[tuple[int, Any]], *, table: str = "conversations",
               schema: str = DEFAULT_RAW_SCHEMA, run_id: uuid.UUID | str | None = None,
               extracted_at: datetime | None = None, commit: bool = True) -> int:
    """Append ``(entity_id, payload)`` pairs to a stream table in one transaction.

    ``payload`` may be JSON bytes/str (stored as is) or parsed JSON. Returns the
    number of rows written; commits unless ``commit=False``.
    """
    moment = extracted_at or datetime.now(timezone.utc)
    lake_rows = (LakeRow(entity_id, payload, moment) for entity_id, payload in rows)
    with conn.cursor() as cur:
        count = copy_rows(cur, table, lake_rows, run_id=run_id or uuid.uuid4(), schema=schema)
    if commit:
        conn.commit()
    return count


# -- the run log ------------------------------------------------------------------------


class RunLog:
    """``load_runs`` and ``load_windows`` rows, in the schema the lake lives in."""

    def __init__(self, schema: str = DEFAULT_RAW_SCHEMA) -> None:
        self.schema = schema

    def _table(self, name: str) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(self.schema), sql.Identifier(name))

    def start_run(self, conn, command: str, arguments: dict[str, Any], api_url: str | None,
                  run_id: uuid.UUID | None = None) -> uuid.UUID:
        """Record a run as ``running`` (committed at once, so a crash leaves a trace)."""
        run_id = run_id or uuid.uuid4()
        with conn.cursor() as cur:
            cur.execute(
                sql.SQL("insert into {} (run_id, command, arguments, api_base_url)"
                        " values (%s, %s, %s, %s)").format(self._table("load_runs")),
                (str(run_id), command, Json(arguments), api_url),
            )
        conn.commit()
        return run_id

    def finish_run(self, conn, run_id: uuid.UUID, *, error: str | None, requests: int,
                   rows: int, stats: dict[str, Any], status: str | None = None) -> None:
        """Close a run as ``status`` (``succeeded``, ``failed``, ``interrupted``) with its
        reason; without a status, ``failed`` if there is an error, else ``succeeded``."""
        status = status or ("failed" if error else "succeeded")
        with conn.cursor() as cur:
            cur.execute(
                sql.SQL("update {} set finished_at = clock_timestamp(), status = %s,"
                        " error = %s, requests = %s, rows_loaded = %s, stats = %s"
                        " where run_id = %s").format(self._table("load_runs")),
                (status, error, requests, rows, Json(stats), str(run_id)),
            )
        conn.commit()

    def abandon_running(self, conn) -> int:
        """Mark every ``running`` row ``abandoned``; returns how many.

        Only call it holding the lake lock (:mod:`loader.lock`): every live run holds
        that lock, so a ``running`` row seen then belongs to a process that is gone
        (killed, or its machine lost) without closing it.
        """
        with conn.cursor() as cur:
            cur.execute(
                sql.SQL("update {} set status = 'abandoned', finished_at = clock_timestamp(),"
                        " error = 'the process ended without closing its run (killed?)'"
                        " where status = 'running'").format(self._table("load_runs")))
            count = cur.rowcount
        conn.commit()
        return count

    def running(self, conn) -> tuple[uuid.UUID, str, datetime] | None:
        """The latest run still marked ``running``: (run id, command, start)."""
        with conn.cursor() as cur:
            cur.execute(sql.SQL("select run_id, command, started_at from {}"
                                " where status = 'running' order by started_at desc limit 1")
                        .format(self._table("load_runs")))
            row = cur.fetchone()
        conn.commit()
        return (row[0], row[1], row[2]) if row else None

    def record_window(self, cursor, run_id: uuid.UUID, stream: str, *, status: str,
                      started_at: datetime, window_start: datetime | None = None,
                      window_end: datetime | None = None, pages: int = 0, requests: int = 0,
                      rows: int = 0, rescans: int = 0, request: dict[str, Any] | None = None,
                      error: str | None = None) -> None:
        """One ``load_windows`` row, in the cursor's transaction (commit with the rows)."""
        cursor.execute(
            sql.SQL("insert into {} (run_id, stream, window_start, window_end, status, pages,"
                    " requests, rows_loaded, rescans, started_at, request, error)"
                    " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)")
            .format(self._table("load_windows")),
            (str(run_id), stream, window_start, window_end, status, pages, requests, rows,
             rescans, started_at, Json(request) if request is not None else None, error),
        )

    def completed_windows(self, conn, stream: str = "conversations"
                          ) -> list[tuple[datetime, datetime]]:
        """Bounds of every completed window of a windowed stream."""
        with conn.cursor() as cur:
            cur.execute(
                sql.SQL("select window_start, window_end from {} where stream = %s"
                        " and status = 'completed' and window_start is not null"
                        " order by window_start").format(self._table("load_windows")),
                (stream,),
            )
            return [(start, end) for start, end in cur.fetchall()]

    def last_success(self, conn, command: str) -> datetime | None:
        with conn.cursor() as cur:
            cur.execute(
                sql.SQL("select max(finished_at) from {} where command = %s"
                        " and status = 'succeeded'").format(self._table("load_runs")),
                (command,),
            )
            return cur.fetchone()[0]
