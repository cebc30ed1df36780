"""What dbt's Jinja offers that sqlfluff's jinja templater lacks, for linting only.

sqlfluff renders the models without dbt (see .sqlfluff), so dbt's
``exceptions`` and ``modules`` are missing and ``var()`` returns a placeholder
string. The business-hours macros check their vars in Jinja and need real
values to render, so those vars come from dbt_project.yml here; every other
var keeps sqlfluff's placeholder. dbt itself never reads this package.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytz
import yaml
from sqlfluff.core.templaters.builtins.dbt import VarEmulator

_PROJECT = Path(__file__).resolve().parents[2] / "dbt_project" / "dbt_project.yml"
_VARS = yaml.safe_load(_PROJECT.read_text())["vars"]
_REAL_VARS = {"reporting_timezone", "business_hours", "mailbox_business_hours",
              "sla_first_response_business_minutes"}


def var(name: str, default: Any = "") -> Any:
    return _VARS.get(name, default) if name in _REAL_VARS else VarEmulator()


class _Exceptions:
    @staticmethod
    def raise_compiler_error(message: str) -> None:
        raise RuntimeError(message)


exceptions = _Exceptions()
modules = SimpleNamespace(re=re, pytz=pytz)
