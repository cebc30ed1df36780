"""The lake's DDL (schema ``helpscout_raw`` by default) and its migrations.

The lake is the contract between the loader and dbt: dbt's sources read exactly
these tables and columns. Migrations are numbered and append-only; each runs once,
recorded in ``schema_migrations``, so an old lake is brought forward in place and
no row is ever rewritten.

Every stream table has the same lake columns:

``lake_id``       identity, a tie-breaker for rows extracted in the same instant
``entity_id``     the Help Scout id of the entity
``payload``       the API's JSON exactly as received (conversations also carry
                  the complete thread list under ``_embedded.threads``)
``extracted_at``  when the API answered the request that returned this copy;
                  "latest copy" means greatest (extracted_at, lake_id)
``run_id``        the run that brought it (``load_runs``)
``window_start``/``window_end``  the modifiedAt window asked for (null for full listings)
``loaded_at``     when the row was written; dbt's incremental filters use it
"""

from __future__ import annotations

from psycopg2 import sql

from loader.streams import STREAMS

DEFAULT_RAW_SCHEMA = "helpscout_raw"

# The tables migration 1 created; frozen, as a migration's text must stay what ran.
# A stream added later gets its table from ensure_stream_tables(), not a migration.
_FIRST_TABLES = ("conversations", "tags", "mailboxes", "users", "folders")

_STREAM_TABLE = """
create table if not exists {schema}.{table} (
    lake_id bigint generated always as identity primary key,
    entity_id bigint not null,
    payload jsonb not null,
    extracted_at timestamptz not null,
    run_id uuid not null,
    window_start timestamptz,
    window_end timestamptz,
    loaded_at timestamptz not null default clock_timestamp()
);
create index if not exists {table}_loaded_at_idx on {schema}.{table} (loaded_at);
create index if not exists {table}_entity_idx on {schema}.{table} (entity_id, extracted_at desc);
"""

MIGRATIONS: list[tuple[int, str]] = [
    (
        1,
        """
create table if not exists {schema}.load_runs (
    run_id uuid primary key,
    command text not null,
    started_at timestamptz not null default clock_timestamp(),
    finished_at timestamptz,
    status text not null default 'running'
        check (status in ('running', 'succeeded', 'failed')),
    arguments jsonb not null default '{{}}'::jsonb,
    api_base_url text,
    requests integer,
    rows_loaded bigint,
    error text
);

create table if not exists {schema}.load_windows (
    window_id bigint generated always as identity primary key,
    run_id uuid not null references {schema}.load_runs (run_id),
    stream text not null,
    window_start timestamptz,
    window_end timestamptz,
    status text not null check (status in ('completed', 'failed')),
    pages integer,
    requests integer,
    rows_loaded integer,
    rescans integer not null default 0,
    started_at timestamptz not null,
    finished_at timestamptz not null default clock_timestamp(),
    request jsonb,
    error text
);
create index if not exists load_windows_stream_idx
    on {schema}.load_windows (stream, status, window_end desc);
"""
        + "".join(_STREAM_TABLE.replace("{table}", t) for t in _FIRST_TABLES)
        + """
alter table {schema}.folders add column if not exists mailbox_id bigint;

create table if not exists {schema}.conversation_tombstones (
    lake_id bigint generated always as identity primary key,
    entity_id bigint not null,
    reason text not null check (reason in ('deleted', 'merged')),
    merged_into_id bigint,
    detected_at timestamptz not null,
    payload jsonb not null default '{{}}'::jsonb,
    run_id uuid not null,
    loaded_at timestamptz not null default clock_timestamp()
);
create index if not exists conversation_tombstones_loaded_at_idx
    on {schema}.conversation_tombstones (loaded_at);
create index if not exists conversation_tombstones_entity_idx
    on {schema}.conversation_tombstones (entity_id, detected_at desc);
""",
    ),
    (
        2,
        # The loader's counters (requests, 429s, throttle sleeps, retries, rescans...)
        # for `hs-load status` and the bench; window-level resume queries filter on
        # (stream, status) and sort by window_start.
        """
alter table {schema}.load_runs add column if not exists stats jsonb;
create index if not exists load_windows_resume_idx
    on {schema}.load_windows (stream, status, window_start);
""",
    ),
    (
        3,
        # Every way a run ends is recorded: interrupted (SIGINT/SIGTERM, with the
        # reason) and abandoned (its process vanished; set by the next start).
        """
alter table {schema}.load_runs drop constraint if exists load_runs_status_check;
alter table {schema}.load_runs add constraint load_runs_status_check
    check (status in ('running', 'succeeded', 'failed', 'interrupted', 'abandoned'));
""",
    ),
]


def _missing_stream_tables_ddl(cur, schema: str) -> str:
    """DDL for every registered stream's table (and parent column) the lake lacks.

    Run after the numbered migrations on every start, so a stream added to
    :mod:`loader.streams` gets its table without a migration of its own; empty (no
    DDL, no privilege needed) when the lake already has them all.
    """
    cur.execute("select table_name, column_name from information_schema.columns"
                " where table_schema = %s", (schema,))
    have = {(table, column) for table, column in cur.fetchall()}
    tables = {table for table, _ in have}
    parts = []
    for stream in STREAMS:
        if stream.table not in tables:
            parts.append(_STREAM_TABLE.replace("{table}", stream.table))
        if stream.parent_column and (stream.table, stream.parent_column) not in have:
            parts.append(f"alter table {{schema}}.{stream.table} add column if not exists"
                         f" {stream.parent_column} bigint;\n")
    return "".join(parts)


def migrate(conn, schema: str = DEFAULT_RAW_SCHEMA) -> int:
    """Create or bring forward the lake in ``schema``; returns the version reached.

    Runs in the caller's connection and commits; a session-level advisory lock keeps
    two loaders starting at once from racing on the DDL.
    """
    ident = sql.Identifier(schema)
    with conn.cursor() as cur:
        cur.execute("select pg_advisory_lock(hashtext(%s))", (f"helpscout-migrate:{schema}",))
        try:
            cur.execute(sql.SQL("create schema if not exists {}").format(ident))
            cur.execute(
                sql.SQL(
                    "create table if not exists {}.schema_migrations ("
                    " version integer primary key,"
                    " applied_at timestamptz not null default clock_timestamp())"
                ).format(ident)
            )
            cur.execute(sql.SQL("select coalesce(max(version), 0) from {}.schema_migrations")
                        .format(ident))
            current = cur.fetchone()[0]
            for version, ddl in MIGRATIONS:
                if version <= current:
                    continue
                cur.execute(sql.SQL(ddl.replace("{schema}", "{s}")).format(s=ident))
                cur.execute(
                    sql.SQL("insert into {}.schema_migrations (version) values (%s)").format(ident),
                    (version,),
                )
                current = version
            ddl = _missing_stream_tables_ddl(cur, schema)
            if ddl:
                cur.execute(sql.SQL(ddl.replace("{schema}", "{s}")).format(s=ident))
            conn.commit()
        finally:
            cur.execute("select pg_advisory_unlock(hashtext(%s))", (f"helpscout-migrate:{schema}",))
            conn.commit()
    return current
