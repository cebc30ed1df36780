"""Local delivery endpoints on loopback for the alert and report tests.

:class:`WebhookReceiver` is an ``http.server`` that stores every JSON body POSTed
to it and answers with ``status`` (set it to 500 to play a broken chat service).
:class:`SmtpReceiver` is a real SMTP server (aiosmtpd) with AUTH LOGIN/PLAIN that
stores every message it accepts. Both bind 127.0.0.1 on a free port.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class WebhookReceiver:
    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.requests = 0
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                receiver.requests += 1
                status = receiver.status
                if status == 200:
                    receiver.bodies.append(json.loads(body))
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if status == 200 else b"broken")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        host, port = self.server.server_address[:2]
        self.url = f"http://{host}:{port}/hooks/secret-token-in-path"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def texts(self) -> list[str]:
        return [body["text"] for body in self.bodies]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class SmtpReceiver:
    """An SMTP server in its own event loop thread; ``messages`` are parsed e-mails."""

    user: str = "alerts@example.org"
    password: str = "smtp-test-password"
    messages: list[EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        receiver = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                receiver.recipients.append(list(envelope.rcpt_tos))
                receiver.messages.append(email.message_from_bytes(
                    envelope.original_content, policy=email.policy.default))
                return "250 OK"

        def authenticate(server, session, envelope, mechanism, auth_data):
            ok = (isinstance(auth_data, LoginPassword)
                  and auth_data.login.decode() == receiver.user
                  and auth_data.password.decode() == receiver.password)
            return AuthResult(success=ok)

        def serve() -> None:
            asyncio.set_event_loop(self.loop)
            self.server = self.loop.run_until_complete(self.loop.create_server(
                lambda: SMTP(Handler(), authenticator=authenticate, auth_require_tls=False,
                             hostname="localhost"),
                "127.0.0.1", 0))
            self.port = self.server.sockets[0].getsockname()[1]
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=serve, daemon=True)
        self.thread.start()
        ready.wait(10)

    def environment(self, recipients: str) -> dict[str, str]:
        return {"HELPSCOUT_SMTP_HOST": "127.0.0.1", "HELPSCOUT_SMTP_PORT": str(self.port),
                "HELPSCOUT_SMTP_TLS": "none", "HELPSCOUT_SMTP_USER": self.user,
                "HELPSCOUT_SMTP_PASSWORD": self.password,
                "HELPSCOUT_SMTP_FROM": "helpscout-elt@example.org",
                "HELPSCOUT_ALERT_EMAIL_TO": recipients}

    def stop(self) -> None:
        def close() -> None:
            self.server.close()
            self.loop.stop()

        self.loop.call_soon_threadsafe(close)
        self.thread.join(10)
