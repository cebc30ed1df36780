"""SIGKILL between windows and in the middle of one: whole windows or nothing, then resume."""

from __future__ import annotations

import signal
from datetime import timedelta

import pytest

from tests.loader.kit import SINCE, assert_conversations_match

SMALL_WINDOWS = [*SINCE, "--window-target", "20", "--concurrency", "1",
                 "--streams", "conversations"]


def _killed(result) -> None:
    assert result.returncode == -signal.SIGKILL, result.stderr


def _killing(hook: str, value: str) -> tuple[str, ...]:
    """The loader's entry point with an observer that SIGKILLs it (tests/loader/crashing.py)."""
    return ("tests.loader.crashing", hook, value)


@pytest.mark.parametrize("hook, value", [
    ("--after-windows", "4"),  # between windows
    ("--after-pages", "6"),    # mid-window: pages written, not committed
])
def test_killed_run_leaves_whole_windows_and_resumes(account_factory, make_loader, hook, value):
    sb = account_factory(size=250, seed=9)
    loader = make_loader(sb)
    _killed(loader.spawn(*SMALL_WINDOWS, module=_killing(hook, value)))

    lake = loader.lake
    lake.assert_only_whole_windows()
    completed = [w for w in lake.windows() if w[3] == "completed"]
    if hook == "--after-windows":
        assert len(completed) == int(value)
    (runs,) = lake.query("select array_agg(status) from {s}.load_runs")[0]
    assert runs == ["running"]  # the killed run could not close its row
    stored = lake.query("select count(*) from {s}.conversations")[0][0]
    assert stored == sum(w[4] for w in completed)

    # The rerun (no --since) resumes at the end of the completed prefix.
    resumed = loader.spawn("--window-target", "20", "--streams", "conversations")
    assert resumed.returncode == 0, resumed.stderr
    after = lake.windows()
    first_run = after[0][0]
    new_starts = [start for run, start, *_ in after if run != first_run]
    if completed:
        assert min(new_starts) == max(w[2] for w in completed) + timedelta(seconds=1)
    lake.assert_only_whole_windows()
    assert_conversations_match(lake, sb.truth())


def test_kill_inside_the_first_window_commits_nothing(account_factory, make_loader):
    sb = account_factory(size=200, seed=4)
    loader = make_loader(sb)
    one_window = [*SINCE, "--window", "800d", "--window-target", "100000",
                  "--concurrency", "1", "--streams", "conversations"]
    _killed(loader.spawn(*one_window, module=_killing("--after-pages", "3")))
    assert loader.lake.query("select count(*) from {s}.conversations")[0][0] == 0
    assert loader.lake.windows() == []
    assert loader.spawn(*one_window).returncode == 0
    assert_conversations_match(loader.lake, sb.truth())
