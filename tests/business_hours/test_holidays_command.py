"""``hs-ops holidays`` fills the holidays seed and leaves hand edits alone."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

from ops import holidays

# Spain's national public holidays on fixed dates, and Good Friday 2025 (18 April).
SPAIN_2025 = {"2025-01-01", "2025-01-06", "2025-04-18", "2025-05-01", "2025-08-15",
              "2025-11-01", "2025-12-06", "2025-12-08", "2025-12-25"}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == ["date", "name", "mailbox_id"]
        return list(reader)


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ops", "holidays", *args],
                          capture_output=True, text=True)


def test_fills_a_country_and_years_for_every_mailbox(tmp_path: Path) -> None:
    seed = tmp_path / "holidays.csv"
    done = _cli("es", "--years", "2025-2026", "--output", str(seed))
    assert done.returncode == 0, done.stderr
    rows = _rows(seed)
    days = {r["date"] for r in rows}
    assert days >= SPAIN_2025
    assert "2026-01-06" in days and "2027-01-06" not in days
    assert all(r["mailbox_id"] == "" for r in rows)
    assert rows == sorted(rows, key=lambda r: r["date"])
    assert f"{len(rows)} added" in done.stdout


def test_keeps_hand_edits_and_adds_only_what_is_missing(tmp_path: Path) -> None:
    seed = tmp_path / "holidays.csv"
    seed.write_text("date,name,mailbox_id\n"
                    "2025-12-25,Navidad (our name),\n"
                    "2025-07-31,Company summer day,\n"
                    "2025-03-19,San José in the Valencia office,42\n")
    result = holidays.fill_seed("ES", holidays.parse_years("2025"), path=seed)
    rows = _rows(seed)
    by_key = {(r["date"], r["mailbox_id"]): r["name"] for r in rows}
    assert by_key[("2025-12-25", "")] == "Navidad (our name)"
    assert by_key[("2025-07-31", "")] == "Company summer day"
    assert by_key[("2025-03-19", "42")] == "San José in the Valencia office"
    assert {d for d, m in by_key if m == ""} == SPAIN_2025 | {"2025-07-31"}
    assert (result.added, result.kept) == (len(SPAIN_2025) - 1, 1)
    again = holidays.fill_seed("ES", holidays.parse_years("2025"), path=seed)
    assert again.added == 0 and _rows(seed) == rows


def test_a_mailbox_scope_and_replace(tmp_path: Path) -> None:
    seed = tmp_path / "holidays.csv"
    holidays.fill_seed("ES", holidays.parse_years("2025"), path=seed)
    holidays.fill_seed("PT", holidays.parse_years("2025"), mailbox_id=7, path=seed)
    rows = _rows(seed)
    assert {r["date"] for r in rows if r["mailbox_id"] == ""} == SPAIN_2025
    portugal = {r["date"] for r in rows if r["mailbox_id"] == "7"}
    assert {"2025-04-25", "2025-06-10", "2025-12-25"} <= portugal  # Freedom, Portugal Day
    # replace: Germany instead of Portugal for mailbox 7; the account's rows stay
    result = holidays.fill_seed("DE", holidays.parse_years("2025"), mailbox_id=7,
                                replace=True, path=seed)
    rows = _rows(seed)
    assert result.dropped == len(portugal)
    assert {r["date"] for r in rows if r["mailbox_id"] == ""} == SPAIN_2025
    germany = {r["date"] for r in rows if r["mailbox_id"] == "7"}
    assert "2025-10-03" in germany and "2025-06-10" not in germany


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    seed = tmp_path / "holidays.csv"
    seed.write_text("day,holiday\n2025-01-01,x\n")
    for args, says in ((("XX", "--years", "2025"), "unknown country 'XX'"),
                       (("ES", "--years", "2027-2025"), "end before they start"),
                       (("ES", "--years", "next year"), "years must look like"),
                       (("ES", "--years", "2025", "--subdiv", "ZZ"), "unknown subdivision"),
                       (("ES", "--years", "2025", "--output", str(seed)), "the header must be")):
        done = _cli(*args, "--output", str(tmp_path / "other.csv")) if "--output" not in args \
            else _cli(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.count("\n") == 1 and says in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr
    assert seed.read_text() == "day,holiday\n2025-01-01,x\n"
    assert not (tmp_path / "other.csv").exists()


def test_the_shipped_seed_parses() -> None:
    holidays.read_seed(holidays.SEED_PATH)
