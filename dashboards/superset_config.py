"""Superset's configuration for the project's dashboards (read by Superset, not by us).

``ops.dashboards`` points ``SUPERSET_CONFIG_PATH`` here and ``HS_SUPERSET_HOME`` at
the instance directory (``.build/superset/home`` by default), which holds the
generated secret key (mode 0600, never in git) and the SQLite metadata database.
Nothing secret is written in this file.
"""

import os
from pathlib import Path

_HOME = Path(os.environ["HS_SUPERSET_HOME"])

SECRET_KEY = (_HOME / "secret_key").read_text().strip()
SQLALCHEMY_DATABASE_URI = f"sqlite:///{_HOME / 'superset.db'}"
DATA_DIR = str(_HOME)

# No example data, no outside calls: the UI's telemetry pixel and map tiles are
# kept out by the content security policy below (it lists only this server).
SUPERSET_LOAD_EXAMPLES = False
TALISMAN_ENABLED = True
TALISMAN_CONFIG = {
    "content_security_policy": {
        "base-uri": ["'self'"],
        "default-src": ["'self'"],
        "img-src": ["'self'", "blob:", "data:"],
        "worker-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "object-src": "'none'",
        "style-src": ["'self'", "'unsafe-inline'"],
        "font-src": ["'self'", "data:"],
        "script-src": ["'self'", "'strict-dynamic'"],
    },
    "content_security_policy_nonce_in": ["script-src"],
    "force_https": False,
    "session_cookie_secure": False,
}
CONTENT_SECURITY_POLICY_WARNING = False

# The marts are tables rebuilt by dbt; a short cache keeps dashboards fresh after a build.
CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 300}
DATA_CACHE_CONFIG = CACHE_CONFIG
FEATURE_FLAGS = {"DASHBOARD_NATIVE_FILTERS": True, "ALERT_REPORTS": False}
# One gunicorn worker on loopback: no rate limiting, no async queries.
RATELIMIT_ENABLED = False
GLOBAL_ASYNC_QUERIES = False
SQLLAB_CTAS_NO_LIMIT = True
