"""Volume anomalies, end to end: a planted spike and drop, the mart against an
independent reading of the contract, and their delivery (webhook and SMTP on
loopback) exactly once, also when a delivery fails and is retried next run.

The account (tests/scenario.py) is loaded over HTTP by the real loader up to
the middle of a mass-mailing day, so that day is the unfinished day of the data.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from loader.connection import Database
from loader.errors import EXIT_DELIVERY
from loader.windows import watermark
from ops.alerts import format_alert
from ops.cli import main as ops_main
from tests.alerts import reference as ref
from tests.receivers import SmtpReceiver, WebhookReceiver
from tests.scenario import (
    CAMPAIGN_DAY_UNFINISHED,
    CAMPAIGN_MAILBOX,
    DOMINANT_MAILBOX,
    SILENT_DAY,
    Scenario,
    built_scenario,
    day_end,
)

SINCE = "2025-01-01"
DASHBOARD = "http://127.0.0.1:8088/superset/dashboard/helpscout-support/"
COLUMNS = ("mailbox_id, date_day, conversations_received, baseline_q25, baseline_median,"
           " baseline_q75, lower_bound, upper_bound, direction, deviation_percent, is_complete")


@pytest.fixture(scope="module")
def scenario(module_pg_database: Database, tmp_path_factory) -> Iterator[Scenario]:
    with built_scenario(module_pg_database, tmp_path_factory.mktemp("dbt-alerts"),
                        select=("+volume_anomalies", "+mailboxes", "+weekly_summary")) as built:
        built.dbt("test", "--select", "volume_anomalies")
        yield built


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    receiver.stop()


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    receiver = SmtpReceiver()
    yield receiver
    receiver.stop()


@pytest.fixture
def configured(scenario: Scenario, webhook: WebhookReceiver, smtp: SmtpReceiver,
               monkeypatch: pytest.MonkeyPatch) -> Scenario:
    """The environment points hs-ops at the scenario's database and both receivers."""
    monkeypatch.delenv("HELPSCOUT_DATABASE_URL", raising=False)
    for key, value in scenario.database.libpq_env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("HELPSCOUT_WEBHOOK_URL", webhook.url)
    monkeypatch.setenv("HELPSCOUT_DASHBOARD_URL", DASHBOARD)
    for key, value in smtp.environment("support-leads@example.org, ops@example.org").items():
        monkeypatch.setenv(key, value)
    scenario.execute("drop schema if exists helpscout_ops cascade")
    return scenario


def _daily(scenario: Scenario) -> dict[tuple[int, date], int]:
    rows = scenario.query(
        "select mailbox_id, date_day, conversations_received from helpscout.mailbox_daily")
    return {(m, d): n for m, d, n in rows}


def _watermark(scenario: Scenario):
    return watermark(scenario.query(
        "select window_start, window_end from helpscout_raw.load_windows"
        " where stream = 'conversations' and status = 'completed'"
        " and window_start is not null"))


def _mart(scenario: Scenario) -> dict[tuple[int, date], tuple]:
    rows = scenario.query(f"select {COLUMNS} from helpscout.volume_anomalies")
    return {(r[0], r[1]): r for r in rows}


def _expected(scenario: Scenario) -> dict[tuple[int, date], tuple]:
    mark = _watermark(scenario)
    return {
        (a.mailbox_id, a.date_day): (
            a.mailbox_id, a.date_day, a.conversations_received, a.baseline_q25,
            a.baseline_median, a.baseline_q75, a.lower_bound, a.upper_bound, a.direction,
            a.deviation_percent, mark is not None and day_end(a.date_day) <= mark)
        for a in ref.anomalies(_daily(scenario))
    }


def _exact(row: tuple) -> tuple:
    return tuple(Fraction(v) if i in range(3, 8) else v for i, v in enumerate(row))


def test_mart_equals_the_contract_rule_over_daily_counts(scenario: Scenario) -> None:
    expected = _expected(scenario)
    actual = {key: _exact(row) for key, row in _mart(scenario).items()}
    assert expected, "the scenario should hold anomalies"
    assert actual == expected


def test_planted_spike_drop_and_unfinished_day(scenario: Scenario) -> None:
    mart = _mart(scenario)
    drop = mart[(DOMINANT_MAILBOX, SILENT_DAY)]
    assert drop[8] == "drop" and drop[2] <= 1 and drop[10] is True
    spikes = [row for (mailbox, day), row in mart.items()
              if mailbox == CAMPAIGN_MAILBOX and day.day == 3 and row[10]]
    assert spikes and all(row[8] == "spike" for row in spikes)
    unfinished = mart[(CAMPAIGN_MAILBOX, CAMPAIGN_DAY_UNFINISHED)]
    assert unfinished[8] == "spike" and unfinished[10] is False
    # the data watermark is the loader's --until, less its last second
    assert day_end(CAMPAIGN_DAY_UNFINISHED) > _watermark(scenario) > day_end(SILENT_DAY)


def _alerts(capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    code = ops_main(["alerts", "--since", SINCE])
    out, err = capsys.readouterr()
    return code, out, err


def _due(scenario: Scenario) -> list[tuple]:
    """(mailbox, day, kind, direction) of every alert due: complete anomalies and
    spikes on unfinished days."""
    return sorted(
        (row[0], row[1], "anomaly" if row[10] else "early_warning", row[8])
        for row in _mart(scenario).values() if row[10] or row[8] == "spike")


def test_each_anomaly_is_delivered_once_across_three_runs(
    configured: Scenario, webhook: WebhookReceiver, smtp: SmtpReceiver,
    capsys: pytest.CaptureFixture,
) -> None:
    due = _due(configured)
    for run in range(3):
        code, out, err = _alerts(capsys)
        assert (code, err) == (0, "")
        if run:
            assert out.strip() == f"no new anomalies since {SINCE}"

    assert len(webhook.texts) == len(set(webhook.texts)) == len(due)
    assert len(smtp.messages) == 1
    assert smtp.recipients == [["support-leads@example.org", "ops@example.org"]]
    body = smtp.messages[0].get_content().replace("\r\n", "\n")
    assert all(text.removesuffix(f"\nDashboard: {DASHBOARD}") in body for text in webhook.texts)
    assert body.count(DASHBOARD) == 1
    sent = configured.query(
        "select mailbox_id, date_day, alert_kind, direction, channel"
        " from helpscout_ops.alerts_sent")
    assert sorted((m, d, k, r) for m, d, k, r, c in sent if c == "webhook") == due
    assert sorted((m, d, k, r) for m, d, k, r, c in sent if c == "email") == due

    names = dict(configured.query("select mailbox_id, mailbox_name from helpscout.mailboxes"))
    drop = next(t for t in webhook.texts if SILENT_DAY.isoformat() in t
                and names[DOMINANT_MAILBOX] in t)
    row = _mart(configured)[(DOMINANT_MAILBOX, SILENT_DAY)]
    assert drop.startswith(f"Volume drop in {names[DOMINANT_MAILBOX]}: {row[2]} conversation")
    assert f"baseline median of {float(row[4]):.1f}".removesuffix(".0") + " for a Tuesday" in drop
    assert f"to {float(row[7]):.1f}".removesuffix(".0") + ")" in drop
    assert f"{row[9]:.1f}%".removesuffix(".0%") in drop
    assert drop.endswith(f"\nDashboard: {DASHBOARD}")
    warning = [t for t in webhook.texts if t.startswith("Early warning")]
    assert any(names[CAMPAIGN_MAILBOX] in t and CAMPAIGN_DAY_UNFINISHED.isoformat() in t
               and "day not over" in t for t in warning)


def test_failed_delivery_is_not_recorded_and_goes_out_next_run(
    configured: Scenario, webhook: WebhookReceiver, smtp: SmtpReceiver,
    capsys: pytest.CaptureFixture,
) -> None:
    due = _due(configured)
    webhook.status = 500
    code, _out, err = _alerts(capsys)
    assert code == EXIT_DELIVERY
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: webhook at 127.0.0.1: HTTP 500 (after 3 attempts)")
    assert f"{len(due)} alert(s) not sent" in lines[0]
    assert "secret-token-in-path" not in err
    assert webhook.requests == 3 and webhook.texts == []
    channels = configured.query("select distinct channel from helpscout_ops.alerts_sent")
    assert channels == [("email",)]  # the other channel is not held back
    assert len(smtp.messages) == 1

    webhook.status = 200
    code, _out, err = _alerts(capsys)
    assert (code, err) == (0, "")
    assert len(webhook.texts) == len(due)
    assert len(smtp.messages) == 1
    assert _alerts(capsys)[:2] == (0, f"no new anomalies since {SINCE}\n")
    assert len(webhook.texts) == len(due)


def test_message_names_everything() -> None:
    from ops.alerts import Alert

    alert = Alert(80_011, "Factures", date(2025, 6, 3), "early_warning", "spike", 52,
                  Decimal(2), Decimal("0.125"), Decimal("5.125"), Decimal(2500),
                  "Europe/Madrid")
    assert format_alert(alert) == (
        "Early warning, volume spike in Factures: already 52 conversations received on"
        " Tuesday 2025-06-03 (Europe/Madrid, day not over), +2500% against the baseline"
        " median of 2 for a Tuesday (expected range 0.1 to 5.1).")
    quiet = Alert(80_000, "Sòcies", date(2025, 5, 3), "anomaly", "spike", 1, Decimal(0),
                  Decimal("-0.375"), Decimal("0.625"), None, "UTC")
    assert format_alert(quiet, "http://dash/1") == (
        "Volume spike in Sòcies: 1 conversation received on Saturday 2025-05-03 (UTC),"
        " against a baseline median of 0 for a Saturday (expected range 0 to 0.6)."
        "\nDashboard: http://dash/1")



def test_incremental_build_follows_new_loads_and_equals_a_full_refresh(
    configured: Scenario, webhook: WebhookReceiver, capsys: pytest.CaptureFixture,
) -> None:
    """Runs last: it changes the account. A later day goes quiet (its conversations
    marked spam) and the next load covers the rest of the unfinished day."""
    assert _alerts(capsys)[0] == 0
    before = len(webhook.texts)
    later_silent_day = date(2025, 5, 20)
    sb = configured.sandbox
    spammed = [c.id for c in list(sb.account.conversations.values())
               if c.mailbox_id == DOMINANT_MAILBOX and c.created_by_type == "customer"
               and c.status != "spam"
               and day_end(later_silent_day).timestamp() - 86400 <= c.created_at
               < day_end(later_silent_day).timestamp()]
    for conversation_id in spammed:
        assert sb.change("spam", conversation_id) is not None
    configured.load(resume=True)  # up to now: the data watermark passes 2025-06-03
    configured.dbt("run", "--select", "+volume_anomalies")

    incremental = _mart(configured)
    assert {key: _exact(row) for key, row in incremental.items()} == _expected(configured)
    assert incremental[(DOMINANT_MAILBOX, later_silent_day)][8] == "drop"
    assert incremental[(CAMPAIGN_MAILBOX, CAMPAIGN_DAY_UNFINISHED)][10] is True

    code, _out, err = _alerts(capsys)
    assert (code, err) == (0, "")
    new = webhook.texts[before:]
    assert any(t.startswith("Volume drop") and later_silent_day.isoformat() in t for t in new)
    assert any(t.startswith("Volume spike in Factures")
               and CAMPAIGN_DAY_UNFINISHED.isoformat() in t for t in new)
    assert not any(t.startswith("Early warning") for t in new)

    configured.dbt("run", "--select", "volume_anomalies", "--full-refresh")
    assert _mart(configured) == incremental
