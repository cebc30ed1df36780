"""The read-only PostgreSQL role dashboards and BI tools connect as.

Superset, Redash and analysts only read the marts, so they get a login that can
do nothing else: ``usage`` on the marts schema, ``select`` on its tables, and no
privilege at all on the lake or staging schemas. dbt replaces mart tables on
every build (a new table is swapped in), and a grant on the old table dies with
it, so the role also gets default privileges ``for role`` the role dbt builds
as: every table that role creates in the marts schema later is readable at
once. Default privileges are per creating role, which is why that role has to
be named (``--owner``; the connecting user by default).

The role's sessions also default to read-only transactions, so even the
temporary tables every PostgreSQL login may create need a deliberate opt-out.
Idempotent: run it again after adding schemas or changing the owner.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from psycopg2 import sql

from loader.connection import Database

DEFAULT_ROLE = "helpscout_reader"
DEFAULT_MARTS_SCHEMA = "helpscout"
DEFAULT_PRIVATE_SCHEMAS = ("helpscout_raw", "helpscout_staging")


@dataclass(frozen=True)
class ReadonlyRole:
    """Who reads what: the role, the schema it reads, the role whose tables it reads."""

    name: str = DEFAULT_ROLE
    marts_schema: str = DEFAULT_MARTS_SCHEMA
    owner: str | None = None
    private_schemas: tuple[str, ...] = DEFAULT_PRIVATE_SCHEMAS


def new_password() -> str:
    return secrets.token_urlsafe(24)


def ensure_readonly_role(database: Database, role: ReadonlyRole, password: str | None) -> str:
    """Create or update ``role`` on ``database``'s server; returns the owner role used.

    ``password`` None leaves the role's password as it is (a server that trusts
    local connections, like the embedded one, needs none).
    """
    owner = role.owner or database.user
    name = sql.Identifier(role.name)
    marts = sql.Identifier(role.marts_schema)
    conn = database.connect()
    conn.autocommit = False
    try:
        with conn.cursor() as cur:
            # Roles are per server: two databases (or two test runs) may race here.
            cur.execute("select pg_advisory_xact_lock(hashtext('helpscout readonly role'))")
            cur.execute("select 1 from pg_roles where rolname = %s", (role.name,))
            if cur.fetchone() is None:
                cur.execute(sql.SQL(
                    "create role {} login nosuperuser nocreatedb nocreaterole noinherit"
                    " noreplication nobypassrls").format(name))
            if password is not None:
                cur.execute(sql.SQL("alter role {} password %s").format(name), (password,))
            cur.execute(sql.SQL("alter role {} set default_transaction_read_only = on")
                        .format(name))
            cur.execute(sql.SQL("grant connect on database {} to {}").format(
                sql.Identifier(database.dbname), name))
            cur.execute(sql.SQL("create schema if not exists {}").format(marts))
            cur.execute(sql.SQL("grant usage on schema {} to {}").format(marts, name))
            cur.execute(sql.SQL("grant select on all tables in schema {} to {}")
                        .format(marts, name))
            cur.execute(sql.SQL(
                "alter default privileges for role {} in schema {} grant select on tables to {}"
            ).format(sql.Identifier(owner), marts, name))
            for schema in role.private_schemas:
                cur.execute("select 1 from pg_namespace where nspname = %s", (schema,))
                if cur.fetchone() is not None:
                    cur.execute(sql.SQL("revoke all on schema {} from {}").format(
                        sql.Identifier(schema), name))
                    cur.execute(sql.SQL("revoke all on all tables in schema {} from {}")
                                .format(sql.Identifier(schema), name))
        conn.commit()
    finally:
        conn.close()
    return owner


def drop_readonly_role(database: Database, role: ReadonlyRole) -> None:
    """Remove the role and everything granted to it in ``database`` (other databases
    it was granted on must be cleaned the same way before the role can go)."""
    owner = role.owner or database.user
    name = sql.Identifier(role.name)
    conn = database.connect()
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("select 1 from pg_roles where rolname = %s", (role.name,))
            if cur.fetchone() is None:
                return
            cur.execute(sql.SQL(
                "alter default privileges for role {} in schema {} revoke select on tables from {}"
            ).format(sql.Identifier(owner), sql.Identifier(role.marts_schema), name))
            cur.execute(sql.SQL("drop owned by {}").format(name))
            cur.execute(sql.SQL("drop role {}").format(name))
    finally:
        conn.close()
