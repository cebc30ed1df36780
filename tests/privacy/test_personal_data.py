"""The ``personal_data`` setting: ``keep``, ``hash`` (keyed HMAC-SHA256) or ``drop``.

One sandbox account is loaded once; the marts are then built in each mode. In
``hash`` and ``drop`` modes no mart cell may contain any address the sandbox's
ground truth holds; hashes are the HMAC that Python's ``hmac`` computes, equal for
equal inputs across runs and different under another key; the KPI marts are the
same in every mode; every mart column that holds an address in ``keep`` mode is
marked ``meta: {personal: true}`` in the dbt docs; and the key appears nowhere in
dbt's target directory or logs.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from loader import cli as loader_cli
from loader.connection import Database
from ops.dbt import run_dbt
from sandbox import Sandbox

MARTS = "helpscout"
KEY_A = "test-personal-key-A 123"  # a space on purpose: it must survive PGOPTIONS
KEY_B = "another-key-B"
ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")

pytestmark = pytest.mark.slow


def _addresses(value: Any) -> set[str]:
    """Every address in a JSON-like value (the ground truth)."""
    return {m.group(0).lower() for m in ADDRESS.finditer(json.dumps(value))}


def _mart_tables(conn) -> list[str]:
    with conn.cursor() as cur:
        cur.execute("select table_name from information_schema.tables"
                    " where table_schema = %s order by table_name", (MARTS,))
        return [t for (t,) in cur.fetchall()]


def _text_columns(conn, table: str) -> list[str]:
    with conn.cursor() as cur:
        cur.execute("select column_name from information_schema.columns"
                    " where table_schema = %s and table_name = %s"
                    "   and data_type in ('text', 'character varying')"
                    " order by ordinal_position", (MARTS, table))
        return [c for (c,) in cur.fetchall()]


def _snapshot(conn, tables: list[str]) -> dict[str, list[tuple]]:
    out = {}
    with conn.cursor() as cur:
        for table in tables:
            cur.execute(f'select * from {MARTS}."{table}"')
            # every column decides the order: keys of some KPI marts span four columns
            out[table] = sorted(cur.fetchall(), key=repr)
    return out


def _values(conn, table: str, column: str) -> set[str]:
    """The distinct non-null values of a text column, lower-cased."""
    with conn.cursor() as cur:
        cur.execute(f'select distinct lower("{column}") from {MARTS}."{table}"'
                    f' where "{column}" is not null')
        return {v for (v,) in cur.fetchall()}


def _column(conn, table: str, column: str, key: str) -> dict[Any, Any]:
    with conn.cursor() as cur:
        cur.execute(f'select {key}, "{column}" from {MARTS}."{table}"')
        return dict(cur.fetchall())


@pytest.fixture(scope="module")
def account(module_pg_database: Database, tmp_path_factory) -> Iterator[dict[str, Any]]:
    workdir: Path = tmp_path_factory.mktemp("personal")
    with Sandbox(size=300, seed=5, start="2025-01-01", rate_limit=0) as sb:
        mp = pytest.MonkeyPatch()
        mp.setenv("HELPSCOUT_APP_ID", sb.client_id)
        mp.setenv("HELPSCOUT_APP_SECRET", sb.client_secret)
        common = ["--api-url", sb.base_url, "--token-url", sb.token_url,
                  "--retry-backoff", "0.01"]
        assert loader_cli.main(["run", *common, "--since", "2024-12-01", "--lag", "0"],
                               database=module_pg_database) == 0
        mp.undo()
        truth = sb.truth()
    yield {"database": module_pg_database, "workdir": workdir,
           "addresses": _addresses([truth.conversations, truth.users, truth.mailboxes])}


def _build(account: dict[str, Any], mode: str, key: str | None, *extra: str,
           command: str = "run") -> None:
    """Rebuild from scratch in ``mode`` (``build`` also runs the data tests)."""
    env = {"HELPSCOUT_PERSONAL_DATA": mode, "DBT_TARGET_PATH": str(account["workdir"] / "target"),
           "DBT_LOG_PATH": str(account["workdir"] / "logs")}
    if key:
        env["HELPSCOUT_PERSONAL_DATA_KEY"] = key
    base = {k: v for k, v in os.environ.items() if not k.startswith("HELPSCOUT_PERSONAL")}
    done = run_dbt([command, "--full-refresh", "--exclude", "test_type:unit", *extra],
                   account["database"], env={**base, **env}, capture=True)
    assert done.returncode == 0, done.stdout[-3000:]


def test_modes(account: dict[str, Any]) -> None:
    database: Database = account["database"]
    _build(account, "keep", None, command="build")
    conn = database.connect()
    try:
        tables = _mart_tables(conn)
        kpi_tables = [t for t in tables if t not in
                      ("conversations", "threads", "users", "mailboxes", "conversation_tags",
                       "tags", "customers", "team_members")]
        kept_kpis = _snapshot(conn, kpi_tables)
        address_columns = {
            (table, column)
            for table in tables for column in _text_columns(conn, table)
            if any(ADDRESS.search(v) for v in _values(conn, table, column))
        }
        kept_emails = _column(conn, "conversations", "primary_customer_email", "conversation_id")
    finally:
        conn.close()
    assert ("conversations", "primary_customer_email") in address_columns

    # Every column that holds addresses is marked personal in the docs.
    manifest = json.loads((account["workdir"] / "target" / "manifest.json").read_text())
    marked = {
        (node["name"], column)
        for node in manifest["nodes"].values() if node["resource_type"] == "model"
        for column, spec in node["columns"].items()
        if {**spec.get("meta", {}), **spec.get("config", {}).get("meta", {})}.get("personal")
    }
    assert address_columns <= marked, f"not marked personal: {address_columns - marked}"

    for mode, key in (("hash", KEY_A), ("drop", None)):
        _build(account, mode, key, command="build" if mode == "hash" else "run")
        conn = database.connect()
        try:
            for table in tables:
                for column in _text_columns(conn, table):
                    found = {m.group(0) for v in _values(conn, table, column)
                             for m in ADDRESS.finditer(v)}
                    leaked = found & account["addresses"]
                    assert not leaked, f"{mode}: {table}.{column} holds {sorted(leaked)[:3]}"
            assert _snapshot(conn, kpi_tables) == kept_kpis, f"{mode}: KPI marts changed"
            emails = _column(conn, "conversations", "primary_customer_email", "conversation_id")
        finally:
            conn.close()
        if mode == "drop":
            assert set(emails.values()) == {None}
            continue
        for conversation_id, email in kept_emails.items():
            expected = None if email is None else hmac.new(
                KEY_A.encode(), email.lower().encode(), hashlib.sha256).hexdigest()
            assert emails[conversation_id] == expected
        hashed_a = emails

    _build(account, "hash", KEY_A, "--select", "conversations")
    conn = database.connect()
    try:
        again = _column(conn, "conversations", "primary_customer_email", "conversation_id")
    finally:
        conn.close()
    assert again == hashed_a, "the same key must give the same hashes on every run"

    _build(account, "hash", KEY_B, "--select", "conversations")
    conn = database.connect()
    try:
        other = _column(conn, "conversations", "primary_customer_email", "conversation_id")
    finally:
        conn.close()
    assert all(other[c] != hashed_a[c] for c in hashed_a if hashed_a[c] is not None)

    for path in account["workdir"].rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            assert KEY_A not in text and KEY_B not in text, f"the key is in {path}"


def test_hash_mode_without_a_key_stops_with_one_line(account: dict[str, Any]) -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith("HELPSCOUT_PERSONAL")}
    done = run_dbt(["run", "--select", "conversations"], account["database"],
                   env={**base, "HELPSCOUT_PERSONAL_DATA": "hash",
                        "DBT_TARGET_PATH": str(account["workdir"] / "target-nokey")},
                   capture=True)
    assert done.returncode != 0
    assert "HELPSCOUT_PERSONAL_DATA_KEY is not set" in done.stdout
