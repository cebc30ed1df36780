"""Expected failures: one line on stderr, a distinct exit code, no traceback, no secret."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from loader.cli import main
from loader.errors import (
    EXIT_API_UNREACHABLE,
    EXIT_BAD_DATES,
    EXIT_CREDENTIALS,
    EXIT_DATABASE,
    EXIT_MALFORMED,
    EXIT_UNKNOWN_STREAM,
    EXIT_USAGE,
)
from tests.loader.kit import FAST

DB_SECRET = "db-password-that-must-not-leak"
WRONG_SECRET = "wrong-app-secret-that-must-not-leak"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def assert_one_line_error(code: int, expected: int, out: str, err: str,
                          secrets: tuple[str, ...] = ()) -> None:
    assert code == expected, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in out + err
    for secret in secrets:
        assert secret not in out + err


def test_missing_credentials(account_factory, make_loader):
    loader = make_loader(account_factory(size=20))
    result = loader.spawn(HELPSCOUT_APP_SECRET="")
    assert_one_line_error(result.returncode, EXIT_CREDENTIALS, result.stdout, result.stderr)
    assert "HELPSCOUT_APP_SECRET" in result.stderr


def test_rejected_credentials(account_factory, make_loader):
    loader = make_loader(account_factory(size=20))
    result = loader.spawn(HELPSCOUT_APP_SECRET=WRONG_SECRET)
    assert_one_line_error(result.returncode, EXIT_CREDENTIALS, result.stdout, result.stderr,
                          (WRONG_SECRET,))
    # The run is on record as failed, and no table holds the secret.
    ((status,),) = loader.lake.query("select status from {s}.load_runs")
    assert status == "failed"
    for table in ("load_runs", "load_windows"):
        text = loader.lake.query(f"select coalesce(string_agg(t::text, ''), '') "
                                 f"from {{s}}.{table} t")[0][0]
        assert WRONG_SECRET not in text


def test_unreachable_api(account_factory, make_loader):
    loader = make_loader(account_factory(size=20))
    url = f"http://127.0.0.1:{closed_port()}/v2"
    result = loader.spawn("--api-url", url, "--retries", "1", HELPSCOUT_API_URL="",
                          HELPSCOUT_TOKEN_URL="")
    assert_one_line_error(result.returncode, EXIT_API_UNREACHABLE, result.stdout,
                          result.stderr, (loader.sb.client_secret,))


def test_unreachable_database(account_factory, make_loader):
    loader = make_loader(account_factory(size=20))
    url = f"postgresql://someone:{DB_SECRET}@127.0.0.1:{closed_port()}/lake"
    result = loader.spawn(HELPSCOUT_DATABASE_URL=url)
    assert_one_line_error(result.returncode, EXIT_DATABASE, result.stdout, result.stderr,
                          (DB_SECRET, loader.sb.client_secret))


@pytest.mark.parametrize("args, expected", [
    (["--since", "last tuesday-ish"], EXIT_BAD_DATES),
    (["--since", "2025-02-01", "--until", "2025-01-01"], EXIT_BAD_DATES),
    (["--since", "2999-01-01"], EXIT_BAD_DATES),
    (["--until", "2025-13-45"], EXIT_BAD_DATES),
    (["--streams", "conversations,tickets"], EXIT_UNKNOWN_STREAM),
    (["--window", "3 fortnights"], EXIT_USAGE),
    (["--concurrency", "0"], EXIT_USAGE),
])
def test_bad_arguments(args, expected, capsys, monkeypatch):
    # Checked before any connection: no sandbox or database is needed to fail.
    monkeypatch.setenv("HELPSCOUT_APP_ID", "id")
    monkeypatch.setenv("HELPSCOUT_APP_SECRET", "app-secret-value")
    monkeypatch.setenv("HELPSCOUT_DATABASE_URL", f"postgresql://x@127.0.0.1:{closed_port()}/x")
    code = main(["run", *FAST, *args])
    captured = capsys.readouterr()
    assert_one_line_error(code, expected, captured.out, captured.err, ("app-secret-value",))


MALFORMED_PAGES = {
    "/v2/tags": {"_embedded": {"tags": [{"name": "no id here"}]},
                 "page": {"size": 50, "totalElements": 1, "totalPages": 1, "number": 1}},
    "/v2/conversations": {"_links": {},
                          "page": {"size": 25, "totalElements": 3, "totalPages": 1, "number": 1}},
}


class _Malformed(BaseHTTPRequestHandler):
    """A Help Scout double whose listings lack what the API promises."""

    def do_POST(self) -> None:
        self._send({"token_type": "bearer", "access_token": "tok", "expires_in": 7200})

    def do_GET(self) -> None:
        self._send(MALFORMED_PAGES.get(self.path.split("?")[0], {}))

    def _send(self, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def malformed_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Malformed)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v2"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("stream", ["tags", "conversations"])
def test_malformed_page(stream, malformed_api, account_factory, make_loader, monkeypatch,
                        capsys):
    loader = make_loader(account_factory(size=20))
    monkeypatch.setenv("HELPSCOUT_API_URL", malformed_api)
    code = loader.run("--since", "2025-01-01", "--streams", stream, "--api-url", malformed_api,
                      monkeypatch=monkeypatch)
    captured = capsys.readouterr()
    assert_one_line_error(code, EXIT_MALFORMED, captured.out, captured.err)
    windows = loader.lake.query("select status, error from {s}.load_windows")
    assert windows and all(status == "failed" and error for status, error in windows)
    assert loader.lake.query(f"select count(*) from {{s}}.{stream}")[0][0] == 0
