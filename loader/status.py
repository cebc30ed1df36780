"""``hs-load status``: what the lake holds and how the recent runs went, from the log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg2 import sql

from loader.config import iso
from loader.lake import RunLog
from loader.reconcile import UNIT as RECONCILE
from loader.streams import CONVERSATIONS, STREAMS
from loader.windows import watermark

# What load_windows logs: one unit kind per stream, and the reconcile sweep.
UNITS = (*(stream.name for stream in STREAMS), RECONCILE)


@dataclass
class StreamStatus:
    stream: str
    completed: int
    failed: int
    rows: int
    last_completed: datetime | None
    last_error: str | None


def _when(moment: datetime | None) -> str:
    return iso(moment) if moment else "-"


def stream_status(conn, schema: str) -> list[StreamStatus]:
    with conn.cursor() as cur:
        cur.execute(sql.SQL("""
            select stream,
                   count(*) filter (where status = 'completed'),
                   count(*) filter (where status = 'failed'),
                   coalesce(sum(rows_loaded) filter (where status = 'completed'), 0),
                   max(finished_at) filter (where status = 'completed'),
                   (array_agg(error order by finished_at desc)
                        filter (where status = 'failed'))[1]
            from {}.load_windows group by stream
        """).format(sql.Identifier(schema)))
        found = {row[0]: StreamStatus(*row) for row in cur.fetchall()}
    return [found.get(name, StreamStatus(name, 0, 0, 0, None, None)) for name in UNITS]


def recent_runs(conn, schema: str, limit: int = 5) -> list[tuple[Any, ...]]:
    with conn.cursor() as cur:
        cur.execute(sql.SQL("""
            select run_id, command, status, started_at, finished_at, rows_loaded, requests, error
            from {}.load_runs order by started_at desc limit %s
        """).format(sql.Identifier(schema)), (limit,))
        return cur.fetchall()


def render(conn, schema: str) -> str:
    """The status report as text."""
    mark = watermark(RunLog(schema).completed_windows(conn, CONVERSATIONS.name))
    lines = [f"lake schema {schema}; {CONVERSATIONS.name} watermark (modifiedAt): "
             f"{_when(mark)}", ""]
    lines.append(f"{'stream':<14} {'done':>6} {'failed':>6} {'rows':>12}  {'last completed':<20}"
                 "  last failure")
    for s in stream_status(conn, schema):
        lines.append(f"{s.stream:<14} {s.completed:>6} {s.failed:>6} {s.rows:>12,}  "
                     f"{_when(s.last_completed):<20}  {s.last_error or '-'}")
    lines += ["", "recent runs:"]
    runs = recent_runs(conn, schema)
    if not runs:
        lines.append("  (none yet)")
    for run_id, command, status, started, _finished, rows, requests, error in runs:
        shown = "running or killed" if status == "running" else status
        lines.append(f"  {_when(started)}  {command:<9} {shown:<17} {rows or 0:>10,} rows "
                     f"{requests or 0:>8,} requests  {str(run_id)[:8]}"
                     + (f"  {error}" if error else ""))
    return "\n".join(lines)
