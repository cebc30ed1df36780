"""Search everything a run leaves behind for secrets: files, and every text cell.

Used by the leak tests (tests/privacy/test_secrets.py, the Airflow test): each hands
the secrets it used (app secret, bearer tokens, passwords, keys) and the places the
run wrote (log files, dbt's target/, Superset's or Airflow's home with its SQLite
metadata) and asserts that nothing was found.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from loader.connection import Database


def files_containing(roots: Iterable[Path], secrets: Iterable[str]) -> list[str]:
    """``path: secret-index`` for every file under ``roots`` holding one of ``secrets``."""
    needles = [s.encode() for s in secrets if s and len(s) >= 8]
    hits: list[str] = []
    for root in roots:
        paths = [root] if root.is_file() else (p for p in root.rglob("*") if p.is_file())
        for path in paths:
            try:
                data = path.read_bytes()
            except OSError:
                continue
            hits += [f"{path}: secret #{i}" for i, n in enumerate(needles) if n in data]
    return hits


def cells_containing(database: Database, secrets: Iterable[str]) -> list[str]:
    """``schema.table.column`` of every text or JSON cell in the database holding a secret."""
    needles = [s for s in secrets if s and len(s) >= 8]
    hits: list[str] = []
    conn = database.connect()
    try:
        with conn.cursor() as cur:
            cur.execute(
                "select table_schema, table_name, column_name from information_schema.columns"
                " where table_schema not in ('pg_catalog', 'information_schema')"
                "   and data_type in ('text', 'character varying', 'jsonb', 'json', 'ARRAY')")
            for schema, table, column in cur.fetchall():
                for i, needle in enumerate(needles):
                    cur.execute(f'select exists (select 1 from "{schema}"."{table}"'
                                f' where strpos("{column}"::text, %s) > 0)', (needle,))
                    if cur.fetchone()[0]:
                        hits.append(f"{schema}.{table}.{column}: secret #{i}")
    finally:
        conn.close()
    return hits
