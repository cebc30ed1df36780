"""What ``ops.dashboards`` asks of Superset itself, run by the Superset virtualenv's Python.

Superset's own CLI would need one process (and one ~4 s application start) per
step and takes the admin password on its command line, where ``ps`` shows it.
This script does the steps in one application context and reads the password
from its 0600 file. It imports only Superset and the standard library, because
it runs in Superset's interpreter, not the project's.

    python superset_tasks.py setup BUNDLE_DIR   admin login, then import the bundle
    python superset_tasks.py export ZIP_PATH    every dashboard, Superset's export format
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from zipfile import ZipFile

ADMIN = "admin"


def _contents(bundle: Path) -> dict[str, str]:
    """The bundle as Superset's asset importer takes it (paths relative to the bundle).

    The committed metadata says ``type: Dashboard`` so that ``superset
    import-dashboards`` takes the bundle too; the asset importer, which unlike the
    dashboard importer also overwrites databases, datasets and charts (a rerun
    after ``git pull`` must update them), wants ``type: assets``.
    """
    contents = {
        path.relative_to(bundle).as_posix(): path.read_text()
        for path in sorted(bundle.rglob("*.yaml"))
    }
    contents["metadata.yaml"] = contents["metadata.yaml"].replace(
        "type: Dashboard", "type: assets"
    )
    return contents


def _ensure_admin(security_manager) -> None:
    """The admin login, with the password of the 0600 file (kept in step with it)."""
    from werkzeug.security import check_password_hash

    password = Path(os.environ["HS_SUPERSET_ADMIN_PASSWORD_FILE"]).read_text().strip()
    user = security_manager.find_user(username=ADMIN)
    if user is None:
        role = security_manager.find_role("Admin")
        created = security_manager.add_user(
            ADMIN, "Admin", "User", "admin@localhost", role, password=password
        )
        if not created:
            raise SystemExit("error: Superset refused to create the admin user")
    elif not check_password_hash(user.password, password):
        security_manager.reset_password(user.id, password)


def setup(bundle: Path) -> None:
    from superset import security_manager
    from superset.commands.importers.v1.assets import ImportAssetsCommand
    from superset.extensions import db
    from superset.utils.core import override_user

    _ensure_admin(security_manager)
    db.session.commit()
    contents = _contents(bundle)
    passwords = {}
    if os.environ.get("HS_SUPERSET_DB_PASSWORD_FILE"):
        password = Path(os.environ["HS_SUPERSET_DB_PASSWORD_FILE"]).read_text().strip()
        passwords = {name: password for name in contents if name.startswith("databases/")}
    with override_user(security_manager.find_user(username=ADMIN)):
        ImportAssetsCommand(contents, passwords=passwords).run()
    print(f"imported {sum(n.startswith('charts/') for n in contents)} charts,"
          f" {sum(n.startswith('dashboards/') for n in contents)} dashboards")


def export(target: Path) -> None:
    from superset import security_manager
    from superset.commands.dashboard.export import ExportDashboardsCommand
    from superset.extensions import db
    from superset.models.dashboard import Dashboard
    from superset.utils.core import override_user

    ids = [id_ for (id_,) in db.session.query(Dashboard.id).all()]
    with override_user(security_manager.find_user(username=ADMIN)), ZipFile(target, "w") as zf:
        for name, content in ExportDashboardsCommand(ids).run():
            zf.writestr(f"bundle/{name}", content())


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("setup", "export"):
        print(__doc__, file=sys.stderr)
        return 2
    from superset.app import create_app

    app = create_app()
    with app.app_context():
        (setup if argv[0] == "setup" else export)(Path(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
