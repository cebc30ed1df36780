"""The account evolves: every change is stamped with the wall clock and served at once."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone

import httpx

from sandbox import Sandbox
from sandbox.remote import all_pages, api_client


def _z(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _every(client: httpx.Client, **params: str) -> list[dict]:
    out = []
    for status in ("all", "spam"):
        out += all_pages(client, "/conversations", "conversations", status=status, **params)
    return out


def test_advance_stamps_changes_with_the_wall_clock(sandbox: Sandbox,
                                                    client: httpx.Client) -> None:
    history_end = max(sandbox.truth().modified_at.values())
    before = datetime.fromtimestamp(int(time.time()), timezone.utc)
    assert history_end <= before
    summary = sandbox.advance(steps=60)
    after = datetime.fromtimestamp(int(time.time()), timezone.utc)
    assert summary["applied"] > 30
    truth = sandbox.truth()
    touched = {c["conversation_id"] for c in summary["changes"]
               if "conversation_id" in c and c["conversation_id"] in truth.conversations
               and c["kind"] != "merge"}
    assert touched
    for cid in touched:
        assert before <= truth.modified_at[cid] <= after
    changed_window = _every(client, query=f"(modifiedAt:[{_z(before)} TO {_z(after)}])")
    assert {c["id"] for c in changed_window} == {
        cid for cid, m in truth.modified_at.items() if before <= m <= after}
    assert touched <= {c["id"] for c in changed_window}
    new = [c["conversation_id"] for c in summary["changes"] if c["kind"] == "new_conversation"]
    assert new
    for cid in new:
        if cid in truth.conversations:  # a later change may have deleted or merged it
            created = truth.conversations[cid]["createdAt"]
            assert _z(before) <= created <= _z(truth.now)


def test_tag_edits_and_moves_leave_user_updated_at(sandbox: Sandbox,
                                                   client: httpx.Client) -> None:
    convs = client.get("/conversations", params={"status": "all"}).json()[
        "_embedded"]["conversations"]
    retagged, moved = convs[0], convs[1]
    assert sandbox.change("retag", retagged["id"]) is not None
    assert sandbox.change("move", moved["id"]) is not None
    truth = sandbox.truth()
    for old in (retagged, moved):
        new = client.get(f"/conversations/{old['id']}").json()
        assert new["userUpdatedAt"] == old["userUpdatedAt"]
        assert truth.modified_at[old["id"]] > datetime.fromisoformat(
            old["userUpdatedAt"].replace("Z", "+00:00"))
    assert {t["id"] for t in client.get(f"/conversations/{retagged['id']}").json()["tags"]} != {
        t["id"] for t in retagged["tags"]}
    assert client.get(f"/conversations/{moved['id']}").json()["mailboxId"] != moved["mailboxId"]


def test_user_actions_move_user_updated_at(sandbox: Sandbox, client: httpx.Client) -> None:
    conv = client.get("/conversations", params={"status": "all"}).json()[
        "_embedded"]["conversations"][0]
    change = sandbox.change("note", conv["id"])
    assert change is not None
    after = client.get(f"/conversations/{conv['id']}").json()
    assert after["userUpdatedAt"] > conv["userUpdatedAt"]
    assert after["threads"] == conv["threads"] + 1


def test_customer_reply_reopens_and_waits(sandbox: Sandbox, client: httpx.Client) -> None:
    closed = client.get("/conversations", params={"status": "closed"}).json()[
        "_embedded"]["conversations"]
    target = next(c for c in closed if "primaryCustomer" in c)
    sandbox.change("customer_reply", target["id"])
    after = client.get(f"/conversations/{target['id']}", params={"embed": "threads"}).json()
    assert after["status"] == "active"
    assert after["customerWaitingSince"]["time"] == after["_embedded"]["threads"][0]["createdAt"]
    assert after["_embedded"]["threads"][0]["type"] == "customer"
    assert after["_embedded"]["threads"][0]["status"] == "active"  # the thread that reopened
    assert after["userUpdatedAt"] == target["userUpdatedAt"]


def test_hard_delete_vanishes_and_404s(sandbox: Sandbox, client: httpx.Client) -> None:
    conv = client.get("/conversations", params={"status": "all"}).json()[
        "_embedded"]["conversations"][3]
    sandbox.change("hard_delete", conv["id"])
    assert client.get(f"/conversations/{conv['id']}").status_code == 404
    assert conv["id"] not in {c["id"] for c in _every(client)}
    truth = sandbox.truth()
    assert conv["id"] in truth.deleted_ids and conv["id"] not in truth.conversations


def test_merge_answers_301_and_moves_threads(sandbox: Sandbox, client: httpx.Client) -> None:
    source = client.get("/conversations", params={"status": "all", "embed": "threads"}).json()[
        "_embedded"]["conversations"][2]
    change = sandbox.change("merge", source["id"])
    assert change is not None
    target_id = change["merged_into"]
    moved = client.get(f"/conversations/{source['id']}")
    assert moved.status_code == 301
    assert moved.headers["Location"] == f"{sandbox.base_url}/conversations/{target_id}"
    target = client.get(moved.headers["Location"]).json()
    thread_ids = {t["id"] for t in all_pages(client, f"/conversations/{target_id}/threads",
                                             "threads")}
    assert {t["id"] for t in source["_embedded"]["threads"]} <= thread_ids
    assert target["threads"] == len(thread_ids)
    assert source["id"] not in {c["id"] for c in _every(client)}
    assert sandbox.truth().merged[source["id"]] == target_id
    assert client.get(f"/conversations/{source['id']}/threads").status_code == 301


def test_soft_delete_stays_listed(sandbox: Sandbox, client: httpx.Client) -> None:
    conv = client.get("/conversations", params={"status": "closed"}).json()[
        "_embedded"]["conversations"][0]
    sandbox.change("soft_delete", conv["id"])
    listed = {c["id"]: c for c in _every(client)}
    assert listed[conv["id"]]["state"] == "deleted"


def test_tag_rename_shows_everywhere(sandbox: Sandbox, client: httpx.Client) -> None:
    tagged = next(c for c in client.get("/conversations", params={"status": "all"}).json()[
        "_embedded"]["conversations"] if c["tags"])
    tag_id = tagged["tags"][0]["id"]
    truth_before = sandbox.truth()
    renamed = None
    while renamed is None or renamed["tag_id"] != tag_id:  # random tag: rename until ours
        renamed = sandbox.change("rename_tag")
    tags = {t["id"]: t for t in all_pages(client, "/tags", "tags")}
    assert tags[tag_id]["name"] == renamed["name"] != truth_before.tags[tag_id]["name"]
    assert tags[tag_id]["updatedAt"] >= _z(truth_before.now)
    embedded = client.get(f"/conversations/{tagged['id']}").json()["tags"]
    assert {t["tag"] for t in embedded if t["id"] == tag_id} == {renamed["name"]}
    # the conversations carrying it are not modified by a rename
    assert sandbox.truth().modified_at[tagged["id"]] == truth_before.modified_at[tagged["id"]]


def test_change_mid_paging_drops_one_item(sandbox_factory: Callable[..., Sandbox]) -> None:
    """A modifiedAt-sorted scan loses one item when a seen one is modified mid-scan."""
    victim: list[int] = []

    def on_page(sb: Sandbox, served: int) -> None:
        if served == 1:  # after page 1 was built, before page 2 is asked for
            assert sb.change("retag", victim[0]) is not None

    sb = sandbox_factory(on_list_page=on_page)
    before = sb.truth()
    listed = {cid for cid, c in before.conversations.items() if c["status"] != "spam"}
    victim.append(min(listed, key=lambda cid: (before.modified_at[cid], cid)))
    with api_client(sb) as client:
        pages = []
        answer = client.get("/conversations", params={
            "status": "all", "sortField": "modifiedAt", "sortOrder": "asc"}).json()
        total = answer["page"]["totalElements"]
        while True:
            pages.append([c["id"] for c in answer["_embedded"]["conversations"]])
            if "next" not in answer["_links"]:
                break
            answer = client.get(answer["_links"]["next"]["href"]).json()
    seen = [cid for page in pages for cid in page]
    assert pages[0][0] == victim[0]
    assert total == len(listed)
    assert len(set(seen)) == total - 1, "exactly one item shifted past the scan"
    assert seen.count(victim[0]) == 2  # the modified one came round again at the end
    # ...sorted by its new modifiedAt: only items modified in that same second
    # (history can end in it) may follow it.
    after = sb.truth()
    last = len(seen) - 1 - seen[::-1].index(victim[0])
    assert all(after.modified_at[cid] >= after.modified_at[victim[0]] for cid in seen[last + 1:])


def test_mutate_during_paging_every_n_pages(sandbox_factory: Callable[..., Sandbox]) -> None:
    sb = sandbox_factory(mutate_during_paging=3)
    with api_client(sb) as client:
        for page in range(1, 10):
            client.get("/conversations", params={"status": "all", "page": page})
    stats = sb.stats()
    assert stats["paging_changes"] == 3
    assert sum(stats["changes"].values()) >= 1
