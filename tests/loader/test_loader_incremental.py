"""Incremental runs capture every change, including those userUpdatedAt does not show
and those landing while the loader pages."""

from __future__ import annotations

import json
from datetime import timedelta

from tests.loader.kit import SINCE, assert_conversations_match


def test_incremental_run_captures_every_change(account_factory, make_loader, monkeypatch):
    sb = account_factory(size=200, seed=11)
    loader = make_loader(sb)
    assert loader.run(*SINCE, monkeypatch=monkeypatch) == 0
    before = sb.truth()

    # Changes that move only the hidden modifiedAt (tags, mailbox moves, customer
    # replies, the system closer), the usual ones, and a tag rename.
    sb.advance(steps=30, retag=6, move=4, customer_reply=4, system_close=3, user_reply=3,
               close=2, reassign=2, spam=2, soft_delete=1, new_conversation=4, rename_tag=2)
    after = sb.truth()
    quiet = [cid for cid, c in after.conversations.items()
             if cid in before.conversations
             and c["userUpdatedAt"] == before.conversations[cid]["userUpdatedAt"]
             and json.dumps(c, sort_keys=True)
             != json.dumps(before.conversations[cid], sort_keys=True)]
    assert quiet, "the scenario must include changes that leave userUpdatedAt alone"

    loader.settle()
    assert loader.run(monkeypatch=monkeypatch) == 0  # resumes from the watermark
    # Random steps may delete or merge: only the sweep can see those go.
    assert loader.run(command="reconcile", monkeypatch=monkeypatch) == 0
    assert_conversations_match(loader.lake, after)
    assert loader.lake.latest("tags") == after.tags
    loader.lake.assert_only_whole_windows()

    # The second run started where the first ended (overlap 0), not at the beginning.
    windows = loader.lake.windows()
    first_run = windows[0][0]
    first_end = max(end for run, _s, end, *_ in windows if run == first_run)
    second = [start for run, start, *_ in windows if run != first_run]
    assert second and min(second) == first_end + timedelta(seconds=1)
    assert all(status == "completed" for *_x, status, _r, _e in windows)


def test_changes_while_paging_lose_nothing(account_factory, make_loader, monkeypatch):
    moved: list[int] = []

    def move_a_read_conversation(sb, served: int) -> None:
        # After pages 2 and 5, the least recently modified conversation (already read:
        # the listing is modifiedAt ascending) moves mailbox, leaves the window, and
        # every later conversation shifts one place up.
        if served in (2, 5):
            modified = sb.truth().modified_at
            oldest = min(modified, key=lambda cid: (modified[cid], cid))
            if sb.change("move", conversation_id=oldest):
                moved.append(oldest)

    # Random changes after every third page besides. One big window makes shifts bite.
    sb = account_factory(size=250, seed=5, mutate_during_paging=3,
                         on_list_page=move_a_read_conversation)
    loader = make_loader(sb)
    assert loader.run(*SINCE, "--window", "800d", "--window-target", "100000",
                      "--concurrency", "1", monkeypatch=monkeypatch) == 0
    assert len(moved) == 2
    assert sb.stats()["paging_changes"] > 0
    truth = sb.truth()
    (end,) = loader.lake.query("select max(window_end) from {s}.load_windows")[0]
    stored = loader.lake.latest("conversations")
    # Everything not modified after the run's span must be in the lake already.
    missing = [cid for cid, moment in truth.modified_at.items()
               if moment <= end and cid not in stored]
    assert missing == []
    (stats,) = loader.lake.query("select stats from {s}.load_runs")[0]
    assert stats["rescans"] + stats["splits"] > 0  # the shifts were noticed

    sb.mutate_during_paging = 0
    loader.settle()
    assert loader.run(monkeypatch=monkeypatch) == 0
    assert_conversations_match(loader.lake, sb.truth())
    loader.lake.assert_only_whole_windows()
