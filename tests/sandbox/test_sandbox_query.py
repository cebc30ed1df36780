"""Advanced-search ranges, modifiedSince and the other filters, against ground truth."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx

from sandbox import Sandbox
from sandbox.remote import all_pages


def _z(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _listed(client: httpx.Client, **params: str) -> set[int]:
    found: set[int] = set()
    for status in ("all", "spam"):
        found |= {c["id"] for c in all_pages(client, "/conversations", "conversations",
                                             status=status, **params)}
    return found


def test_modified_at_range_is_inclusive_on_both_ends(sandbox: Sandbox,
                                                     client: httpx.Client) -> None:
    truth = sandbox.truth()
    stamps = sorted(set(truth.modified_at.values()))
    low, high = stamps[len(stamps) // 3], stamps[2 * len(stamps) // 3]
    query = f"(modifiedAt:[{_z(low)} TO {_z(high)}])"
    expected = {cid for cid, m in truth.modified_at.items() if low <= m <= high}
    assert _listed(client, query=query) == expected
    # the bounds themselves are in: a range of one second finds exactly that second
    exact = f"(modifiedAt:[{_z(low)} TO {_z(low)}])"
    assert _listed(client, query=exact) == {c for c, m in truth.modified_at.items() if m == low}


def test_open_bounds_and_created_at(sandbox: Sandbox, client: httpx.Client) -> None:
    truth = sandbox.truth()
    created = {cid: c["createdAt"] for cid, c in truth.conversations.items()}
    pivot = sorted(created.values())[len(created) // 2]
    before = _listed(client, query=f"(createdAt:[* TO {pivot}])")
    after = _listed(client, query=f"(createdAt:[{pivot} TO *])")
    assert before == {cid for cid, c in created.items() if c <= pivot}
    assert after == {cid for cid, c in created.items() if c >= pivot}
    both = _listed(client, query="(createdAt:[* TO *])")
    assert both == set(truth.conversations)


def test_combined_ranges_are_anded(sandbox: Sandbox, client: httpx.Client) -> None:
    truth = sandbox.truth()
    mods = sorted(truth.modified_at.values())
    low = mods[len(mods) // 4]
    pivot = sorted(c["createdAt"] for c in truth.conversations.values())[len(mods) // 2]
    query = f"(modifiedAt:[{_z(low)} TO *]) AND (createdAt:[* TO {pivot}])"
    expected = {cid for cid, c in truth.conversations.items()
                if truth.modified_at[cid] >= low and c["createdAt"] <= pivot}
    assert _listed(client, query=query) == expected


def test_modified_since_is_exclusive(sandbox: Sandbox, client: httpx.Client) -> None:
    truth = sandbox.truth()
    pivot = sorted(truth.modified_at.values())[len(truth.modified_at) // 2]
    expected = {cid for cid, m in truth.modified_at.items() if m > pivot}
    assert _listed(client, modifiedSince=_z(pivot)) == expected
    assert any(m == pivot for m in truth.modified_at.values())


def test_mailbox_and_tag_filters(sandbox: Sandbox, client: httpx.Client) -> None:
    truth = sandbox.truth()
    mailbox_ids = sorted(truth.mailboxes)[:2]
    got = _listed(client, mailbox=",".join(map(str, mailbox_ids)))
    assert got == {cid for cid, c in truth.conversations.items()
                   if c["mailboxId"] in mailbox_ids}
    tag = max(truth.tags.values(), key=lambda t: t["ticketCount"])
    got = _listed(client, tag=tag["name"])
    assert got == {cid for cid, c in truth.conversations.items()
                   if any(t["id"] == tag["id"] for t in c["tags"])}
    assert len(got) == tag["ticketCount"] > 0


def test_bad_parameters_are_400(client: httpx.Client) -> None:
    for params in ({"status": "everything"}, {"sortField": "nope"}, {"sortOrder": "up"},
                   {"page": "0"}, {"modifiedSince": "2025-01-01 00:00:00"},
                   {"query": "(modifiedAt:[2025-01-01T00:00:00 00:00 TO *])"},
                   {"query": "(modifiedAt:[2025-13-01T00:00:00Z TO *])"}):
        answer = client.get("/conversations", params=params)
        assert answer.status_code == 400, params
        assert "message" in answer.json()


def test_an_unencoded_plus_breaks_the_query_like_on_the_real_api(client: httpx.Client) -> None:
    # "+" in a raw query string decodes to a space: the timestamp is then invalid
    raw = "/conversations?modifiedSince=2025-01-01T00:00:00+00:00"
    assert client.get(raw).status_code == 400
    ok = "/conversations?modifiedSince=2025-01-01T00:00:00Z"
    assert client.get(ok).status_code == 200


def test_page_past_the_end_is_empty(client: httpx.Client) -> None:
    first = client.get("/conversations", params={"status": "all"}).json()
    beyond = client.get("/conversations", params={"status": "all",
                                                  "page": first["page"]["totalPages"] + 1})
    assert beyond.status_code == 200
    assert beyond.json()["_embedded"]["conversations"] == []
    assert "next" not in beyond.json()["_links"]


def test_windows_of_an_hour_partition_the_account(sandbox: Sandbox,
                                                  client: httpx.Client) -> None:
    """Adjacent inclusive windows [h, h+1h-1s] cover each conversation exactly once."""
    truth = sandbox.truth()
    latest = max(truth.modified_at.values())
    start = latest - timedelta(days=3)
    seen: list[int] = []
    t = start.replace(minute=0, second=0)
    while t <= latest:
        end = t + timedelta(hours=1) - timedelta(seconds=1)
        seen += sorted(_listed(client, query=f"(modifiedAt:[{_z(t)} TO {_z(end)}])"))
        t += timedelta(hours=1)
    expected = sorted(c for c, m in truth.modified_at.items()
                      if m >= start.replace(minute=0, second=0))
    assert sorted(seen) == expected


def test_sort_orders_with_and_without_ranges(sandbox: Sandbox, client: httpx.Client) -> None:
    truth = sandbox.truth()
    convs = {cid: c for cid, c in truth.conversations.items() if c["status"] != "spam"}
    mods = sorted(truth.modified_at[cid] for cid in convs)
    low, high = mods[len(mods) // 5], mods[4 * len(mods) // 5]
    keys = {
        "createdAt": lambda cid: (convs[cid]["createdAt"], cid),
        "modifiedAt": lambda cid: (truth.modified_at[cid], cid),
        "number": lambda cid: (convs[cid]["number"], cid),
    }
    for query in (None, f"(modifiedAt:[{_z(low)} TO {_z(high)}])"):
        wanted = [cid for cid in convs
                  if query is None or low <= truth.modified_at[cid] <= high]
        for field, key in keys.items():
            for order in ("asc", "desc"):
                params = {"status": "all", "sortField": field, "sortOrder": order}
                if query:
                    params["query"] = query
                got = [c["id"] for c in all_pages(client, "/conversations", "conversations",
                                                  **params)]
                assert got == sorted(wanted, key=key, reverse=order == "desc"), params
