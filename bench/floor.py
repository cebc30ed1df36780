"""Run the hand-written floor (``floor.sql``): the build's marts, one statement each.

The dbt build is compared with this: the same marts from the same lake with none
of dbt's machinery (models in layers, tests, swaps, incremental bookkeeping). The
floor is rebuilt from scratch in its own schema each time. ``floor_marts()`` are
the marts it builds; the bench names the ones it does not build yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.measure import stopwatch
from loader.connection import Database
from loader.schema import DEFAULT_RAW_SCHEMA

FLOOR_SQL = Path(__file__).with_name("floor.sql")
FLOOR_SCHEMA = "bench_floor"
#: The contract's marts (``floor.sql`` builds these and more).
CONTRACT_MARTS = ("conversations", "conversation_tags", "tags", "mailboxes", "users", "threads")
#: Sections of ``floor.sql`` that are no mart: intermediate results several marts read.
WORK_TABLES = ("latest_conversations", "data_watermark", "kpi_conversations", "kpi_replies",
               "kpi_spans")


@dataclass(frozen=True)
class FloorRun:
    seconds: float
    per_statement: dict[str, float]
    row_counts: dict[str, int]


def statements(raw_schema: str = DEFAULT_RAW_SCHEMA,
               floor_schema: str = FLOOR_SCHEMA) -> list[tuple[str, str]]:
    """``(name, sql)`` for each ``-- mart:`` section of ``floor.sql``, in order."""
    text = FLOOR_SQL.read_text().replace("{raw}", raw_schema).replace("{floor}", floor_schema)
    sections = text.split("-- mart: ")[1:]
    out = []
    for section in sections:
        name, _, body = section.partition("\n")
        out.append((name.strip(), body.strip()))
    return out


def floor_marts() -> tuple[str, ...]:
    """The marts ``floor.sql`` builds, in its order."""
    return tuple(name for name, _ in statements() if name not in WORK_TABLES)


def run_floor(database: Database, raw_schema: str = DEFAULT_RAW_SCHEMA,
              floor_schema: str = FLOOR_SCHEMA) -> FloorRun:
    """Drop and rebuild the floor schema; time the whole and each statement (with the
    ``analyze`` of its table)."""
    conn = database.connect()
    conn.autocommit = True
    per: dict[str, float] = {}
    try:
        with conn.cursor() as cur:
            cur.execute(f"drop schema if exists {floor_schema} cascade")
            with stopwatch() as total:
                cur.execute(f"create schema {floor_schema}")
                for name, sql in statements(raw_schema, floor_schema):
                    with stopwatch() as elapsed:
                        cur.execute(sql)
                        # as dbt's models do (refresh_statistics): without statistics
                        # a table read later is planned blind, and at 1M the
                        # conversations statement took over 5 minutes instead of 35 s
                        cur.execute(f"analyze {floor_schema}.{name}")
                    per[name] = elapsed()
            counts = {}
            for mart in floor_marts():
                cur.execute(f"select count(*) from {floor_schema}.{mart}")
                counts[mart] = int(cur.fetchone()[0])
    finally:
        conn.close()
    return FloorRun(seconds=total(), per_statement=per, row_counts=counts)


def drop_floor(database: Database, floor_schema: str = FLOOR_SCHEMA) -> None:
    """Free the floor's disk before the next measurement (it would count as lake size)."""
    conn = database.connect()
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(f"drop schema if exists {floor_schema} cascade")
    finally:
        conn.close()
