"""Thread statuses as Help Scout sets them, and the true status timeline behind them.

A thread's ``status`` is ``nochange`` unless that thread changed the
conversation's status; some changes leave no thread at all. Ground truth's
``status_timelines`` is the true history: these tests hold the served threads
and the timeline to each other, and the contract's reading of the threads
(tests/e2e/history.py) to the timeline wherever the threads can tell it.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from itertools import pairwise

import pytest

from sandbox import GroundTruth, Sandbox
from tests.e2e import history

THREAD_STATUSES = {"nochange", "active", "pending", "closed", "spam"}


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def evolved() -> GroundTruth:
    """A generated history, then every status change a live account sees."""
    with Sandbox(size=1500, seed=5, start="2025-01-01", rate_limit=0) as sb:
        sb.advance(steps=150, close=10, system_close=5, reopen=10, customer_reply=20,
                   user_reply=20, spam=3, close_without_closed_at=5, silent_close=5,
                   silent_status=8, merge=3)
        # A silent change picks a random new status, and most conversations are closed
        # already: close a few open ones silently, whatever day the history is made on.
        open_ids = [cid for cid, c in sb.truth().conversations.items()
                    if c["status"] in ("active", "pending")]
        closed = 0
        for cid in open_ids[:40]:
            change = sb.change("silent_status", conversation_id=cid)
            closed += change is not None and change.get("status") == "closed"
            if closed == 3:
                break
        return sb.truth()


def _merge_targets(truth: GroundTruth) -> set[int]:
    return set(truth.merged.values())


def test_threads_carry_the_status_they_set(evolved: GroundTruth) -> None:
    seen: Counter[tuple[str, str]] = Counter()
    by_status: Counter[str]
    for conv in evolved.conversations.values():
        for thread in conv["_embedded"]["threads"]:
            assert thread["status"] in THREAD_STATUSES
            seen[(thread["type"], thread["status"])] += 1
    by_status = Counter()
    for (_, status), n in seen.items():
        by_status[status] += n
    assert by_status.most_common(1)[0][0] == "nochange"
    # replies sent as pending or closed, lineitems closing or reopening, customers reopening
    for shape in (("reply", "pending"), ("reply", "closed"), ("lineitem", "closed"),
                  ("lineitem", "active"), ("customer", "active"), ("customer", "nochange"),
                  ("lineitem", "spam")):
        assert seen[shape] > 0, shape
    closers = [t for c in evolved.conversations.values() for t in c["_embedded"]["threads"]
               if t["type"] == "lineitem" and t["status"] == "closed"
               and t["createdBy"].get("email") == "none@nowhere.com"]
    assert closers and all(t["action"]["type"] == "workflow" for t in closers)


def test_timeline_agrees_with_threads_and_current_status(evolved: GroundTruth) -> None:
    targets = _merge_targets(evolved)
    silent = 0
    for cid, conv in evolved.conversations.items():
        timeline = evolved.status_timelines[cid]
        assert timeline[0]["at"] == conv["createdAt"]
        assert timeline[-1]["status"] == conv["status"]
        assert all(a["status"] != b["status"] for a, b in pairwise(timeline))
        assert [e["at"] for e in timeline] == sorted(e["at"] for e in timeline)
        threads = {t["id"]: t for t in conv["_embedded"]["threads"]}
        for entry in timeline:
            if entry["thread_id"] is not None:
                thread = threads[entry["thread_id"]]
                assert (thread["status"], thread["createdAt"]) == (entry["status"], entry["at"])
        silent += any(e["thread_id"] is None for e in timeline)
        if cid not in targets:  # merged-in threads keep what they set elsewhere
            setters = {t["id"] for t in threads.values() if t["status"] != "nochange"}
            assert setters == {e["thread_id"] for e in timeline} - {None}
    assert silent > 0


def test_contract_reading_of_threads_is_the_true_timeline(evolved: GroundTruth) -> None:
    """Where every change left a thread, the contract's intervals are the timeline."""
    targets = _merge_targets(evolved)
    compared = 0
    for cid, conv in evolved.conversations.items():
        timeline = evolved.status_timelines[cid]
        if cid in targets or any(e["thread_id"] is None for e in timeline):
            continue
        intervals = history.status_history(conv, [])
        assert [(r["valid_from"], r["status"], r["set_by_thread_id"]) for r in intervals] == [
            (_at(e["at"]), e["status"], e["thread_id"]) for e in timeline]
        assert all(r["source"] == "thread" for r in intervals)
        compared += 1
    assert compared > len(evolved.conversations) * 0.9


def test_silent_changes_and_missing_closed_at(evolved: GroundTruth) -> None:
    convs = evolved.conversations
    closed_silently = [cid for cid, c in convs.items() if c["status"] == "closed"
                       and evolved.status_timelines[cid][-1]["thread_id"] is None]
    assert any("closedAt" in convs[cid] for cid in closed_silently)
    assert any("closedAt" not in convs[cid] for cid in closed_silently)
    assert any(c["status"] == "closed" and "closedAt" not in c
               and evolved.status_timelines[cid][-1]["thread_id"] is not None
               for cid, c in convs.items())
    reopened = [cid for cid, timeline in evolved.status_timelines.items()
                if history.reopen_count([{"status": e["status"]} for e in timeline])]
    assert len(reopened) > 20


def test_timeline_survives_the_json_round_trip(evolved: GroundTruth) -> None:
    again = GroundTruth.from_json(evolved.to_json())
    assert again.status_timelines == evolved.status_timelines
