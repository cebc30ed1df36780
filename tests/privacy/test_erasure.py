"""``hs-ops erase``: a customer's data leaves the lake, staging and marts; timings stay.

A sandbox account is loaded over HTTP into a throwaway database and built with dbt;
then one customer (chosen from the sandbox's ground truth: someone with several
conversations) is erased by address through the CLI. Every text cell of every table
in the lake, staging and marts schemas is searched for their address afterwards, the
lake's references to them must carry no name, and every conversation and thread row
must be unchanged apart from personal columns.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from loader import cli as loader_cli
from loader.connection import Database
from loader.lake import RunLog
from loader.lock import acquire
from ops.cli import main as ops_main
from ops.dbt import run_dbt
from sandbox import Sandbox
from tests.loader.kit import database_url

SCHEMAS = ("helpscout_raw", "helpscout_staging", "helpscout")
PERSONAL_COLUMN_WORDS = ("email", "name", "body", "preview")

pytestmark = pytest.mark.slow


def _text_cells_matching(conn, needle: str) -> list[str]:
    """``schema.table.column`` of every text/json cell that contains ``needle``."""
    hits: list[str] = []
    with conn.cursor() as cur:
        cur.execute(
            "select table_schema, table_name, column_name from information_schema.columns"
            " where table_schema = any(%s)"
            "   and data_type in ('text', 'character varying', 'jsonb', 'json', 'ARRAY')",
            (list(SCHEMAS),),
        )
        for schema, table, column in cur.fetchall():
            cur.execute(
                f'select count(*) from "{schema}"."{table}"'
                f' where lower("{column}"::text) like %s', (f"%{needle.lower()}%",),
            )
            if cur.fetchone()[0]:
                hits.append(f"{schema}.{table}.{column}")
    return hits


def _rows_without_personal_columns(conn, table: str, key: str) -> dict[Any, tuple]:
    with conn.cursor() as cur:
        cur.execute("select column_name from information_schema.columns"
                    " where table_schema = 'helpscout' and table_name = %s"
                    " order by ordinal_position", (table,))
        columns = [c for (c,) in cur.fetchall()
                   if not any(word in c for word in PERSONAL_COLUMN_WORDS)]
        cur.execute(f"select {', '.join(columns)} from helpscout.{table}")
        index = columns.index(key)
        return {row[index]: row for row in cur.fetchall()}


@pytest.fixture(scope="module")
def built(module_pg_database: Database, tmp_path_factory) -> Iterator[tuple[Database, Sandbox]]:
    workdir: Path = tmp_path_factory.mktemp("erasure")
    with Sandbox(size=400, seed=11, start="2025-01-01", rate_limit=0) as sb:
        mp = pytest.MonkeyPatch()
        mp.setenv("HELPSCOUT_APP_ID", sb.client_id)
        mp.setenv("HELPSCOUT_APP_SECRET", sb.client_secret)
        mp.setenv("HELPSCOUT_DATABASE_URL", database_url(module_pg_database))
        mp.setenv("DBT_TARGET_PATH", str(workdir / "target"))
        mp.setenv("DBT_LOG_PATH", str(workdir / "logs"))
        common = ["--api-url", sb.base_url, "--token-url", sb.token_url,
                  "--retry-backoff", "0.01"]
        assert loader_cli.main(["run", *common, "--since", "2024-12-01", "--lag", "0"],
                               database=module_pg_database) == 0
        assert run_dbt(["build", "--exclude", "test_type:unit"],
                       module_pg_database).returncode == 0
        try:
            yield module_pg_database, sb
        finally:
            mp.undo()


def _someone_with_several_conversations(sb: Sandbox) -> dict[str, Any]:
    truth = sb.truth()
    customers = Counter(
        (c["primaryCustomer"]["id"], c["primaryCustomer"]["email"])
        for c in truth.conversations.values()
        if c.get("primaryCustomer", {}).get("email")
    )
    (customer_id, email), count = customers.most_common(1)[0]
    assert count >= 2
    return {"id": customer_id, "email": email}


def test_erasure_removes_the_person_and_keeps_the_numbers(built, capsys) -> None:
    database, sb = built
    person = _someone_with_several_conversations(sb)
    conn = database.connect()
    try:
        assert _text_cells_matching(conn, person["email"]), "the address was never loaded"
        conversations_before = _rows_without_personal_columns(conn, "conversations",
                                                              "conversation_id")
        threads_before = _rows_without_personal_columns(conn, "threads", "thread_id")
    finally:
        conn.close()

    assert ops_main(["erase", "--email", person["email"].upper()]) == 0
    out = capsys.readouterr().out
    assert f"erased customer {person['id']}" in out

    conn = database.connect()
    try:
        assert _text_cells_matching(conn, person["email"]) == []
        with conn.cursor() as cur:
            # No reference to them in the lake keeps a name or an address.
            cur.execute(
                "select count(*) from helpscout_raw.conversations where jsonb_path_exists("
                " payload, '$.** ? (@.type == \"customer\" && @.id == $id"
                " && (@.first != null || @.last != null || @.email != null))',"
                " jsonb_build_object('id', %s::bigint))", (person["id"],))
            assert cur.fetchone()[0] == 0
            cur.execute("select customer_ids, conversation_ids, lake_rows, rows_by_table::text"
                        " from helpscout_ops.erasure_log")
            log = cur.fetchall()
        assert len(log) == 1
        customer_ids, conversation_ids, lake_rows, by_table = log[0]
        assert customer_ids == [person["id"]]
        assert len(conversation_ids) >= 2 and lake_rows >= len(conversation_ids)
        assert '"conversations"' in by_table
        assert "@" not in f"{log[0]}"
        assert _rows_without_personal_columns(conn, "conversations",
                                              "conversation_id") == conversations_before
        assert _rows_without_personal_columns(conn, "threads", "thread_id") == threads_before
    finally:
        conn.close()


def test_erasure_while_the_lake_is_held_is_refused(built, capsys) -> None:
    database, sb = built
    holder = database.connect()
    try:
        acquire(holder, RunLog("helpscout_raw"))  # what a run takes, until it disconnects
        code = ops_main(["erase", "--customer-id", str(_someone_with_several_conversations(sb)
                                                       ["id"])])
        err = capsys.readouterr().err.strip().splitlines()
        assert code != 0
        assert len(err) == 1 and "erase refused" in err[0]
    finally:
        holder.close()


@pytest.mark.parametrize(("args", "message"), [
    (["--email", "not-an-address"], "is not an email address"),
    (["--email", "nobody@nowhere.invalid"], "no customer with that address"),
])
def test_erasure_bad_input_is_one_line(built, capsys, args, message) -> None:
    assert ops_main(["erase", *args, "--no-rebuild"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
