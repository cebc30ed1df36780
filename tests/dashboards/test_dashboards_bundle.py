"""The committed bundle and the command line, without starting Superset.

What the bundle must hold for the dashboards to work at all: every dashboard has
the mailbox and date-range filters, every chart sits on a dashboard and reads a
dataset of the bundle, and no machine's address is committed.
"""

from __future__ import annotations

import pytest
import yaml

from loader.errors import EXIT_USAGE
from ops import dashboards
from ops.cli import main as ops_main

BUNDLE = dashboards.BUNDLE_DIR


def _configs(sub: str) -> list[dict]:
    return [yaml.safe_load(p.read_text()) for p in sorted((BUNDLE / sub).rglob("*.yaml"))]


def test_database_file_holds_only_the_placeholder_address() -> None:
    (database,) = _configs("databases")
    assert database["sqlalchemy_uri"] == dashboards.PLACEHOLDER_URI
    assert "password" not in database
    assert database["allow_dml"] is False


def test_every_chart_is_on_a_dashboard_and_reads_a_bundled_dataset() -> None:
    datasets = {d["uuid"] for d in _configs("datasets")}
    charts = {c["uuid"]: c for c in _configs("charts")}
    placed = {
        item["meta"]["uuid"]
        for board in _configs("dashboards") for item in board["position"].values()
        if isinstance(item, dict) and item.get("type") == "CHART"
    }
    assert placed == charts.keys()
    assert {c["dataset_uuid"] for c in charts.values()} <= datasets
    # The chart-data API answers from the saved query, so every chart needs one.
    assert all(c["query_context"] for c in charts.values())


def test_every_dashboard_filters_by_mailbox_and_date_range() -> None:
    boards = _configs("dashboards")
    assert {b["dashboard_title"] for b in boards} >= {
        "Support overview", "When mail arrives", "Topics",
        "Mass mailings and auto-replies", "Alerts"}
    for board in boards:
        filters = board["metadata"]["native_filter_configuration"]
        kinds = {(f["filterType"], f["name"]) for f in filters}
        assert kinds == {("filter_select", "Mailbox"), ("filter_time", "Date range")}, board


def test_a_bad_port_is_a_usage_error(monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("DASHBOARDS_PORT", "eighty")
    assert ops_main(["dashboards", "status"]) == EXIT_USAGE
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: DASHBOARDS_PORT must be a port number, not 'eighty'"]
