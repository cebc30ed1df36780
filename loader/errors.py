"""The loader's expected failures, each with its own exit code.

Every failure a user can cause or meet (bad flags, rejected credentials, an API or
database that cannot be reached, a malformed page) is one of these exceptions;
``hs-load`` (and ``hs-ops``, which shares this table) prints its message on one
line and exits with its code, never a traceback. Anything else is a bug and exits
with :data:`EXIT_INTERNAL`.

Exit codes (also in the CLI's ``--help`` epilog):

==  =====================================================================
0   success (or ``reconcile --if-due`` when nothing was due)
1   internal error (a bug: please report it)
2   usage error: unknown flag, bad duration or number (argparse's code)
3   the database cannot be reached, or none is configured
4   credentials missing, or rejected by Help Scout
5   the Help Scout API cannot be reached (connection refused, DNS, timeouts)
6   bad dates: unparseable, ``--until`` before ``--since``, ``--since`` in the future
7   unknown stream in ``--streams``
8   malformed API response: invalid JSON after retries, missing key, wrong shape
9   the API kept failing: 5xx or 429 after the bounded retries, or an unexpected status
10  the marts are not built yet (``hs-ops report`` before ``make build``)
11  another run or reconcile holds the lake (without ``--wait``)
12  a delivery failed after the bounded retries (``hs-ops alerts``, ``report --email``)
130 interrupted (Ctrl-C, SIGINT)
143 terminated (SIGTERM: systemd, Airflow, container stops)
==  =====================================================================
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_DATABASE = 3
EXIT_CREDENTIALS = 4
EXIT_API_UNREACHABLE = 5
EXIT_BAD_DATES = 6
EXIT_UNKNOWN_STREAM = 7
EXIT_MALFORMED = 8
EXIT_API_FAILED = 9
EXIT_NOT_BUILT = 10
EXIT_LAKE_BUSY = 11
EXIT_DELIVERY = 12
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143

EXIT_CODES: dict[int, str] = {
    EXIT_OK: "success",
    EXIT_INTERNAL: "internal error (a bug)",
    EXIT_USAGE: "usage error (flags, durations, numbers)",
    EXIT_DATABASE: "database unreachable",
    EXIT_CREDENTIALS: "credentials missing or rejected",
    EXIT_API_UNREACHABLE: "Help Scout API unreachable",
    EXIT_BAD_DATES: "bad dates",
    EXIT_UNKNOWN_STREAM: "unknown stream",
    EXIT_MALFORMED: "malformed API response",
    EXIT_API_FAILED: "API kept failing after retries",
    EXIT_NOT_BUILT: "the marts are not built yet",
    EXIT_LAKE_BUSY: "another run or reconcile holds the lake",
    EXIT_DELIVERY: "a webhook or e-mail delivery failed after retries",
    EXIT_INTERRUPTED: "interrupted (SIGINT)",
    EXIT_TERMINATED: "terminated (SIGTERM)",
}


class LoaderError(Exception):
    """An expected failure: a one-line message and an exit code."""

    exit_code = EXIT_INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


class InternalError(LoaderError):
    """An unexpected exception, reported on one line (``-v`` logs the traceback)."""

    exit_code = EXIT_INTERNAL


class UsageError(LoaderError):
    exit_code = EXIT_USAGE


class DatabaseUnavailable(LoaderError):
    exit_code = EXIT_DATABASE


class CredentialsError(LoaderError):
    exit_code = EXIT_CREDENTIALS


class ApiUnreachable(LoaderError):
    exit_code = EXIT_API_UNREACHABLE


class BadDates(LoaderError):
    exit_code = EXIT_BAD_DATES


class UnknownStream(LoaderError):
    exit_code = EXIT_UNKNOWN_STREAM


class MalformedResponse(LoaderError):
    exit_code = EXIT_MALFORMED


class ApiFailed(LoaderError):
    exit_code = EXIT_API_FAILED


class LakeBusy(LoaderError):
    exit_code = EXIT_LAKE_BUSY


class Interrupted(LoaderError):
    """The run was stopped by SIGINT (Ctrl-C); recorded as ``interrupted``."""

    exit_code = EXIT_INTERRUPTED


class Terminated(Interrupted):
    """The run was stopped by SIGTERM; recorded as ``interrupted``."""

    exit_code = EXIT_TERMINATED


def first_line(value: object, default: str | None = None) -> str:
    """The first line of ``str(value)``, whitespace collapsed: how every message quotes
    an exception (database and HTTP libraries write several lines).

    Empty text gives ``default``, or the value's type name when there is none.
    """
    text = str(value).strip()
    if not text:
        return type(value).__name__ if default is None else default
    return " ".join(text.splitlines()[0].split())


def scrub(text: str, secrets: list[str | None]) -> str:
    """``text`` with every non-trivial secret replaced, a last line of defence.

    Messages are built without secrets in the first place; this guards against a
    library quoting one back at us (e.g. an error echoing a request body).
    """
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text
