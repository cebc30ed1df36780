"""Settings for one ``hs-load`` invocation: environment first, flags override.

Parsing lives here so the rest of the loader only ever sees validated values:
aware UTC datetimes, ``timedelta`` durations and known stream names.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pendulum

from loader.errors import BadDates, CredentialsError, UnknownStream, UsageError
from loader.schema import DEFAULT_RAW_SCHEMA
from loader.streams import DEFAULT_STREAMS, select

DEFAULT_API_URL = "https://api.helpscout.net/v2"

# Help Scout was founded in 2011: no account holds a conversation modified earlier,
# and adaptive windows make the empty early years cost a request or two in all.
DEFAULT_SINCE = datetime(2011, 1, 1, tzinfo=timezone.utc)

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([wdhms])")
_DURATION_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(text: str) -> timedelta:
    """``90s``, ``15m``, ``24h``, ``1d``, ``1w``, ``1h30m`` or a bare ``0``."""
    value = text.strip().lower()
    if value == "0":
        return timedelta(0)
    parts = _DURATION_PART.findall(value)
    if not parts or "".join(n + u for n, u in parts) != value:
        raise UsageError(f"bad duration {text!r}: use e.g. 30s, 15m, 24h, 1d, 1w or 1h30m")
    return timedelta(seconds=sum(float(n) * _DURATION_UNITS[u] for n, u in parts))


def parse_datetime(text: str, flag: str) -> datetime:
    """A date or ISO datetime as aware UTC at second precision; naive means UTC."""
    try:
        parsed = pendulum.parse(text.strip(), tz="UTC", strict=False)
    except Exception:  # pendulum raises several types for garbage
        raise BadDates(f"{flag}: cannot parse {text!r} (use 2024-01-31 or 2024-01-31T08:00:00Z)")\
            from None
    if not isinstance(parsed, datetime):
        raise BadDates(f"{flag}: {text!r} is not a date or datetime")
    utc = parsed.in_timezone("UTC")
    return datetime(utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second,
                    tzinfo=timezone.utc)


def parse_streams(text: str) -> tuple[str, ...]:
    """Stream names from a comma list, each known (see :mod:`loader.streams`)."""
    names = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    if not names:
        raise UnknownStream("--streams is empty; choose from " + ", ".join(DEFAULT_STREAMS))
    select(names)  # raises for an unknown name
    return names


def check_range(flag: str, value: float, low: float, high: float, *,
                low_open: bool = False, unit: str = "") -> None:
    """A usage error unless ``low <= value <= high`` (``low < value`` if ``low_open``).

    The one home of every numeric option's valid range: the CLI and Python callers
    (``ApiSettings``, ``RunSettings``) are checked alike.
    """
    below = value <= low if low_open else value < low
    if math.isnan(value) or below or value > high:
        bound = f"more than {low:g}" if low_open else f"at least {low:g}"
        raise UsageError(f"{flag} must be {bound} and at most {high:g}{unit}, got {value:g}{unit}")


@dataclass(frozen=True)
class ApiSettings:
    """Where Help Scout is and how persistently to talk to it."""

    api_url: str
    token_url: str
    app_id: str | None
    app_secret: str | None = field(default=None, repr=False)
    timeout: float = 60.0
    retries: int = 5
    backoff: float = 1.0
    rate_target: float = 0.98

    def __post_init__(self) -> None:
        # A zero timeout fails every request after the retries: a usage error.
        check_range("--timeout", self.timeout, 0, 3600, low_open=True, unit="s")
        check_range("--retries", self.retries, 0, 100)
        check_range("--retry-backoff", self.backoff, 0, 600, unit="s")
        check_range("rate target", self.rate_target, 0, 1, low_open=True)

    def require_credentials(self) -> None:
        missing = [name for name, value in (("HELPSCOUT_APP_ID", self.app_id),
                                            ("HELPSCOUT_APP_SECRET", self.app_secret))
                   if not value]
        if missing:
            raise CredentialsError(
                f"set {' and '.join(missing)} (Help Scout > Your Profile > My Apps)"
            )


@dataclass(frozen=True)
class RunSettings:
    """What ``hs-load run`` extracts."""

    streams: tuple[str, ...] = DEFAULT_STREAMS
    since: datetime | None = None
    until: datetime | None = None
    window: timedelta | None = None  # the first window; None: the whole span
    window_target: int = 500
    overlap: timedelta = timedelta(minutes=15)
    lag: timedelta = timedelta(minutes=5)
    concurrency: int = 4
    max_rescans: int = 3
    # Report streams (ratings) list by creation time; each run re-reads this much before
    # the watermark so that a rating changed later is seen again.
    report_lookback: timedelta = timedelta(days=30)

    def validate(self, now: datetime) -> None:
        if self.since is not None and self.since > now:
            raise BadDates(f"--since {iso(self.since)} is in the future")
        if self.since is not None and self.until is not None and self.until < self.since:
            raise BadDates(f"--until {iso(self.until)} is before --since {iso(self.since)}")
        if self.window is not None and self.window < timedelta(seconds=1):
            raise UsageError("--window must be at least 1s")
        check_range("--window-target", self.window_target, 1, 1_000_000)
        check_range("--concurrency", self.concurrency, 1, 64)
        check_range("--overlap", self.overlap.total_seconds(), 0, 366 * 86400, unit="s")
        check_range("--lag", self.lag.total_seconds(), 0, 366 * 86400, unit="s")
        check_range("--ratings-lookback", self.report_lookback.total_seconds(), 0,
                    366 * 86400, unit="s")
        check_range("max rescans", self.max_rescans, 0, 100)


def api_settings_from(env: Mapping[str, str] | None = None, *, api_url: str | None = None,
                      token_url: str | None = None, **overrides: object) -> ApiSettings:
    """API settings from ``HELPSCOUT_*`` variables, flags winning over them."""
    env = os.environ if env is None else env
    base = (api_url or env.get("HELPSCOUT_API_URL") or DEFAULT_API_URL).rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise UsageError(f"API URL must start with http:// or https://: {base!r}")
    token = token_url or env.get("HELPSCOUT_TOKEN_URL") or f"{base}/oauth2/token"
    return ApiSettings(
        api_url=base,
        token_url=token,
        app_id=env.get("HELPSCOUT_APP_ID") or None,
        app_secret=env.get("HELPSCOUT_APP_SECRET") or None,
        **{k: v for k, v in overrides.items() if v is not None},  # type: ignore[arg-type]
    )


def raw_schema_from(env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    schema = env.get("HELPSCOUT_RAW_SCHEMA") or DEFAULT_RAW_SCHEMA
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", schema):
        raise UsageError(f"HELPSCOUT_RAW_SCHEMA must be a lower-case identifier: {schema!r}")
    return schema


def iso(moment: datetime) -> str:
    """The API's timestamp form: UTC, second precision, ``Z``."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
