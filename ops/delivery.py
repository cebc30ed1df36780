"""Getting a message out: a chat webhook and SMTP e-mail, configured from the environment.

Both channels retry a bounded number of times (``ATTEMPTS``, with a short growing
pause) on failures that may pass: a 5xx or 429 answer, a refused or dropped
connection, a timeout, an SMTP 4xx. A permanent refusal (a 4xx from the webhook,
SMTP authentication or recipients rejected) fails at once. Either way the caller
gets a :class:`DeliveryError` with one line that names the channel and never a
secret (the webhook URL carries one in its path: only its host is named).

Configuration (all optional; a channel is on when its first variable is set):

======================  =====================================================
HELPSCOUT_WEBHOOK_URL   Slack/Mattermost/Teams incoming webhook: POST ``{"text": ...}``
HELPSCOUT_SMTP_HOST     SMTP server host
HELPSCOUT_SMTP_PORT     port (default 587 with starttls, 465 with ssl, 25 with none)
HELPSCOUT_SMTP_TLS      ``starttls`` (default), ``ssl`` or ``none``
HELPSCOUT_SMTP_USER     login user (no login when unset)
HELPSCOUT_SMTP_PASSWORD login password
HELPSCOUT_SMTP_FROM     sender address (default HELPSCOUT_SMTP_USER)
HELPSCOUT_ALERT_EMAIL_TO   alert recipients, comma-separated
HELPSCOUT_REPORT_EMAIL_TO  weekly report recipients (default: the alert recipients)
======================  =====================================================
"""

from __future__ import annotations

import smtplib
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import urlsplit

import httpx

ATTEMPTS = 3
PAUSES = (1.0, 2.0)  # seconds before the second and third attempts
TIMEOUT = 20.0
TLS_MODES = {"starttls": 587, "ssl": 465, "none": 25}


class DeliveryError(RuntimeError):
    """A message could not be delivered (one line, no secret)."""


class ConfigurationError(ValueError):
    """The delivery settings in the environment are unusable (one line)."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    tls: str
    user: str | None
    password: str | None
    sender: str

    def describe(self) -> str:
        return f"SMTP {self.host}:{self.port}"


def _recipients(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def webhook_url(env: Mapping[str, str]) -> str | None:
    url = (env.get("HELPSCOUT_WEBHOOK_URL") or "").strip()
    if not url:
        return None
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
        raise ConfigurationError("HELPSCOUT_WEBHOOK_URL must be an http(s) URL")
    return url


def smtp_settings(env: Mapping[str, str]) -> SmtpSettings | None:
    host = (env.get("HELPSCOUT_SMTP_HOST") or "").strip()
    if not host:
        return None
    tls = (env.get("HELPSCOUT_SMTP_TLS") or "starttls").strip().lower()
    if tls not in TLS_MODES:
        raise ConfigurationError(
            f"HELPSCOUT_SMTP_TLS must be one of {', '.join(TLS_MODES)}, not {tls!r}")
    port_text = (env.get("HELPSCOUT_SMTP_PORT") or "").strip()
    try:
        port = int(port_text) if port_text else TLS_MODES[tls]
    except ValueError:
        raise ConfigurationError(
            f"HELPSCOUT_SMTP_PORT must be a number, not {port_text!r}") from None
    if not 0 < port < 65536:
        raise ConfigurationError(f"HELPSCOUT_SMTP_PORT out of range: {port}")
    user = (env.get("HELPSCOUT_SMTP_USER") or "").strip() or None
    sender = (env.get("HELPSCOUT_SMTP_FROM") or "").strip() or user
    if not sender:
        raise ConfigurationError("set HELPSCOUT_SMTP_FROM (or HELPSCOUT_SMTP_USER): the sender")
    return SmtpSettings(host, port, tls, user, env.get("HELPSCOUT_SMTP_PASSWORD") or None, sender)


def alert_recipients(env: Mapping[str, str]) -> tuple[str, ...]:
    return _recipients(env.get("HELPSCOUT_ALERT_EMAIL_TO"))


def report_recipients(env: Mapping[str, str]) -> tuple[str, ...]:
    return _recipients(env.get("HELPSCOUT_REPORT_EMAIL_TO")) or alert_recipients(env)


def _with_retries(what: str, attempt_once) -> None:
    """Run ``attempt_once`` until it returns; it raises _Transient to be tried again."""
    last = "unknown error"
    for attempt in range(ATTEMPTS):
        if attempt:
            time.sleep(PAUSES[min(attempt - 1, len(PAUSES) - 1)])
        try:
            attempt_once()
            return
        except _Transient as exc:
            last = str(exc)
    raise DeliveryError(f"{what}: {last} (after {ATTEMPTS} attempts)")


class _Transient(Exception):
    pass


def post_webhook(url: str, text: str) -> None:
    """POST ``{"text": text}``; a 2xx is success."""
    where = f"webhook at {urlsplit(url).hostname}"

    def once() -> None:
        try:
            response = httpx.post(url, json={"text": text}, timeout=TIMEOUT)
        except httpx.HTTPError as exc:
            raise _Transient(type(exc).__name__) from None
        if response.status_code >= 500 or response.status_code == 429:
            raise _Transient(f"HTTP {response.status_code}")
        if not 200 <= response.status_code < 300:
            raise DeliveryError(f"{where}: refused with HTTP {response.status_code}")

    _with_retries(where, once)


def send_email(settings: SmtpSettings, message: EmailMessage) -> None:
    """Send one message; its To header names the recipients."""
    where = settings.describe()

    def once() -> None:
        try:
            if settings.tls == "ssl":
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    settings.host, settings.port, timeout=TIMEOUT,
                    context=ssl.create_default_context())
            else:
                client = smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT)
            with client:
                if settings.tls == "starttls":
                    client.starttls(context=ssl.create_default_context())
                if settings.user:
                    client.login(settings.user, settings.password or "")
                client.send_message(message)
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(f"{where}: login refused ({exc.smtp_code})") from None
        except smtplib.SMTPRecipientsRefused:
            raise DeliveryError(f"{where}: every recipient was refused") from None
        except smtplib.SMTPResponseException as exc:
            if 400 <= exc.smtp_code < 500:
                raise _Transient(f"temporary failure {exc.smtp_code}") from None
            raise DeliveryError(f"{where}: refused with {exc.smtp_code}") from None
        except smtplib.SMTPNotSupportedError:
            raise DeliveryError(f"{where}: the server does not offer STARTTLS"
                                " (set HELPSCOUT_SMTP_TLS)") from None
        except ssl.SSLError as exc:
            raise DeliveryError(f"{where}: TLS failed ({exc.reason})") from None
        except (OSError, smtplib.SMTPException) as exc:  # TimeoutError is an OSError
            raise _Transient(type(exc).__name__) from None

    _with_retries(where, once)
