"""Windows grow over empty years: a first backfill from 2011 costs about what the API's
minimum does, keeps every guarantee, and a kill mid-growth resumes without a hole."""

from __future__ import annotations

import math
import signal
from datetime import timedelta
from itertools import pairwise
from urllib.parse import parse_qs

from loader.config import DEFAULT_SINCE
from loader.windows import watermark
from tests.loader.kit import assert_conversations_match

CONVERSATIONS = ["--streams", "conversations"]


def _minimum(truth) -> int:
    """The fewest conversation requests the API allows for this account: a list page
    per 25 conversations, plus the thread pages after the 50 embedded ones."""
    threads = sum(max(0, math.ceil(len(c["_embedded"]["threads"]) / 50) - 1)
                  for c in truth.conversations.values())
    return math.ceil(len(truth.conversations) / 25) + threads


def _conversation_requests(sb) -> list:
    return [r for r in sb.request_log if r.path.startswith("/v2/conversations")]


def _assert_gapless_from_2011(lake) -> None:
    """The completed windows form one gapless chain from the default start: what the
    loader resumes from and what the dbt data watermark reads."""
    completed = sorted((w[1], w[2]) for w in lake.windows() if w[3] == "completed")
    assert completed[0][0] == DEFAULT_SINCE
    for (_, end), (start, _) in pairwise(completed):
        assert start <= end + timedelta(seconds=1)
    assert watermark(completed) == max(end for _, end in completed)


def test_empty_years_cost_next_to_nothing(account_factory, make_loader, monkeypatch):
    sb = account_factory(size=300, seed=31)
    loader = make_loader(sb)
    # No --since: a first run starts in 2011, fourteen empty years before the history.
    assert loader.run(*CONVERSATIONS, monkeypatch=monkeypatch) == 0
    truth = sb.truth()
    assert_conversations_match(loader.lake, truth)
    loader.lake.assert_only_whole_windows()
    _assert_gapless_from_2011(loader.lake)

    made = _conversation_requests(sb)
    assert len(made) <= math.ceil(1.10 * _minimum(truth))
    # Spam is listed once over the whole span, not once per window.
    spam = [r for r in made if parse_qs(r.query).get("status") == ["spam"]]
    spam_count = sum(1 for c in truth.conversations.values() if c["status"] == "spam")
    assert len(spam) <= max(1, math.ceil(spam_count / 25))


def test_many_windows_still_cost_about_the_minimum(account_factory, make_loader, monkeypatch):
    sb = account_factory(size=400, seed=32)
    loader = make_loader(sb)
    # Windows of ~50 conversations: growth, splits and density sizing all at work.
    assert loader.run(*CONVERSATIONS, "--window-target", "50", "--concurrency", "3",
                      monkeypatch=monkeypatch) == 0
    truth = sb.truth()
    assert_conversations_match(loader.lake, truth)
    loader.lake.assert_only_whole_windows()
    _assert_gapless_from_2011(loader.lake)
    completed = [w for w in loader.lake.windows() if w[3] == "completed"]
    assert len(completed) >= 5
    # Every window may end in a part-filled page; the empty years cost one probe.
    assert len(_conversation_requests(sb)) <= _minimum(truth) + len(completed) + 2


def test_a_kill_mid_growth_resumes_without_a_hole(account_factory, make_loader):
    sb = account_factory(size=250, seed=33)
    loader = make_loader(sb)
    args = [*CONVERSATIONS, "--window-target", "20", "--concurrency", "2"]
    killed = loader.spawn(*args, module=("tests.loader.crashing", "--after-windows", "3"))
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    lake = loader.lake
    lake.assert_only_whole_windows()
    completed = [w for w in lake.windows() if w[3] == "completed"]
    assert len(completed) >= 3
    # The head (from 2011) committed before any other window, so the chain starts
    # where the span does (windows after it may have completed out of order).
    assert min(w[1] for w in completed) == DEFAULT_SINCE
    mark = watermark([(w[1], w[2]) for w in completed])

    resumed = loader.spawn(*args)
    assert resumed.returncode == 0, resumed.stderr
    first_run = completed[0][0]
    new_starts = [w[1] for w in lake.windows() if w[0] != first_run]
    assert min(new_starts) == mark + timedelta(seconds=1)
    lake.assert_only_whole_windows()
    _assert_gapless_from_2011(lake)
    assert_conversations_match(lake, sb.truth())
