"""Fill a lake in bulk with replicated sandbox payloads, as fast as COPY allows.

The lake gets exactly the loader's table shapes (``loader.schema.migrate``), so dbt
cannot tell these rows from loaded ones. A conversation is a copy of one of the
sandbox's payloads (see :mod:`bench.payloads`) with its own ids and dates; some
conversations have two or three versions (older ones with another status), and a
few are tombstoned, as a long-running lake would have them.

Rows are generated while COPY consumes them, so a million 3 KB payloads never sit
in memory at once.

Times are set explicitly, not left to ``clock_timestamp()``: a real lake is filled
by loads spread over months, and dbt's incremental models re-read a lookback window
(``lookback_hours``) before their high-water mark on ``loaded_at``. A lake written
in one minute would put every row inside that window and make each incremental
build a full one. So the bulk history is stamped ``base_time`` (days back) and
each change batch gets the moment the caller gives it.
"""

from __future__ import annotations

import heapq
import io
import json
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from bench.payloads import EARLIER_STATUS, DayText, Template, day_number
from loader.connection import Database
from loader.lake import copy_escape
from loader.schema import DEFAULT_RAW_SCHEMA, migrate

#: Replicated conversations get ids from here on, far from the sandbox's own.
ID_BASE = 100_000_000
#: Connections filling at once (the machine this targets has 2 cores).
FILL_WORKERS = 2
#: Days the replicated conversations are spread over, back from the source dates.
SPREAD_DAYS = 730
#: A recent batch's new conversations last saw activity within this many days.
RECENT_DAYS = 7
_KNUTH = 2654435761


class _LineStream(io.TextIOBase):
    """A read-only file over an iterator of lines: what ``copy_expert`` consumes."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._lines = iter(lines)
        self._buffer = ""

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> str:
        want = (1 << 62) if size is None or size < 0 else size
        chunks = [self._buffer]
        have = len(self._buffer)
        for line in self._lines:
            chunks.append(line)
            have += len(line)
            if have >= want:
                break
        text = "".join(chunks)
        self._buffer = text[want:] if have > want else ""
        return text[:want]


def copy_rows(cur, table: str, columns: Sequence[str], lines: Iterable[str]) -> None:
    """``COPY table (columns) from stdin`` fed by COPY-text ``lines`` (newline included)."""
    cur.copy_expert(
        f"copy {table} ({', '.join(columns)}) from stdin", _LineStream(lines), size=1 << 20
    )


@contextmanager
def _transaction(database: Database) -> Iterator[Any]:
    """A cursor on a new connection, committed on success, closed either way."""
    conn = database.connect()
    try:
        with conn.cursor() as cur:
            yield cur
        conn.commit()
    finally:
        conn.close()


def copy_line(*fields: object) -> str:
    """One COPY-text line; None is NULL. Strings must already be COPY-escaped."""
    return "\t".join("\\N" if f is None else str(f) for f in fields) + "\n"


LAKE_COLUMNS = ("entity_id", "payload", "extracted_at", "run_id", "loaded_at")
#: Where the bulk's backfill window starts (the loader's default ``--since``).
HISTORY_START = datetime(2011, 1, 1, tzinfo=timezone.utc)
#: Between the API's answer and the commit of its window.
LOAD_DELAY = timedelta(minutes=1)


@dataclass
class FillStats:
    conversations: int = 0
    conversation_rows: int = 0
    tombstones: int = 0
    payload_bytes: int = 0

    def add(self, other: FillStats) -> None:
        self.conversations += other.conversations
        self.conversation_rows += other.conversation_rows
        self.tombstones += other.tombstones
        self.payload_bytes += other.payload_bytes


@dataclass
class LakeFiller:
    """Writes replicated conversations ``0..n-1`` (by index) into one lake schema."""

    templates: Sequence[Template]
    base_time: datetime
    schema: str = DEFAULT_RAW_SCHEMA
    _days: DayText = field(default_factory=DayText)

    def __post_init__(self) -> None:
        if not self.templates:
            raise ValueError("no payload templates: the sandbox account had no conversations")
        self._stride = max(t.thread_count for t in self.templates) + 1
        # (Template.last_day scans every slot: a million lookups want it once per template)
        self._last_days = [t.last_day for t in self.templates]
        # The source account's history runs up to now, the bulk is fetched at base_time
        # (its older copies up to two hours before): moved back far enough that no
        # thread is dated after the fetch of the copy holding it.
        newest_allowed = day_number(self.base_time - timedelta(hours=3)) - 1
        self._bulk_lag = max(0, max(self._last_days) - newest_allowed)
        self.next_index = 0
        self._window_end = self.base_time
        # day shifts of conversations a recent batch created (the rest follow _day_shift)
        self._shifts: dict[int, int] = {}

    # -- one conversation ---------------------------------------------------
    def _template_number(self, index: int) -> int:
        return (index * _KNUTH) % len(self.templates)

    def _template(self, index: int) -> Template:
        return self.templates[self._template_number(index)]

    def _day_shift(self, index: int) -> int:
        shift = self._shifts.get(index)
        if shift is None:
            return -((index * _KNUTH) % SPREAD_DAYS) - self._bulk_lag
        return shift

    def _last_day(self, index: int) -> int:
        """The day of conversation ``index``'s last activity."""
        return self._last_days[self._template_number(index)] + self._day_shift(index)

    def render(self, index: int, status: str | None = None) -> tuple[int, str]:
        """(conversation id, COPY-escaped payload) of conversation ``index``."""
        template = self._template(index)
        conversation_id = ID_BASE + index
        text = template.render(
            conversation_id=conversation_id,
            number=1 + index,
            first_thread_id=ID_BASE + index * self._stride,
            day_shift=self._day_shift(index),
            status=status or template.status,
            day_text=self._days,
        )
        return conversation_id, text

    def _versions(self, index: int) -> int:
        """How many older copies conversation ``index`` has in the lake (0, 1 or 2)."""
        return 2 if index % 50 == 0 else 1 if index % 10 == 0 else 0

    # -- bulk ---------------------------------------------------------------
    def prepare(self, database: Database, truth: Any) -> None:
        """Create the lake and load the small streams (tags, mailboxes, users) as is."""
        run_id = uuid.uuid4()
        extracted = self.base_time.isoformat()
        loaded = (self.base_time + LOAD_DELAY).isoformat()
        with _transaction(database) as cur:
            migrate(cur.connection, self.schema)
            self._log_run(cur, run_id)
            for table, entities in (("tags", truth.tags), ("mailboxes", truth.mailboxes),
                                    ("users", truth.users)):
                copy_rows(cur, f"{self.schema}.{table}", LAKE_COLUMNS, (
                    copy_line(eid, copy_escape(json.dumps(p)), extracted, run_id, loaded)
                    for eid, p in sorted(entities.items())
                ))

    def fill(self, database: Database, count: int, workers: int = FILL_WORKERS) -> FillStats:
        """Append conversations ``next_index .. next_index+count-1`` with their history.

        ``workers`` connections COPY contiguous slices at once: PostgreSQL's jsonb
        parsing and compression, not Python, is the bottleneck of one COPY.
        """
        run_id = uuid.uuid4()
        start = self.next_index
        bounds = [start + count * k // workers for k in range(workers + 1)]
        with _transaction(database) as cur:
            self._log_run(cur, run_id)
        with ThreadPoolExecutor(workers) as pool:
            parts = list(pool.map(lambda k: self._fill_slice(database, bounds[k], bounds[k + 1],
                                                             run_id), range(workers)))
        with _transaction(database) as cur:
            self._log_window(cur, run_id, HISTORY_START, self.base_time, count)
            cur.execute(f"analyze {self.schema}.conversations")
            cur.execute(f"analyze {self.schema}.conversation_tombstones")
        stats = FillStats()
        for part in parts:
            stats.add(part)
        self.next_index = start + count
        return stats

    def _fill_slice(self, database: Database, start: int, stop: int,
                    run_id: uuid.UUID) -> FillStats:
        stats = FillStats(conversations=stop - start)
        with _transaction(database) as cur:
            copy_rows(cur, f"{self.schema}.conversations", LAKE_COLUMNS,
                      self._history_lines(range(start, stop), run_id, stats))
            tombstoned = [i for i in range(start, stop) if i % 200 == 7]
            detected = self.base_time + LOAD_DELAY
            copy_rows(
                cur, f"{self.schema}.conversation_tombstones",
                ("entity_id", "reason", "detected_at", "run_id", "loaded_at"),
                (copy_line(ID_BASE + i, "deleted", detected.isoformat(), run_id,
                           (detected + LOAD_DELAY).isoformat()) for i in tombstoned),
            )
            stats.tombstones = len(tombstoned)
        return stats

    def _history_lines(self, indexes: Iterable[int], run_id: uuid.UUID,
                       stats: FillStats) -> Iterator[str]:
        # age in hours -> (extracted_at, loaded_at) of that copy
        stamps = [(moment.isoformat(), (moment + LOAD_DELAY).isoformat())
                  for moment in (self.base_time - timedelta(hours=h) for h in range(3))]
        for index in indexes:
            status = self._template(index).status
            for age in range(self._versions(index), -1, -1):
                older = EARLIER_STATUS.get(status, "active") if age else None
                conversation_id, text = self.render(index, older)
                stats.conversation_rows += 1
                stats.payload_bytes += len(text)
                extracted, loaded = stamps[age]
                yield copy_line(conversation_id, text, extracted, run_id, loaded)

    def change_batch(self, database: Database, new: int, changed: int,
                     extracted_at: datetime, *, spread: bool = False) -> FillStats:
        """Append ``new`` new conversations and new versions of ``changed`` existing ones.

        As an hour of a real account's activity: the new conversations' last activity
        falls in the week before ``extracted_at``, and the changed ones are the most
        recently active (replies to and closings of current mail). ``spread`` instead
        picks the changed ones evenly over the whole history and dates the new ones as
        the bulk (a bulk re-tagging, a migration): a change that touches every period.
        Each changed one gets a status it did not have, so the marts must really change.
        """
        stats = FillStats()
        run_id = uuid.uuid4()
        existing = self.next_index
        if spread:
            step = max(1, existing // max(1, changed))
            picks = sorted({(k * step + 3) % existing for k in range(changed)}) if existing else []
        else:
            picks = sorted(heapq.nlargest(changed, range(existing), key=self._last_day))
            yesterday = day_number(extracted_at) - 1
            for index in range(existing, existing + new):
                template_last = self._last_days[self._template_number(index)]
                self._shifts[index] = yesterday - index % RECENT_DAYS - template_last
        stamp = extracted_at.isoformat()
        loaded = (extracted_at + LOAD_DELAY).isoformat()

        def lines() -> Iterator[str]:
            for index in picks:
                status = self._template(index).status
                conversation_id, text = self.render(index, "closed" if status != "closed"
                                                    else "active")
                stats.conversation_rows += 1
                stats.payload_bytes += len(text)
                yield copy_line(conversation_id, text, stamp, run_id, loaded)
            for index in range(existing, existing + new):
                conversation_id, text = self.render(index)
                stats.conversation_rows += 1
                stats.payload_bytes += len(text)
                yield copy_line(conversation_id, text, stamp, run_id, loaded)

        with _transaction(database) as cur:
            self._log_run(cur, run_id)
            copy_rows(cur, f"{self.schema}.conversations", LAKE_COLUMNS, lines())
            self._log_window(cur, run_id, self._window_end, extracted_at,
                             stats.conversation_rows)
        self.next_index = existing + new
        stats.conversations = new
        return stats

    def _log_window(self, cur, run_id: uuid.UUID, start: datetime, end: datetime,
                    rows: int) -> None:
        """A completed conversations window, as the loader records it: the lake's data
        watermark (how far the lake is complete) moves to ``end``, as in production."""
        cur.execute(
            f"insert into {self.schema}.load_windows (run_id, stream, window_start,"
            " window_end, status, rows_loaded, started_at)"
            " values (%s, 'conversations', %s, %s, 'completed', %s, %s)",
            (str(run_id), start, end, rows, end),
        )
        self._window_end = end

    def _log_run(self, cur, run_id: uuid.UUID) -> None:
        cur.execute(
            f"insert into {self.schema}.load_runs (run_id, command, status, finished_at)"
            " values (%s, 'bench-fill', 'succeeded', clock_timestamp())",
            (str(run_id),),
        )


def payload_sizes(payloads: Mapping[int, Mapping[str, Any]]) -> dict[str, float]:
    """Size of the source payloads as the API sends them (bytes of compact JSON)."""
    sizes = sorted(len(json.dumps(p, separators=(",", ":"))) for p in payloads.values())
    if not sizes:
        return {"count": 0}
    return {"count": len(sizes), "mean": sum(sizes) / len(sizes),
            "median": sizes[len(sizes) // 2], "p90": sizes[int(len(sizes) * 0.9)]}
