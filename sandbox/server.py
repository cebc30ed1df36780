"""The socket layer: stdlib ThreadingHTTPServer with keep-alive, plus the faults that
live below HTTP semantics (latency, dropped connections, truncated bodies)."""

from __future__ import annotations

import contextlib
import socket
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sandbox.api import Api


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], api: Api | None = None) -> None:
        super().__init__(address, Handler)
        self.api = api


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: clients reuse connections
    disable_nagle_algorithm = True  # else small answers wait ~40 ms for a delayed ACK
    server: SandboxServer
    server_version = "HelpScoutSandbox/1.0"

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: request logs would carry query strings into test output."""

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        headers = {k.lower(): v for k, v in self.headers.items()}
        api = self.server.api
        assert api is not None
        response = api.handle(method, path, query, headers, body)
        if response.latency:
            time.sleep(response.latency)
        if response.fault == "drop":
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        payload = response.body
        if response.fault == "truncate":
            payload = payload[: max(1, len(payload) // 2)]
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        # headers and body in one write: one segment for small answers
        self._headers_buffer.append(b"\r\n")
        self._headers_buffer.append(payload)
        self.flush_headers()
