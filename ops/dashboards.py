"""``make dashboards``: a local Superset with the project's dashboards, in one command.

The pieces, all under ``.build/superset/`` (gitignored):

* ``venv/``: Superset's own virtualenv, made by the make target from
  ``dashboards/requirements.txt`` and ``dashboards/constraints.txt`` (its pins clash
  with dbt's, so it never shares ``.venv``).
* ``home/``: one instance: ``secret_key`` and ``admin_password`` (generated, mode
  0600, never printed again after the first run), the SQLite metadata database,
  gunicorn's pid and log.
* ``metadata-template-<hash>.db``: a migrated, initialised metadata database for the
  pinned Superset, copied into each new home (migrating takes ~15 s; a copy, none).

Superset reaches the marts as the read-only role of :mod:`ops.readonly`, over the
embedded server's unix socket (or the external server's host and port). That
address is machine-specific, so it is written into a rendered copy of the bundle
at import time and never into ``dashboards/superset/``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import yaml

from loader.connection import Database
from loader.errors import EXIT_INTERNAL, EXIT_USAGE
from ops.database import PROJECT_ROOT
from ops.readonly import ReadonlyRole, ensure_readonly_role, new_password

DASHBOARDS_DIR = PROJECT_ROOT / "dashboards"
BUNDLE_DIR = DASHBOARDS_DIR / "superset"
SUPERSET_DIR = PROJECT_ROOT / ".build" / "superset"
DEFAULT_PORT = 8088
# What the committed bundle says in place of the real address.
PLACEHOLDER_URI = "postgresql+psycopg2://helpscout_reader@/helpscout"
STARTUP_TIMEOUT_SECONDS = 120


class DashboardsError(RuntimeError):
    """A one-line reason the dashboards cannot be set up, served or exported."""


@dataclass(frozen=True)
class Instance:
    """One Superset: its virtualenv, its home directory and the port it serves on."""

    home: Path = SUPERSET_DIR / "home"
    venv: Path = SUPERSET_DIR / "venv"
    port: int = DEFAULT_PORT

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def secret_key_file(self) -> Path:
        return self.home / "secret_key"

    @property
    def admin_password_file(self) -> Path:
        return self.home / "admin_password"

    @property
    def readonly_password_file(self) -> Path:
        return self.home / "readonly_password"

    @property
    def metadata_db(self) -> Path:
        return self.home / "superset.db"

    @property
    def port_file(self) -> Path:
        return self.home / "port"

    @property
    def pid_file(self) -> Path:
        return self.home / "gunicorn.pid"

    @property
    def log_file(self) -> Path:
        return self.home / "superset.log"

    def bin(self, name: str) -> Path:
        return self.venv / "bin" / name

    def env(self) -> dict[str, str]:
        """Superset's environment: our config, this home, nothing phoning home."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "SUPERSET_"))}
        env.update(
            SUPERSET_CONFIG_PATH=str(DASHBOARDS_DIR / "superset_config.py"),
            SUPERSET_HOME=str(self.home),
            HS_SUPERSET_HOME=str(self.home),
            HS_SUPERSET_ADMIN_PASSWORD_FILE=str(self.admin_password_file),
            FLASK_APP="superset",
            SCARF_ANALYTICS="false",
            DO_NOT_TRACK="1",
            PYTHONDONTWRITEBYTECODE="1",
        )
        return env


def port_from_environment() -> int:
    raw = os.environ.get("DASHBOARDS_PORT") or str(DEFAULT_PORT)
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise DashboardsError(f"DASHBOARDS_PORT must be a port number, not {raw!r}")
    return int(raw)


def _check_venv(instance: Instance) -> None:
    if not instance.bin("superset").exists():
        raise DashboardsError(
            f"Superset is not installed in {instance.venv} (run `make dashboards`,"
            " which creates that virtualenv)"
        )


def _write_secret(path: Path, value: str) -> bool:
    """Write ``value`` to a new 0600 file; False if the file already exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return True


def _run(instance: Instance, args: list[str], what: str, env: dict[str, str] | None = None,
         timeout: float = 600) -> str:
    done = subprocess.run(args, env=env or instance.env(), cwd=instance.home,
                          capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        lines = [line for line in (done.stderr + done.stdout).splitlines() if line.strip()]
        last = lines[-1] if lines else f"exit code {done.returncode}"
        raise DashboardsError(f"{what} failed: {last[:300]}")
    return done.stdout


def _template_db(instance: Instance) -> Path:
    """The migrated metadata database for this virtualenv's Superset, built once."""
    pins = (DASHBOARDS_DIR / "constraints.txt").read_bytes()
    digest = hashlib.sha256(pins).hexdigest()[:12]
    template = instance.venv.parent / f"metadata-template-{digest}.db"
    if template.exists():
        return template
    print("  migrating a new Superset metadata database (once per Superset version)...")
    with tempfile.TemporaryDirectory(dir=instance.venv.parent) as tmp:
        scratch = Instance(home=Path(tmp), venv=instance.venv, port=instance.port)
        _write_secret(scratch.secret_key_file, os.urandom(32).hex())
        _run(scratch, [str(scratch.bin("superset")), "db", "upgrade"], "superset db upgrade")
        _run(scratch, [str(scratch.bin("superset")), "init"], "superset init")
        # Atomic: a concurrent run either sees no template or a whole one.
        os.replace(scratch.metadata_db, template)
    return template


def sqlalchemy_uri(database: Database, role: str) -> str:
    """How Superset reaches the marts as ``role`` (password, if any, given separately)."""
    if database.host.startswith("/"):
        return (f"postgresql+psycopg2://{quote(role)}@/{quote(database.dbname)}"
                f"?host={quote(database.host)}&port={database.port}")
    password = ":XXXXXXXXXX" if database.password is not None else ""
    return (f"postgresql+psycopg2://{quote(role)}{password}@{database.host}:{database.port}"
            f"/{quote(database.dbname)}")


def render_bundle(target: Path, uri: str, source: Path = BUNDLE_DIR) -> None:
    """Copy the committed bundle to ``target`` with the real connection address."""
    shutil.copytree(source, target)
    for path in (target / "databases").glob("*.yaml"):
        config = yaml.safe_load(path.read_text())
        config["sqlalchemy_uri"] = uri
        path.write_text(yaml.safe_dump(config, sort_keys=False))


def setup(instance: Instance, database: Database, role: ReadonlyRole) -> str | None:
    """Secrets, metadata, read-only role, admin login, bundle imported; idempotent.

    Returns the admin password when this run generated it (to be shown once).
    """
    _check_venv(instance)
    instance.home.mkdir(parents=True, exist_ok=True)
    _write_secret(instance.secret_key_file, os.urandom(32).hex())
    generated = new_password()
    new_admin = _write_secret(instance.admin_password_file, generated)
    if not instance.metadata_db.exists():
        shutil.copyfile(_template_db(instance), instance.metadata_db)
        instance.metadata_db.chmod(0o600)

    # The embedded server trusts its unix socket; an external one needs a password.
    password = None
    if not database.host.startswith("/"):
        _write_secret(instance.readonly_password_file, new_password())
        password = instance.readonly_password_file.read_text().strip()
    owner = ensure_readonly_role(database, role, password)
    print(f"  read-only role {role.name}: select on schema {role.marts_schema}"
          f" (tables created by {owner} included)")

    env = instance.env()
    if password is not None:
        env["HS_SUPERSET_DB_PASSWORD_FILE"] = str(instance.readonly_password_file)
    with tempfile.TemporaryDirectory(dir=instance.home) as tmp:
        bundle = Path(tmp) / "bundle"
        render_bundle(bundle, sqlalchemy_uri(database, role.name))
        out = _run(instance, [str(instance.bin("python")),
                              str(DASHBOARDS_DIR / "superset_tasks.py"), "setup", str(bundle)],
                   "importing the dashboards", env=env)
    print(f"  {out.strip().splitlines()[-1]}")
    return generated if new_admin else None


def running_pid(instance: Instance) -> int | None:
    try:
        pid = int(instance.pid_file.read_text().strip())
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        return None
    return pid


def healthy(instance: Instance) -> bool:
    try:
        with urllib.request.urlopen(f"{instance.url}/health", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def start(instance: Instance) -> int:
    """Serve on 127.0.0.1 with one gunicorn worker; returns its pid (reused if running)."""
    _check_venv(instance)
    pid = running_pid(instance)
    if pid is not None and healthy(instance):
        instance.port_file.write_text(f"{instance.port}\n")
        return pid
    if pid is not None:
        stop(instance)
    instance.home.mkdir(parents=True, exist_ok=True)
    instance.port_file.write_text(f"{instance.port}\n")
    log = instance.log_file.open("ab")
    process = subprocess.Popen(
        [str(instance.bin("gunicorn")), "--workers", "1", "--worker-class", "gthread",
         "--threads", "8", "--timeout", "120", "--bind", f"127.0.0.1:{instance.port}",
         "--pid", str(instance.pid_file), "--access-logfile", "-",
         "superset.app:create_app()"],
        env=instance.env(), cwd=instance.home, stdout=log, stderr=log,
        stdin=subprocess.DEVNULL, start_new_session=True,
    )
    log.close()
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DashboardsError(
                f"Superset exited with code {process.returncode} while starting on port"
                f" {instance.port} (is the port taken? see {instance.log_file})")
        if healthy(instance):
            return process.pid
        time.sleep(0.3)
    _terminate(process.pid)
    raise DashboardsError(f"Superset did not answer on {instance.url} within"
                          f" {STARTUP_TIMEOUT_SECONDS} s (see {instance.log_file})")


def _terminate(pid: int, grace: float = 20) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):  # reap it when it is our own child
            os.waitpid(pid, os.WNOHANG)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    os.kill(pid, signal.SIGKILL)


def stop(instance: Instance) -> bool:
    """Stop the instance's gunicorn by its pid; True when one was running."""
    pid = running_pid(instance)
    if pid is None:
        return False
    _terminate(pid)
    instance.pid_file.unlink(missing_ok=True)
    return True


def export(instance: Instance, target: Path = BUNDLE_DIR) -> int:
    """Write every dashboard of the instance back to ``target``; returns files written.

    The connection address is put back to the placeholder, so exporting never
    commits a machine's socket path or a password.
    """
    _check_venv(instance)
    if not instance.metadata_db.exists():
        raise DashboardsError(f"no Superset instance in {instance.home} (run `make dashboards`)")
    with tempfile.TemporaryDirectory(dir=instance.home) as tmp:
        archive = Path(tmp) / "export.zip"
        _run(instance, [str(instance.bin("python")), str(DASHBOARDS_DIR / "superset_tasks.py"),
                        "export", str(archive)], "exporting the dashboards")
        files: dict[str, str] = {}
        with zipfile.ZipFile(archive) as zf:
            for name in zf.namelist():
                relative = name.split("/", 1)[1]
                files[relative] = zf.read(name).decode()
    files = _stable_names(files, target)
    for relative, text in list(files.items()):
        if relative.startswith("databases/"):
            config = yaml.safe_load(text)
            config["sqlalchemy_uri"] = PLACEHOLDER_URI
            config.pop("password", None)
            files[relative] = yaml.safe_dump(config, sort_keys=False)
    for sub in ("databases", "datasets", "charts", "dashboards"):
        shutil.rmtree(target / sub, ignore_errors=True)
    for relative, text in files.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return len(files)


def _stable_names(files: dict[str, str], target: Path) -> dict[str, str]:
    """Exported files under the names the committed bundle already uses for them.

    Superset names export files after titles and instance-specific ids
    (``Topics_4.yaml``); keeping each object's committed name (found by its uuid)
    makes an export's diff show only what was edited.
    """
    known: dict[str, str] = {}
    for path in target.rglob("*.yaml"):
        config = yaml.safe_load(path.read_text()) or {}
        if "uuid" in config:
            known[str(config["uuid"])] = path.relative_to(target).as_posix()
    renamed = {}
    for relative, text in files.items():
        config = yaml.safe_load(text) or {}
        name = known.get(str(config.get("uuid")))
        renamed[name or re.sub(r"_\d+(?=\.yaml$)", "", relative)] = text
    return renamed


def serving_instance(home: Path = SUPERSET_DIR / "home") -> Instance:
    """The instance in ``home`` with the port it was last started on."""
    try:
        port = int(Instance(home=home).port_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        port = DEFAULT_PORT
    return Instance(home=home, port=port)


def run_action(action: str, database: Database | None, role: ReadonlyRole) -> int:
    """``hs-ops dashboards ACTION``: the make targets' entry point; returns an exit code."""
    try:
        port = port_from_environment()
    except DashboardsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    # Stop, status and export act on the running instance, wherever it was started.
    instance = Instance(port=port) if action == "start" else serving_instance()
    try:
        if action == "start":
            if database is None:
                raise DashboardsError("start needs the marts' database")
            print(f"1/2 Superset in {instance.home}, marts read as {role.name}")
            password = setup(instance, database, role)
            print(f"2/2 serving on {instance.url} (one gunicorn worker)")
            pid = start(instance)
            print(f"ready: {instance.url} (pid {pid}; `make dashboards-stop` stops it)")
            if password is not None:
                print(f"login: admin / {password}  (shown once; kept in"
                      f" {instance.admin_password_file}, mode 0600)")
            else:
                print(f"login: admin, password in {instance.admin_password_file}")
        elif action == "stop":
            print("stopped" if stop(instance) else "not running")
        elif action == "status":
            pid = running_pid(instance)
            up = pid is not None and healthy(instance)
            print(f"running on {instance.url} (pid {pid})" if up else "not running")
            return 0 if up else 1
        elif action == "export":
            count = export(instance)
            print(f"wrote {count} files to {BUNDLE_DIR.relative_to(PROJECT_ROOT)}/"
                  " (review with git diff)")
    except DashboardsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INTERNAL
    return 0
