"""The exit-code table has one truth, ``loader.errors.EXIT_CODES``: every document
that lists the codes lists exactly those, and ``make run`` reaches the loader's code."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from loader import errors
from loader.errors import EXIT_CODES, EXIT_CREDENTIALS
from ops.database import PROJECT_ROOT
from tests.loader.kit import database_url

ROOT = Path(PROJECT_ROOT)


def _table_codes(text: str) -> set[int]:
    """Codes of a markdown table whose first column is the code: ``| 4 | ... |``."""
    return {int(code) for code in re.findall(r"^\|\s*(\d+)\s*\|", text, re.MULTILINE)}


def test_the_loader_readme_lists_exactly_the_codes():
    section = (ROOT / "loader" / "README.md").read_text().split("## Exit codes", 1)[1]
    section = section.split("\n## ", 1)[0]
    assert _table_codes(section) == set(EXIT_CODES)


def test_the_errors_docstring_lists_exactly_the_codes():
    rows = re.findall(r"^(\d+)\s+\S", errors.__doc__ or "", re.MULTILINE)
    assert {int(code) for code in rows} == set(EXIT_CODES)


def test_the_readme_points_at_the_one_table_and_names_every_code():
    text = (ROOT / "README.md").read_text()
    line = re.search(r"^Exit codes:.*?(?:\n\n|\Z)", text, re.MULTILINE | re.DOTALL)
    assert line, "README.md has no 'Exit codes:' paragraph"
    assert "loader/README.md" in line.group(0)
    listing = re.match(r"Exit codes:(.*?)\.\s", line.group(0), re.DOTALL).group(1)  # 1st sentence
    named = {int(code) for code in re.findall(r"\b(\d+) [A-Za-z]", listing)}
    assert named == set(EXIT_CODES)


def test_hs_ops_load_without_credentials_exits_4(pg_database):
    """What ``make run`` runs first: the loader's own code, not a usage error."""
    env = {"PATH": "/usr/bin:/bin", "HELPSCOUT_DATABASE_URL": database_url(pg_database)}
    result = subprocess.run([sys.executable, "-m", "ops", "load", "run"], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == EXIT_CREDENTIALS, result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: set HELPSCOUT_APP_ID and HELPSCOUT_APP_SECRET (Help Scout > Your Profile > My Apps)"
    ]
