"""Every way a run ends is recorded as it really ended (issue 17), over real HTTP and
the real database: SIGINT and SIGTERM during a run and during a reconcile, a killed
run marked abandoned by the next start, two runs at once, the option ranges."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest

from loader.cli import main
from loader.errors import (
    EXIT_INTERRUPTED,
    EXIT_LAKE_BUSY,
    EXIT_TERMINATED,
    EXIT_USAGE,
)
from tests.loader.kit import SINCE, assert_conversations_match


@pytest.fixture
def account_factory(sandbox_factory):
    """One thread-count behaviour is enough here (how a run ends does not depend on
    it; the other loader tests cover both), which halves this module's cost."""

    def make(**kw):
        kw.setdefault("now", datetime.now(timezone.utc) - timedelta(seconds=3))
        return sandbox_factory(**kw)

    return make


WINDOWS = [*SINCE, "--window-target", "20", "--concurrency", "2", "--streams", "conversations"]
ENDINGS = [(signal.SIGINT, EXIT_INTERRUPTED, "error: interrupted; "),
           (signal.SIGTERM, EXIT_TERMINATED, "error: terminated (SIGTERM); ")]


class SignalAtPage:
    """A sandbox hook: signal the child as the n-th conversation list page is served
    (before the child has it, so a unit is in progress)."""

    def __init__(self, pid: int, sig: int, nth: int) -> None:
        self.pid, self.sig, self.nth = pid, sig, nth
        self.seen = 0
        self.sent = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, sb, served: int) -> None:
        with self._lock:
            self.seen += 1
            if self.seen == self.nth:
                os.kill(self.pid, self.sig)
                self.sent.set()


def _one_error_line(stderr: str, start: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(start), stderr
    assert "Traceback" not in stderr


def signalled(loader, sb, sig: int, *, nth: int, code: int, line: str,
              args: tuple[str, ...] | list[str] = (), command: str = "run") -> None:
    """Start ``hs-load <command>``, signal it at its ``nth`` list page, check how it ends."""
    child = loader.start(*args, command=command)
    hook = SignalAtPage(child.pid, sig, nth=nth)
    sb.on_list_page = hook
    _, err = child.communicate(timeout=120)
    assert hook.sent.is_set()
    assert child.returncode == code, err
    _one_error_line(err, line)


def _runs(lake) -> list[tuple[str, str, str | None]]:
    return lake.query("select command, status, error from {s}.load_runs order by started_at")


@pytest.mark.parametrize("sig, code, line", ENDINGS, ids=["SIGINT", "SIGTERM"])
def test_a_signalled_run_is_recorded_interrupted_and_resumes(
        account_factory, make_loader, sig, code, line):
    sb = account_factory(size=250, seed=9)
    loader = make_loader(sb)
    signalled(loader, sb, sig, nth=5, args=WINDOWS, code=code, line=line)

    lake = loader.lake
    ((command, status, error),) = _runs(lake)
    assert (command, status) == ("run", "interrupted")
    assert error == line.removeprefix("error: ") + "completed windows are kept, rerun to resume"
    lake.assert_only_whole_windows()
    assert not [w for w in lake.windows() if w[3] == "failed"]  # interrupted is no failure

    sb.on_list_page = None
    assert loader.spawn("--window-target", "20", "--streams", "conversations").returncode == 0
    assert [s for _, s, _ in _runs(lake)] == ["interrupted", "succeeded"]
    lake.assert_only_whole_windows()
    assert_conversations_match(lake, sb.truth())


@pytest.mark.parametrize("sig, code, line", ENDINGS, ids=["SIGINT", "SIGTERM"])
def test_a_signalled_reconcile_leaves_the_next_if_due_due(
        account_factory, make_loader, monkeypatch, sig, code, line):
    sb = account_factory(size=150, seed=31)
    loader = make_loader(sb)
    assert loader.run(*SINCE, monkeypatch=monkeypatch) == 0
    known = set(loader.lake.latest("conversations"))
    sb.advance(hard_delete=3, merge=2)
    truth = sb.truth()
    gone = (truth.deleted_ids | set(truth.merged)) & known
    assert gone

    # Mid-listing: the sweep is one unit, nothing of it may be kept.
    signalled(loader, sb, sig, nth=3, command="reconcile", code=code, line=line)
    lake = loader.lake
    assert [s for c, s, _ in _runs(lake) if c == "reconcile"] == ["interrupted"]
    assert lake.query("select count(*) from {s}.conversation_tombstones")[0][0] == 0

    # The sweep never finished, so it is due: --if-due runs it.
    sb.on_list_page = None
    due = loader.spawn("--if-due", command="reconcile")
    assert due.returncode == 0, due.stderr
    assert "not due" not in due.stdout
    assert [s for c, s, _ in _runs(lake) if c == "reconcile"] == ["interrupted", "succeeded"]
    stones = lake.query("select entity_id from {s}.conversation_tombstones")
    assert {row[0] for row in stones} == gone
    # ... and now it is not.
    assert "not due" in loader.spawn("--if-due", command="reconcile").stdout


def test_a_killed_run_is_marked_abandoned_at_the_next_start(account_factory, make_loader):
    sb = account_factory(size=120, seed=5)
    loader = make_loader(sb)
    child = loader.start(*WINDOWS)
    hook = SignalAtPage(child.pid, signal.SIGKILL, nth=3)
    sb.on_list_page = hook
    child.communicate(timeout=120)
    assert child.returncode == -signal.SIGKILL
    assert [s for _, s, _ in _runs(loader.lake)] == ["running"]

    sb.on_list_page = None
    rerun = loader.spawn("--window-target", "20", "--streams", "conversations")
    assert rerun.returncode == 0, rerun.stderr
    assert "1 earlier run(s) found killed, marked abandoned" in rerun.stdout
    (first, second) = _runs(loader.lake)
    assert first[1] == "abandoned" and "without closing" in first[2]
    assert second[1:] == ("succeeded", None)
    assert_conversations_match(loader.lake, sb.truth())


class HoldAtPage:
    """A sandbox hook: at the n-th conversation list page, let the test act while the
    run that asked for it waits for its answer (so it is certainly mid-run)."""

    def __init__(self, nth: int) -> None:
        self.nth, self.seen = nth, 0
        self.reached, self.release = threading.Event(), threading.Event()
        self._lock = threading.Lock()

    def __call__(self, sb, served: int) -> None:
        with self._lock:
            self.seen += 1
            hold = self.seen == self.nth
        if hold:
            self.reached.set()
            self.release.wait(60)


@contextmanager
def first_run_held(loader, sb, nth: int) -> Iterator[subprocess.Popen]:
    """A first run, held at its ``nth`` conversation list page while the block runs."""
    hold = HoldAtPage(nth)
    sb.on_list_page = hold
    first = loader.start(*WINDOWS)
    try:
        assert hold.reached.wait(60)
        yield first
    finally:
        hold.release.set()


def test_a_second_run_exits_at_once_while_one_loads(account_factory, make_loader):
    sb = account_factory(size=200, seed=12)
    loader = make_loader(sb)
    with first_run_held(loader, sb, nth=3) as first:
        second = loader.spawn(*WINDOWS)
        again = loader.spawn(command="reconcile")
    _, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    for other in (second, again):
        assert other.returncode == EXIT_LAKE_BUSY, other.stderr
        _one_error_line(other.stderr, "error: another hs-load run (run ")
        assert "is loading the lake helpscout_raw; try again when it ends, or pass --wait" \
            in other.stderr

    lake = loader.lake
    assert [(c, s) for c, s, _ in _runs(lake)] == [("run", "succeeded")]  # one run loaded
    (runs,) = lake.query("select count(distinct run_id) from {s}.conversations")[0]
    assert runs == 1
    lake.assert_only_whole_windows()
    assert_conversations_match(lake, sb.truth())


def test_wait_starts_once_the_lake_is_free(account_factory, make_loader):
    sb = account_factory(size=120, seed=13)
    loader = make_loader(sb)
    with first_run_held(loader, sb, nth=2) as first:
        waiting = loader.start("--wait", "--streams", "conversations")
        # It says so, on one line, while the first still holds the lake.
        assert waiting.stderr.readline().startswith("waiting: another hs-load run (run ")
        assert waiting.poll() is None
    first.communicate(timeout=120)
    assert first.returncode == 0
    _, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, err
    (a, b) = loader.lake.query("select started_at, finished_at, status from {s}.load_runs"
                               " order by started_at")
    assert a[2] == b[2] == "succeeded"
    assert b[0] >= a[1]  # recorded only once the first had ended
    assert_conversations_match(loader.lake, sb.truth())


@pytest.mark.parametrize("args", [
    ["run", "--timeout", "0"],
    ["run", "--timeout", "-1"],
    ["run", "--timeout", "nan"],
    ["run", "--timeout", "3601"],
    ["run", "--retries", "101"],
    ["run", "--retry-backoff", "601"],
    ["run", "--concurrency", "0"],
    ["run", "--concurrency", "65"],
    ["run", "--window-target", "0"],
    ["run", "--window", "0s"],
    ["run", "--lag", "400d"],
    ["run", "--overlap", "400d"],
    ["reconcile", "--every", "400d"],
    ["status", "--timeout", "0"],
], ids=lambda a: " ".join(a))
def test_every_number_is_range_checked(args, capsys, monkeypatch):
    monkeypatch.setenv("HELPSCOUT_APP_ID", "id")
    monkeypatch.setenv("HELPSCOUT_APP_SECRET", "secret")
    monkeypatch.delenv("HELPSCOUT_DATABASE_URL", raising=False)
    assert main(args) == EXIT_USAGE
    _, err = capsys.readouterr()
    _one_error_line(err, "error: ")
    flag = args[1]
    assert flag in err, err
