"""`python -m sandbox serve` in a child process, driven through its admin endpoints."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import httpx

from sandbox.remote import all_pages, fetch_token, serve_subprocess


def test_serve_advance_truth_and_clean_stop() -> None:
    with serve_subprocess("--size", "150", "--seed", "3", "--rate-limit", "0") as served:
        assert served.base_url.endswith("/v2")
        token = fetch_token(served.token_url, served.client_id, served.client_secret)
        with httpx.Client(headers={"Authorization": f"Bearer {token}"}) as client:
            listed = all_pages(client, f"{served.base_url}/conversations", "conversations",
                               status="all")
            truth = served.truth()
            assert {c["id"] for c in listed} == {
                cid for cid, c in truth.conversations.items() if c["status"] != "spam"}
            out = subprocess.run(
                [sys.executable, "-m", "sandbox", "advance", "--url", served.base_url,
                 "--steps", "7"], capture_output=True, text=True, check=True)
            assert '"applied"' in out.stdout
            after = served.truth()
            assert after.modified_at != truth.modified_at
        served.process.send_signal(signal.SIGINT)
        assert served.process.wait(timeout=10) == 0


def test_change_every_applies_a_steady_pace() -> None:
    with serve_subprocess("--size", "60", "--rate-limit", "0", "--change-every", "0.1") as s:
        deadline = time.monotonic() + 20
        applied = 0
        while applied < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
            applied = sum(httpx.get(f"{s.admin_url}/stats").json()["changes"].values())
        assert applied >= 3


def test_bad_arguments_fail_in_one_line() -> None:
    out = subprocess.run([sys.executable, "-m", "sandbox", "serve", "--size", "10",
                          "--start", "not-a-date"], capture_output=True, text=True)
    assert out.returncode != 0
    assert "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
