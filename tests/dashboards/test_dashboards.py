"""The shipped dashboards in a real Superset, a real browser and a real PostgreSQL.

The demo account (:func:`ops.demo.run_demo`: sandbox over HTTP, the loader, dbt
build) goes into a throwaway database; a Superset is set up and served by the
same code as ``make dashboards`` (:mod:`ops.dashboards`), on a free port, with its
own home and its own read-only role. Then:

* every chart's saved query answers through Superset's chart-data API with rows;
* Debian's Chromium logs in, renders every dashboard, finds no chart in error
  and saves a screenshot of each under ``.build/dashboards/screenshots/``;
* the read-only role can neither write nor read the lake or staging schemas;
* every query in ``dashboards/sql/`` runs against the marts as that role;
* exporting from the running Superset gives back the committed bundle.

Some marts the contract defines are still being built on other branches. A
dataset that reads one of them (``PENDING``) is checked once its mart and
columns exist in the build, and only then; any other failure fails the test.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import pytest
import yaml
from psycopg2 import errors

from loader.connection import Database
from ops import dashboards
from ops.database import PROJECT_ROOT
from ops.dbt import DBT_PROJECT_DIR, run_dbt
from ops.demo import run_demo
from ops.readonly import ReadonlyRole, drop_readonly_role

pytestmark = pytest.mark.slow

SCREENSHOTS = PROJECT_ROOT / ".build" / "dashboards" / "screenshots"
SQL_DIR = dashboards.DASHBOARDS_DIR / "sql"
# Marts (None: the whole mart) and columns of the contract that other branches are
# still adding. A dataset is exempt only while a mart it reads is missing, or a listed
# column it names is missing from the mart in the build.
PENDING: dict[str, set[str] | None] = {
    "mailbox_backlog_daily": None,
    "volume_anomalies": None,
    "mailbox_weekly": {"is_complete"},
    "weekly_summary": {"conversations_received", "conversations_open_at_period_end",
                       "is_complete"},
    "conversations": {"first_response_business_minutes", "resolution_business_minutes"},
}
MARTS_SCHEMA = "helpscout"


@dataclass
class Bundle:
    """The committed bundle, read as files: chart and dataset names by uuid."""

    charts: dict[str, dict]
    datasets: dict[str, dict]
    dashboards: dict[str, dict]

    @classmethod
    def read(cls, root: Path = dashboards.BUNDLE_DIR) -> Bundle:
        def load(sub: str) -> dict[str, dict]:
            configs = (yaml.safe_load(p.read_text()) for p in sorted((root / sub).rglob("*.yaml")))
            return {c["uuid"]: c for c in configs}

        return cls(load("charts"), load("datasets"), load("dashboards"))

    def dataset_of(self, chart: dict) -> dict:
        return self.datasets[chart["dataset_uuid"]]


def _marts_read_by(sql: str) -> set[str]:
    return set(re.findall(rf"\b{MARTS_SCHEMA}\.(\w+)", sql))


def missing_from_build(database: Database) -> dict[str, set[str] | None]:
    """What of PENDING the build really lacks: None for a whole mart, else its columns."""
    conn = database.connect()
    try:
        with conn.cursor() as cur:
            missing: dict[str, set[str] | None] = {}
            for mart, columns in PENDING.items():
                cur.execute("select column_name from information_schema.columns"
                            " where table_schema = %s and table_name = %s", (MARTS_SCHEMA, mart))
                present = {name for (name,) in cur.fetchall()}
                if not present:
                    missing[mart] = None
                elif columns and columns - present:
                    missing[mart] = columns - present
            return missing
    finally:
        conn.close()


def is_pending(sql: str, missing: dict[str, set[str] | None]) -> bool:
    """Whether ``sql`` needs a mart or column that the build does not have yet."""
    for mart in _marts_read_by(sql) & missing.keys():
        columns = missing[mart]
        if columns is None or any(re.search(rf"\b{c}\b", sql) for c in columns):
            return True
    return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def demo(module_pg_database: Database, tmp_path_factory) -> Database:
    """The demo account built into a throwaway database."""
    work = tmp_path_factory.mktemp("dbt-dashboards")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DBT_TARGET_PATH", str(work / "target"))
        mp.setenv("DBT_LOG_PATH", str(work / "logs"))
        assert run_demo(module_pg_database, size=1500, seed=42, days=365) == 0
        if list(DBT_PROJECT_DIR.glob("models/**/volume_anomalies.sql")):
            # A small account has few days ten conversations off its baseline (the
            # default anomaly_min_delta); three keeps the rule and gives the charts rows.
            done = run_dbt(["run", "--select", "volume_anomalies",
                            "--vars", json.dumps({"anomaly_min_delta": 3})],
                           module_pg_database, capture=True)
            assert done.returncode == 0, done.stdout[-3000:]
    return module_pg_database


@dataclass
class Running:
    instance: dashboards.Instance
    database: Database
    role: ReadonlyRole
    password: str
    missing: dict[str, set[str] | None]

    def reader(self) -> Database:
        """The marts' database as the read-only role (trusted over the unix socket)."""
        return Database(host=self.database.host, port=self.database.port, user=self.role.name,
                        dbname=self.database.dbname, embedded=self.database.embedded)


@pytest.fixture(scope="module")
def superset(demo: Database, tmp_path_factory) -> Iterator[Running]:
    if not demo.host.startswith("/"):
        pytest.fail("the dashboard tests need the embedded PostgreSQL (unix-socket login)")
    instance = dashboards.Instance(home=tmp_path_factory.mktemp("superset-home"),
                                   port=_free_port())
    # Roles are per server: a unique one per run, so parallel runs never share it.
    role = ReadonlyRole(name=f"hs_reader_{uuid.uuid4().hex[:10]}")
    try:
        password = dashboards.setup(instance, demo, role)
        assert password is not None and len(password) >= 20
        dashboards.start(instance)
        yield Running(instance, demo, role, password, missing_from_build(demo))
    finally:
        dashboards.stop(instance)
        drop_readonly_role(demo, role)


class Api:
    """Superset's REST API as the admin (a JWT from the login endpoint)."""

    def __init__(self, running: Running) -> None:
        self.base = running.instance.url
        status, body = self.call("/api/v1/security/login", {
            "username": "admin", "password": running.password, "provider": "db"})
        assert status == 200, body
        self.token = body["access_token"]

    def call(self, path: str, data: dict | None = None) -> tuple[int, dict]:
        headers = {"Authorization": f"Bearer {self.token}"} if hasattr(self, "token") else {}
        if data is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(
            self.base + path, data=json.dumps(data).encode() if data is not None else None,
            headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")


def test_secrets_are_private_files(superset: Running) -> None:
    for path in (superset.instance.secret_key_file, superset.instance.admin_password_file,
                 superset.instance.metadata_db):
        assert path.stat().st_mode & 0o777 == 0o600, path
    assert superset.instance.admin_password_file.read_text().strip() == superset.password


def test_every_chart_answers_with_rows(superset: Running) -> None:
    bundle = Bundle.read()
    api = Api(superset)
    status, listing = api.call("/api/v1/chart/?q=(page_size:100)")
    assert status == 200
    charts = {c["slice_name"]: c["id"] for c in listing["result"]}
    assert sorted(charts) == sorted(c["slice_name"] for c in bundle.charts.values())
    checked, problems = [], {}
    for chart in bundle.charts.values():
        if is_pending(bundle.dataset_of(chart)["sql"], superset.missing):
            continue
        status, body = api.call(f"/api/v1/chart/{charts[chart['slice_name']]}/data/")
        rows = [result.get("rowcount", 0) for result in body.get("result", [])]
        if status != 200 or not rows or min(rows) < 1:
            problems[chart["slice_name"]] = (status, json.dumps(body)[:300])
        checked.append(chart["slice_name"])
    assert problems == {}
    assert checked, "no chart could be checked: are the marts built?"


def test_every_dashboard_renders_in_chromium(superset: Running) -> None:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    assert os.path.exists(chromium), "Debian's chromium is missing (make test installs it)"
    bundle = Bundle.read()
    api = Api(superset)
    _, listing = api.call("/api/v1/chart/?q=(page_size:100)")
    by_name = {c["slice_name"]: c for c in bundle.charts.values()}
    pending_ids = {
        str(c["id"]) for c in listing["result"]
        if is_pending(bundle.dataset_of(by_name[c["slice_name"]])["sql"], superset.missing)
    }
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    outside: list[str] = []
    base = superset.instance.url

    def only_loopback(route) -> None:
        url = route.request.url
        if url.startswith((base, "data:", "blob:")):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    failures: dict[str, list] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            context = browser.new_context(viewport={"width": 1600, "height": 2400})
            context.route("**/*", only_loopback)
            page = context.new_page()
            page.goto(f"{base}/login/")
            page.fill("#username", "admin")
            page.fill("#password", superset.password)
            page.keyboard.press("Enter")
            page.wait_for_url("**/superset/welcome/**", timeout=60_000)
            for config in bundle.dashboards.values():
                slug = config["slug"]
                expected = sum(1 for v in config["position"].values()
                               if isinstance(v, dict) and v.get("type") == "CHART")
                page.goto(f"{base}/superset/dashboard/{slug}/")
                page.wait_for_function(
                    "n => document.querySelectorAll('[data-test-chart-id]').length === n"
                    " && !document.querySelector('[data-test-chart-id] .loading,"
                    " [data-test-chart-id] [data-test=\"loading-indicator\"]')",
                    arg=expected, timeout=120_000)
                page.wait_for_timeout(1000)  # let the charts' animations settle
                page.screenshot(path=str(SCREENSHOTS / f"{slug}.png"), full_page=True)
                states = page.evaluate(
                    "() => Array.from(document.querySelectorAll('[data-test-chart-id]')).map("
                    "e => [e.getAttribute('data-test-chart-id'), !!e.querySelector('[role=alert]'),"
                    " !!e.querySelector('canvas, svg, table') || e.innerText.trim().length > 0])")
                bad = [(cid, error, drawn) for cid, error, drawn in states
                       if cid not in pending_ids and (error or not drawn)]
                if bad:
                    failures[slug] = bad
            mailbox_filtered = _apply_first_mailbox(
                page, f"{base}/superset/dashboard/mass-mailings/")
        finally:
            browser.close()
    assert failures == {}
    # The mailbox filter reaches the per-mailbox chart and leaves account-wide ones alone.
    assert mailbox_filtered == {"Received per day and mailbox"}
    assert sorted(p.stem for p in SCREENSHOTS.glob("*.png")) >= sorted(
        c["slug"] for c in bundle.dashboards.values())
    # Not even the UI's telemetry pixel is attempted: the CSP keeps the page on this server.
    assert outside == []


def _apply_first_mailbox(page, url: str) -> set[str]:
    """Pick the first mailbox in the dashboard's filter bar; the charts re-queried with it."""
    page.goto(url)
    page.wait_for_function(
        "() => document.querySelectorAll('[data-test-chart-id]').length > 0"
        " && !document.querySelector('[data-test-chart-id] .loading')", timeout=120_000)
    queries: list[dict] = []

    def record(request) -> None:
        if request.method == "POST" and "/api/v1/chart/data" in request.url:
            queries.append(json.loads(request.post_data))

    page.on("request", record)
    page.locator("[data-test=filter-bar] .ant-select-selector").first.click()
    page.locator(".ant-select-item-option").first.click()
    page.keyboard.press("Escape")
    page.get_by_text("Apply filters").click()
    page.wait_for_timeout(1000)
    page.wait_for_function(
        "() => !document.querySelector('[data-test-chart-id] .loading')"
        " && !document.querySelector('[data-test-chart-id] [role=alert]')", timeout=120_000)
    names = set()
    for query in queries:
        filters = query["queries"][0]["filters"]
        if any(f["col"] == "mailbox_name" and f["op"] == "IN" and len(f["val"]) == 1
               for f in filters):
            names.add(query["form_data"]["slice_id"])
    base = url.split("/superset/")[0]
    listing = page.context.request.get(f"{base}/api/v1/chart/?q=(page_size:100)").json()
    titles = {c["id"]: c["slice_name"] for c in listing["result"]}
    return {titles[i] for i in names}


def _fails(conn, statement: str) -> type[Exception] | None:
    """The error class ``statement`` fails with, or None if it succeeded."""
    with conn.cursor() as cur:
        try:
            cur.execute(statement)
        except psycopg2.Error as exc:
            conn.rollback()
            return type(exc)
    conn.rollback()
    return None


def test_readonly_role_reads_marts_only(superset: Running) -> None:
    conn = superset.reader().connect()
    try:
        assert _fails(conn, "select count(*) from helpscout.conversations") is None
        denied = (errors.InsufficientPrivilege, errors.ReadOnlySqlTransaction)
        writes = [
            "insert into helpscout.mailboxes (mailbox_id) values (-1)",
            "update helpscout.conversations set subject = 'x'",
            "delete from helpscout.conversation_tags",
            "truncate helpscout.tags",
            "drop table helpscout.tags",
            "create table helpscout.scratch (x int)",
            "create table public.scratch (x int)",
            "create schema scratch",
            "create view helpscout.scratch as select 1",
            "create temporary table scratch (x int)",
        ]
        for statement in writes:
            assert _fails(conn, statement) in denied, statement
        # Turning the read-only default off leaves the privileges in force.
        with conn.cursor() as cur:
            cur.execute("set default_transaction_read_only = off")
        conn.commit()
        for statement in writes[:-1]:
            assert _fails(conn, statement) is errors.InsufficientPrivilege, statement
        for schema in ("helpscout_raw", "helpscout_staging"):
            owner_conn = superset.database.connect()
            try:
                with owner_conn.cursor() as cur:
                    cur.execute("select table_name from information_schema.tables"
                                " where table_schema = %s", (schema,))
                    tables = [name for (name,) in cur.fetchall()]
            finally:
                owner_conn.close()
            assert tables, f"{schema} should hold tables in the demo build"
            for table in tables:
                assert _fails(conn, f'select 1 from {schema}."{table}" limit 1') is (
                    errors.InsufficientPrivilege), f"{schema}.{table}"
    finally:
        conn.close()


def test_readonly_role_reads_tables_dbt_creates_later(superset: Running) -> None:
    owner = superset.database.connect()
    try:
        with owner.cursor() as cur:
            cur.execute("create table helpscout.later_mart as select 1 as x")
        owner.commit()
        reader = superset.reader().connect()
        try:
            with reader.cursor() as cur:
                cur.execute("select x from helpscout.later_mart")
                assert cur.fetchall() == [(1,)]
        finally:
            reader.close()
    finally:
        with owner.cursor() as cur:
            cur.execute("drop table helpscout.later_mart")
        owner.commit()
        owner.close()


def test_every_sql_query_runs_against_the_marts(superset: Running) -> None:
    bundle = Bundle.read()
    paths = sorted(SQL_DIR.glob("*.sql"))
    assert {p.stem for p in paths} == {
        Path(p).stem for p in (dashboards.BUNDLE_DIR / "charts").glob("*.yaml")}
    assert len(paths) == len(bundle.charts)
    conn = superset.reader().connect()
    problems = {}
    try:
        for path in paths:
            sql = path.read_text()
            if is_pending(sql, superset.missing):
                continue
            with conn.cursor() as cur:
                try:
                    cur.execute(sql)
                    rows = cur.fetchall()
                except psycopg2.Error as exc:
                    conn.rollback()
                    problems[path.name] = str(exc).splitlines()[0]
                    continue
            if not rows:
                problems[path.name] = "no rows"
    finally:
        conn.close()
    assert problems == {}


def test_setup_twice_keeps_secrets_and_reuses_the_server(superset: Running) -> None:
    instance = superset.instance
    secret = instance.secret_key_file.read_text()
    pid = dashboards.running_pid(instance)
    api = Api(superset)
    _, before = api.call("/api/v1/chart/?q=(page_size:100)")

    assert dashboards.setup(instance, superset.database, superset.role) is None
    assert dashboards.start(instance) == pid

    assert instance.secret_key_file.read_text() == secret
    assert instance.admin_password_file.read_text().strip() == superset.password
    _, after = Api(superset).call("/api/v1/chart/?q=(page_size:100)")
    assert sorted(c["id"] for c in after["result"]) == sorted(c["id"] for c in before["result"])


def test_export_gives_back_the_committed_bundle(superset: Running, tmp_path: Path) -> None:
    target = tmp_path / "bundle"
    shutil.copytree(dashboards.BUNDLE_DIR, target)
    dashboards.export(superset.instance, target)
    exported, committed = Bundle.read(target), Bundle.read()
    assert exported.charts.keys() == committed.charts.keys()
    assert exported.datasets.keys() == committed.datasets.keys()
    assert exported.dashboards.keys() == committed.dashboards.keys()
    text = "\n".join(p.read_text() for p in target.rglob("*.yaml"))
    assert superset.database.host not in text
    (database,) = (yaml.safe_load(p.read_text()) for p in (target / "databases").glob("*.yaml"))
    assert database["sqlalchemy_uri"] == dashboards.PLACEHOLDER_URI
