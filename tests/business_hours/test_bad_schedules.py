"""A bad schedule stops dbt with one message naming the var, never a SQL error.

Every case renders the checking macros (dbt_project/macros/business_hours/)
with Jinja, as dbt would, with the bad var; each `dbt parse` costs seconds, so
the cases the issue names also run through real dbt (`dbt parse`: the check
runs while the project is parsed, before anything reaches the database), side
by side, and one goes through `dbt build` on a real database to show that
nothing at all is built.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import jinja2
import pytest
import pytz
import yaml

from loader.connection import Database
from ops.dbt import DBT_PROJECT_DIR, run_dbt

MONDAY = {"weekly": {"monday": [["09:00", "17:00"]]}}
# (id, vars, the var the message must name, what it must say)
CASES: tuple[tuple[str, dict[str, Any], str, str], ...] = (
    ("hour-25", {"business_hours": {"weekly": {"monday": [["25:00", "26:00"]]}}},
     "business_hours", '"25:00" is not a time of day'),
    ("minute-60", {"business_hours": {"weekly": {"friday": [["09:00", "17:60"]]}}},
     "business_hours", '"17:60" is not a time of day'),
    ("end-before-start", {"business_hours": {"weekly": {"tuesday": [["17:00", "09:00"]]}}},
     "business_hours", "ends before it starts"),
    ("empty-interval", {"business_hours": {"weekly": {"tuesday": [["09:00", "09:00"]]}}},
     "business_hours", "ends before it starts"),
    ("unknown-weekday", {"business_hours": {"weekly": {"funday": [["09:00", "17:00"]]}}},
     "business_hours", 'unknown weekday "funday"'),
    ("unknown-zone", {"business_hours": {"timezone": "Europe/Atlantis", **MONDAY}},
     "business_hours", 'unknown time zone "Europe/Atlantis"'),
    ("unknown-reporting-zone", {"reporting_timezone": "Mars/Olympus"},
     "business_hours", 'unknown time zone "Mars/Olympus" (from reporting_timezone)'),
    ("mailbox-zone", {"mailbox_business_hours": {"7": {"timezone": "Nowhere/City"}}},
     "mailbox_business_hours.7", 'unknown time zone "Nowhere/City"'),
    ("mailbox-weekday", {"mailbox_business_hours": {"7": {"weekly": {"mon": []}}}},
     "mailbox_business_hours.7", 'unknown weekday "mon"'),
    ("mailbox-key", {"mailbox_business_hours": {"support": MONDAY}},
     "mailbox_business_hours", 'key "support" is not a mailbox id'),
    ("unquoted-time", {"business_hours": {"weekly": {"monday": [[540, 1020]]}}},
     "business_hours", "is not a quoted 'HH:MM' time"),
    ("not-a-pair", {"business_hours": {"weekly": {"monday": [["09:00"]]}}},
     "business_hours", "is not a pair"),
    ("overlap",
     {"business_hours": {"weekly": {"monday": [["09:00", "13:00"], ["12:00", "17:00"]]}}},
     "business_hours", "intervals overlap"),
    ("typo-key", {"business_hours": {"timezon": "UTC"}},
     "business_hours", 'unknown key "timezon"'),
    ("sla-target", {"sla_first_response_business_minutes": "eight hours"},
     "sla_first_response_business_minutes", "is not a number of minutes"),
)


# What real dbt runs (the cases and one per-mailbox schedule).
DBT_CASES = ("hour-25", "end-before-start", "unknown-weekday", "unknown-zone", "mailbox-zone")
MACROS = DBT_PROJECT_DIR / "macros" / "business_hours"


class CompilerError(Exception):
    pass


class _Return(Exception):
    def __init__(self, value: Any) -> None:
        self.value = value


def _render_schedules(dbt_vars: dict[str, Any]) -> Any:
    """business_hours_schedules() with the project's vars overridden by ``dbt_vars``."""
    project_vars = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"]
    values = {**project_vars, **dbt_vars}

    def raise_compiler_error(message: str) -> None:
        raise CompilerError(message)

    def dbt_return(value: Any) -> None:
        raise _Return(value)

    env = jinja2.Environment(extensions=["jinja2.ext.do"])
    env.globals.update(
        var=lambda name, default=None: values.get(name, default),
        exceptions=type("Exceptions", (), {"raise_compiler_error": staticmethod(
            raise_compiler_error)}),
        modules=type("Modules", (), {"re": __import__("re"), "pytz": pytz}),
        **{"return": dbt_return},
    )
    # one template per file, as dbt loads them, each macro reached through the globals
    paths = sorted(MACROS.glob("business_hours_*.sql"))
    macros: dict[str, Any] = {}
    env.globals.update({path.stem: _late(macros, path.stem) for path in paths})
    for path in paths:
        macros[path.stem] = _returning(getattr(env.from_string(path.read_text()).module,
                                               path.stem))
    return macros["business_hours_schedules"]()


def _late(macros: dict[str, Any], name: str) -> Any:
    return lambda *args: macros[name](*args)


def _returning(macro: Any) -> Any:
    """A macro call evaluates to what the macro passed to `return()`, as in dbt."""
    def call(*args: Any) -> Any:
        try:
            return macro(*args)
        except _Return as returned:
            return returned.value
    return call


@pytest.mark.parametrize(("dbt_vars", "var", "says"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_bad_schedule_is_refused_by_the_check(dbt_vars: dict[str, Any], var: str,
                                              says: str) -> None:
    with pytest.raises(CompilerError) as refused:
        _render_schedules(dbt_vars)
    message = str(refused.value)
    assert message.startswith(f"Invalid var {var}: ") and says in message, message
    assert "\n" not in message


def test_good_schedules_pass_the_check() -> None:
    schedules = _render_schedules({
        "reporting_timezone": "Europe/Madrid",
        "mailbox_business_hours": {
            7: {"weekly": {"Saturday": [["10:00", "14:00"]], "sunday": None}},
            "8": {"timezone": "America/New_York"},
        },
    })
    account, seven, eight = schedules
    assert (account["timezone"], account["mailbox_id"]) == ("Europe/Madrid", None)
    assert [(i["weekday"], i["opens"], i["closes"]) for i in account["intervals"]] == [
        (day, 9 * 60, 17 * 60) for day in range(1, 6)]
    assert (seven["timezone"], seven["mailbox_id"]) == ("Europe/Madrid", 7)
    assert [(i["weekday"], i["opens"], i["closes"]) for i in seven["intervals"]] == [
        (6, 600, 840)]
    assert eight["timezone"] == "America/New_York"
    assert eight["intervals"] == account["intervals"]


def _dbt(args: list[str], database: Database, work: Path) -> CompletedProcess:
    env = {**os.environ, "DBT_TARGET_PATH": str(work / "target"),
           "DBT_LOG_PATH": str(work / "logs")}
    return run_dbt(args, database, env=env, capture=True)


@pytest.fixture(scope="module")
def parsed(pg_server: Database, tmp_path_factory) -> dict[str, CompletedProcess]:
    def parse(case: tuple[str, dict[str, Any], str, str]) -> tuple[str, CompletedProcess]:
        name, dbt_vars, _, _ = case
        work = tmp_path_factory.mktemp(name)
        return name, _dbt(["parse", "--vars", json.dumps(dbt_vars)], pg_server, work)

    with ThreadPoolExecutor(max_workers=3) as pool:
        return dict(pool.map(parse, [c for c in CASES if c[0] in DBT_CASES]))


@pytest.mark.parametrize(("name", "var", "says"),
                         [(c[0], c[2], c[3]) for c in CASES if c[0] in DBT_CASES],
                         ids=list(DBT_CASES))
def test_dbt_stops_on_a_bad_schedule_naming_the_var(parsed: dict[str, CompletedProcess], name: str,
                                               var: str, says: str) -> None:
    done = parsed[name]
    assert done.returncode != 0
    lines = [line for line in done.stdout.splitlines() if f"Invalid var {var}: " in line]
    assert len(lines) == 1, done.stdout[-3000:]
    assert says in lines[0], lines[0]
    assert "Database Error" not in done.stdout


def test_bad_schedule_builds_nothing(pg_database: Database, tmp_path: Path) -> None:
    dbt_vars = {"business_hours": {"weekly": {"monday": [["25:00", "26:00"]]}}}
    done = _dbt(["build", "--vars", json.dumps(dbt_vars)], pg_database, tmp_path)
    assert done.returncode != 0
    assert "Invalid var business_hours: " in done.stdout
    conn = pg_database.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("select count(*) from information_schema.tables"
                        " where table_schema like 'helpscout%%'")
            assert cur.fetchone()[0] == 0
    finally:
        conn.close()
