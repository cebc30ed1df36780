"""``make report`` (``hs-ops report``) before the marts exist, and its formatting.

The report on built marts is tested in test_kpi_marts.py, on the marts built there.
"""

from __future__ import annotations

import pytest

from loader.connection import Database
from loader.errors import EXIT_NOT_BUILT
from ops import report
from ops.cli import main as ops_main


def test_report_before_marts_are_built_says_so(
    pg_database: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.delenv("HELPSCOUT_DATABASE_URL", raising=False)
    for key, value in pg_database.libpq_env().items():
        monkeypatch.setenv(key, value)

    assert ops_main(["report"]) == EXIT_NOT_BUILT

    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: the marts are not built yet")


@pytest.mark.parametrize(
    ("minutes", "text"),
    [(None, "-"), (0.4, "0m"), (45, "45m"), (61.5, "1h 02m"), (3 * 1440 + 125, "3d 02h")],
)
def test_format_minutes(minutes, text) -> None:
    assert report.format_minutes(minutes) == text


def test_render_table_aligns_columns() -> None:
    text = report.render_table(("mailbox", "received"), [("Factures", "7"), ("Generation", "12")])
    assert text.splitlines() == [
        "mailbox     received",
        "----------  --------",
        "Factures           7",
        "Generation        12",
    ]
