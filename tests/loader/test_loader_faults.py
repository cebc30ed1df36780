"""Injected faults: the run completes with everything, or fails cleanly and resumes."""

from __future__ import annotations

import pytest

from tests.loader.kit import SINCE, assert_conversations_match

TOKEN_PATH = "/v2/oauth2/token"
FAILED = (0, 401, 500, 502, 503)  # 0: the sandbox dropped the connection


@pytest.mark.parametrize("faults, kind", [
    (dict(error_rate=0.25, seed=1), "error"),
    (dict(drop_rate=0.2, seed=2), "drop"),
    (dict(truncate_rate=0.2, seed=3), "truncate"),
    (dict(expire_tokens_after=15), "token_expiry"),
    (dict(error_rate=0.3, include_token_endpoint=True, seed=4), "error"),
])
def test_transient_faults_are_retried_with_the_same_request(
        account_factory, make_loader, monkeypatch, faults, kind):
    sb = account_factory(size=150, seed=21)
    loader = make_loader(sb)
    sb.set_faults(**faults)
    assert loader.run(*SINCE, "--concurrency", "1", "--retries", "8",
                      monkeypatch=monkeypatch) == 0
    assert sb.stats()["faults"].get(kind, 0) > 0
    assert_conversations_match(loader.lake, sb.truth())
    assert loader.lake.latest("tags") == sb.truth().tags
    loader.lake.assert_only_whole_windows()

    # One request at a time: whatever follows a failed request (apart from fetching a
    # token) is the very same request again, parameters and all.
    log = [r for r in sb.request_log if not r.path.startswith("/_sandbox")]
    for i, record in enumerate(log):
        if record.status in FAILED and record.path != TOKEN_PATH:
            again = next(r for r in log[i + 1:] if r.path != TOKEN_PATH)
            assert (again.method, again.path, again.query) == \
                (record.method, record.path, record.query)


def test_persistent_failure_fails_the_window_cleanly_then_resumes(
        account_factory, make_loader, monkeypatch, capsys):
    broken = []

    def break_listing(sb, served: int) -> None:
        if served == 6 and not broken:  # a few windows went through
            broken.append(served)
            sb.set_faults(error_rate=1.0, error_statuses=(500,),
                          path_pattern=r"^/v2/conversations$")

    sb = account_factory(size=150, seed=22, on_list_page=break_listing)
    loader = make_loader(sb)
    args = [*SINCE, "--window-target", "20", "--concurrency", "1", "--retries", "2"]
    assert loader.run(*args, monkeypatch=monkeypatch) == 9
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "HTTP 500" in err[0]

    lake = loader.lake
    windows = lake.windows()
    kept = len(windows) - 1
    assert kept >= 2 and [w[3] for w in windows] == ["completed"] * kept + ["failed"]
    assert "HTTP 500" in windows[-1][5]
    ((status, error),) = lake.query("select status, error from {s}.load_runs")
    assert status == "failed" and "HTTP 500" in error
    lake.assert_only_whole_windows()
    # The windows before stay; nothing of the failed one was written.
    assert lake.query("select count(*) from {s}.conversations")[0][0] == \
        sum(w[4] for w in windows[:kept])

    # status shows the watermark at the end of the last completed window and the failure.
    assert loader.run(command="status", monkeypatch=monkeypatch) == 0
    report = capsys.readouterr().out
    assert f"watermark (modifiedAt): {windows[kept - 1][2]:%Y-%m-%dT%H:%M:%SZ}" in report
    assert "HTTP 500" in report and "failed" in report

    sb.clear_faults()
    assert loader.run("--window-target", "20", monkeypatch=monkeypatch) == 0
    assert_conversations_match(lake, sb.truth())
    lake.assert_only_whole_windows()


def test_bodies_that_never_arrive_whole_fail_as_malformed(
        account_factory, make_loader, monkeypatch, capsys):
    sb = account_factory(size=60, seed=23)
    loader = make_loader(sb)
    sb.set_faults(truncate_rate=1.0, path_pattern=r"^/v2/conversations$")
    assert loader.run(*SINCE, "--streams", "conversations", "--retries", "1",
                      monkeypatch=monkeypatch) == 8
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ")
    assert loader.lake.query("select count(*) from {s}.conversations")[0][0] == 0
    assert {w[3] for w in loader.lake.windows()} == {"failed"}


def test_paced_run_stays_under_the_budget(account_factory, make_loader, monkeypatch):
    # 600 per minute: the headers announce it, the loader spaces its requests by
    # 60 / (600 * 0.98) s. No timing is asserted: only that pacing happened, that no
    # request was refused, and that nothing is missing.
    sb = account_factory(size=60, seed=24, rate_limit=600)
    loader = make_loader(sb)
    assert loader.run(*SINCE, "--window", "200d", monkeypatch=monkeypatch) == 0
    assert sb.stats()["rate_limited"] == 0
    (stats,) = loader.lake.query("select stats from {s}.load_runs")[0]
    assert stats["throttle_sleeps"] > 0 and stats["rate_limited"] == 0
    assert stats["requests"] == sb.stats()["requests"]
    assert_conversations_match(loader.lake, sb.truth())
