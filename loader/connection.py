"""How to reach the lake's PostgreSQL: connection parameters, never how to start one.

The loader only connects; choosing and starting a server (the embedded one, by
default) is the operations package's job (:mod:`ops.database`), which hands the
loader a :class:`Database`. Run on its own, ``hs-load`` takes the database from the
environment (:func:`from_environment`).

A :class:`Database` never renders its password in ``repr`` or :meth:`describe`,
so it is safe to log.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import unquote, urlparse

from loader.errors import first_line


class DatabaseError(RuntimeError):
    """The configured database cannot be reached or started (one-line message)."""


@dataclass(frozen=True)
class Database:
    """Connection parameters for one PostgreSQL database."""

    host: str
    port: int
    user: str
    dbname: str
    password: str | None = field(default=None, repr=False)
    embedded: bool = False
    sslmode: str | None = None

    def with_dbname(self, dbname: str) -> Database:
        """The same server, another database (tests use throwaway databases)."""
        return replace(self, dbname=dbname)

    def connect_kwargs(self) -> dict[str, object]:
        """Keyword arguments for ``psycopg2.connect``."""
        kwargs: dict[str, object] = {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "dbname": self.dbname,
            "application_name": "helpscout-elt",
            "connect_timeout": 10,
        }
        if self.password:
            kwargs["password"] = self.password
        if self.sslmode:
            kwargs["sslmode"] = self.sslmode
        return kwargs

    def connect(self, **overrides: object):
        """Open a psycopg2 connection, turning failures into :class:`DatabaseError`."""
        import psycopg2

        try:
            return psycopg2.connect(**{**self.connect_kwargs(), **overrides})
        except psycopg2.OperationalError as exc:
            raise DatabaseError(f"cannot connect to {self.describe()}: "
                                f"{first_line(exc, 'unknown')}") from None

    def libpq_env(self) -> dict[str, str]:
        """``PG*`` variables for child processes (dbt, psql) to reach this database."""
        env = {
            "PGHOST": self.host,
            "PGPORT": str(self.port),
            "PGUSER": self.user,
            "PGDATABASE": self.dbname,
        }
        if self.password:
            env["PGPASSWORD"] = self.password
        if self.sslmode:
            env["PGSSLMODE"] = self.sslmode
        return env

    def describe(self) -> str:
        """A human description without the password."""
        kind = "embedded PostgreSQL" if self.embedded else "PostgreSQL"
        where = self.host if self.host.startswith("/") else f"{self.host}:{self.port}"
        return f"{kind} database {self.dbname!r} as {self.user!r} at {where}"


def _from_url(url: str) -> Database:
    parsed = urlparse(url)
    if parsed.scheme not in ("postgres", "postgresql"):
        raise DatabaseError("HELPSCOUT_DATABASE_URL must start with postgresql://")
    query = dict(part.split("=", 1) for part in parsed.query.split("&") if "=" in part)
    host = unquote(parsed.hostname or "") or query.get("host", "localhost")
    return Database(
        host=host,
        port=parsed.port or int(query.get("port", 5432)),
        user=unquote(parsed.username or "") or os.environ.get("USER", "postgres"),
        password=unquote(parsed.password) if parsed.password else None,
        dbname=unquote(parsed.path.lstrip("/")) or "postgres",
        sslmode=query.get("sslmode"),
    )


def _from_libpq_env(env: Mapping[str, str]) -> Database:
    try:
        port = int(env.get("PGPORT", "5432"))
    except ValueError:
        raise DatabaseError(f"PGPORT is not a number: {env['PGPORT']!r}") from None
    user = env.get("PGUSER") or env.get("USER") or "postgres"
    return Database(
        host=env.get("PGHOST", "localhost"),
        port=port,
        user=user,
        password=env.get("PGPASSWORD") or None,
        dbname=env.get("PGDATABASE") or user,
        sslmode=env.get("PGSSLMODE") or None,
    )


def is_external(env: Mapping[str, str] | None = None) -> bool:
    """True when the environment names an external server."""
    env = os.environ if env is None else env
    return bool(
        env.get("HELPSCOUT_DATABASE_URL")
        or env.get("PGHOST")
        or env.get("PGDATABASE")
        or env.get("PGSERVICE")
    )



def from_environment(env: Mapping[str, str] | None = None) -> Database:
    """``HELPSCOUT_DATABASE_URL``, else the ``PG*`` variables; an error when neither is set."""
    env = os.environ if env is None else env
    if env.get("HELPSCOUT_DATABASE_URL"):
        return _from_url(env["HELPSCOUT_DATABASE_URL"])
    if is_external(env):
        return _from_libpq_env(env)
    raise DatabaseError(
        "no database configured: set HELPSCOUT_DATABASE_URL or PG* variables"
        " (`make load` and `hs-ops load` start the embedded PostgreSQL for you)"
    )
