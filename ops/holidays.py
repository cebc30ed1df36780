"""``hs-ops holidays``: fill the dbt seed of holidays for a country and years.

The business-hours models close every local date in
``dbt_project/seeds/holidays.csv`` (columns ``date,name,mailbox_id``; an empty
mailbox_id closes the day for every mailbox). The public holidays come from the
``holidays`` package (a well-kept calendar of some 200 countries and their
regions) rather than from a list of our own. The seed stays a file people edit
by hand: this command only adds the dates it lacks and keeps every row already
there (also a hand-edited name), unless ``replace`` asks it to first drop the
rows of the same mailbox scope in those years. The file is rewritten whole
(written beside it, then renamed), sorted, so a half-written seed never exists.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import holidays as calendars

from ops.dbt import DBT_PROJECT_DIR

SEED_PATH = DBT_PROJECT_DIR / "seeds" / "holidays.csv"
COLUMNS = ("date", "name", "mailbox_id")
_YEARS = re.compile(r"^(\d{4})(?:-(\d{4}))?$")


class HolidaysError(Exception):
    """Bad input (country, years, an unreadable seed): one line for the user."""


@dataclass(frozen=True, order=True)
class Holiday:
    mailbox_id: int | None
    day: date
    name: str

    @property
    def key(self) -> tuple[int, date]:
        return (self.mailbox_id if self.mailbox_id is not None else -1, self.day)


@dataclass(frozen=True)
class FillResult:
    added: int
    kept: int
    dropped: int
    path: Path


def parse_years(text: str) -> range:
    """``2025`` or ``2024-2027`` (inclusive)."""
    match = _YEARS.match(text.strip())
    if not match:
        raise HolidaysError(f"years must look like 2025 or 2024-2027, not {text!r}")
    first = int(match.group(1))
    last = int(match.group(2) or first)
    if last < first:
        raise HolidaysError(f"years {text!r} end before they start")
    if last - first > 50:
        raise HolidaysError(f"years {text!r}: at most 50 years at once")
    return range(first, last + 1)


def public_holidays(country: str, years: range, subdivision: str | None = None,
                    language: str | None = None) -> dict[date, str]:
    """The country's (and region's) public holidays in those years, by date."""
    code = country.strip().upper()
    supported = calendars.list_supported_countries()
    if code not in supported:
        raise HolidaysError(f"unknown country {country!r} (an ISO 3166-1 code such as ES, DE, US)")
    if subdivision is not None and subdivision.upper() not in supported[code]:
        raise HolidaysError(f"unknown subdivision {subdivision!r} of {code}"
                            f" (one of {', '.join(supported[code])})")
    try:
        found = calendars.country_holidays(code, subdiv=subdivision and subdivision.upper(),
                                           years=list(years), language=language)
    except NotImplementedError as exc:
        raise HolidaysError(str(exc)) from None
    # several holidays on one date come as "A; B": one row per date
    return {day: name for day, name in sorted(found.items())}


def read_seed(path: Path) -> list[Holiday]:
    if not path.exists():
        return []
    rows = []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise HolidaysError(f"{path}: the header must be {','.join(COLUMNS)}")
        for line, row in enumerate(reader, start=2):
            try:
                day = date.fromisoformat(row["date"].strip())
                mailbox = row["mailbox_id"].strip()
                rows.append(Holiday(int(mailbox) if mailbox else None, day, row["name"]))
            except (ValueError, AttributeError):
                raise HolidaysError(f"{path}:{line}: expected YYYY-MM-DD,name,mailbox id"
                                    f" (or empty), got {row}") from None
    return rows


def write_seed(path: Path, rows: list[Holiday]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in sorted(rows, key=lambda r: r.key):
        writer.writerow((row.day.isoformat(), row.name,
                         "" if row.mailbox_id is None else row.mailbox_id))
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".holidays-", suffix=".csv")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(buffer.getvalue())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def fill_seed(country: str, years: range, *, subdivision: str | None = None,
              mailbox_id: int | None = None, language: str | None = None,
              replace: bool = False, path: Path = SEED_PATH) -> FillResult:
    """Add the public holidays of ``country`` in ``years`` to the seed at ``path``."""
    found = public_holidays(country, years, subdivision, language)
    existing = read_seed(path)
    dropped = 0
    if replace:
        kept_rows = [r for r in existing
                     if not (r.mailbox_id == mailbox_id and r.day.year in years)]
        dropped = len(existing) - len(kept_rows)
        existing = kept_rows
    held = {row.key for row in existing}
    new = [Holiday(mailbox_id, day, name) for day, name in found.items()
           if Holiday(mailbox_id, day, name).key not in held]
    write_seed(path, existing + new)
    return FillResult(added=len(new), kept=len(found) - len(new), dropped=dropped, path=path)
