"""The served API over real HTTP: auth, listings, HAL paging, filters, single objects."""

from __future__ import annotations

import httpx

from sandbox import Sandbox
from sandbox.remote import all_pages, fetch_token


def test_token_endpoint_accepts_only_the_right_credentials(sandbox: Sandbox) -> None:
    good = {"grant_type": "client_credentials", "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret}
    answer = httpx.post(sandbox.token_url, data=good)
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "bearer" and body["expires_in"] > 0 and body["access_token"]
    for wrong in ({**good, "client_secret": "nope"}, {**good, "client_id": "nope"}):
        bad = httpx.post(sandbox.token_url, data=wrong)
        assert bad.status_code == 401
        assert "error" in bad.json()


def test_calls_without_a_valid_token_get_401(sandbox: Sandbox) -> None:
    assert httpx.get(f"{sandbox.base_url}/conversations").status_code == 401
    bad = httpx.get(f"{sandbox.base_url}/conversations",
                    headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401


def test_default_status_is_active_only(sandbox: Sandbox, client: httpx.Client) -> None:
    truth = sandbox.truth()
    listed = all_pages(client, "/conversations", "conversations")
    expected = {cid for cid, c in truth.conversations.items() if c["status"] == "active"}
    assert {c["id"] for c in listed} == expected
    assert len(listed) == len(expected)
    assert len(expected) < len(truth.conversations)


def test_every_status_filter_matches_truth(sandbox: Sandbox, client: httpx.Client) -> None:
    truth = sandbox.truth()
    wanted = {
        "active": {"active"}, "pending": {"pending"}, "closed": {"closed"}, "spam": {"spam"},
        "open": {"active", "pending"}, "all": {"active", "pending", "closed"},
    }
    for status, statuses in wanted.items():
        listed = all_pages(client, "/conversations", "conversations", status=status)
        expected = {cid for cid, c in truth.conversations.items() if c["status"] in statuses}
        assert {c["id"] for c in listed} == expected, status
    every = set()
    for status in ("all", "spam"):
        every |= {c["id"] for c in all_pages(client, "/conversations", "conversations",
                                              status=status)}
    assert every == set(truth.conversations)


def test_hal_envelope_and_next_links(client: httpx.Client, sandbox: Sandbox) -> None:
    first = client.get("/conversations", params={"status": "all", "sortField": "number",
                                                 "sortOrder": "asc"})
    body = first.json()
    page = body["page"]
    assert page["size"] == 25 and page["number"] == 1
    assert page["totalPages"] == -(-page["totalElements"] // 25)
    assert len(body["_embedded"]["conversations"]) == 25
    links = body["_links"]
    assert {"self", "first", "next", "last", "page"} <= set(links)
    nxt = links["next"]["href"]
    assert nxt.startswith(sandbox.base_url + "/conversations?")
    assert "status=all" in nxt and "sortField=number" in nxt and "page=2" in nxt
    last = client.get(links["last"]["href"]).json()
    assert "next" not in last["_links"]
    assert last["page"]["number"] == page["totalPages"]
    numbers = [c["number"] for c in all_pages(client, "/conversations", "conversations",
                                              status="all", sortField="number",
                                              sortOrder="asc")]
    assert numbers == sorted(numbers)
    assert len(numbers) == page["totalElements"] == len(set(numbers))


def test_no_modified_at_field_and_shape(client: httpx.Client) -> None:
    convs = client.get("/conversations", params={"status": "all"}).json()
    for conv in convs["_embedded"]["conversations"]:
        assert "modifiedAt" not in conv
        for key in ("id", "number", "threads", "type", "folderId", "status", "state",
                    "subject", "mailboxId", "createdBy", "createdAt", "userUpdatedAt",
                    "customerWaitingSince", "source", "tags", "cc", "bcc", "customFields",
                    "_links"):
            assert key in conv
        assert conv["createdAt"].endswith("Z") and len(conv["createdAt"]) == 20


def test_duplicated_parameters_are_rejected(client: httpx.Client) -> None:
    answer = client.get("/conversations?status=all&status=all")
    assert answer.status_code == 400
    again = client.get("/conversations?status=closed&page=2&page=2")
    assert again.status_code == 400


def test_sorting_default_is_created_desc(client: httpx.Client, sandbox: Sandbox) -> None:
    listed = all_pages(client, "/conversations", "conversations", status="all")
    created = [c["createdAt"] for c in listed]
    assert created == sorted(created, reverse=True)
    truth = sandbox.truth()
    by_mod = all_pages(client, "/conversations", "conversations", status="all",
                       sortField="modifiedAt", sortOrder="asc")
    mods = [truth.modified_at[c["id"]] for c in by_mod]
    assert mods == sorted(mods)


def test_embed_threads_gives_first_page_only(sandbox: Sandbox, client: httpx.Client) -> None:
    truth = sandbox.truth()
    long_ones = [cid for cid, c in truth.conversations.items() if c["threads"] > 50
                 and c["status"] != "spam"]
    assert long_ones, "the account must hold conversations with more than 50 threads"
    target = truth.conversations[long_ones[0]]
    listed = all_pages(client, "/conversations", "conversations", status=target["status"],
                       embed="threads")
    served = next(c for c in listed if c["id"] == target["id"])
    embedded = served["_embedded"]["threads"]
    assert len(embedded) == 50 < served["threads"]
    complete = target["_embedded"]["threads"]
    assert [t["id"] for t in embedded] == [t["id"] for t in complete[:50]]
    pages = all_pages(client, f"/conversations/{target['id']}/threads", "threads")
    assert [t["id"] for t in pages] == [t["id"] for t in complete]
    stamps = [t["createdAt"] for t in pages]
    assert stamps == sorted(stamps, reverse=True)


def test_other_lists(sandbox: Sandbox, client: httpx.Client) -> None:
    truth = sandbox.truth()
    tags = all_pages(client, "/tags", "tags")
    assert [t["name"].lower() for t in tags] == sorted(t["name"].lower() for t in tags)
    assert {t["id"]: t for t in tags} == truth.tags
    assert len(tags) > 50  # the tag listing pages too
    assert {m["id"]: m for m in all_pages(client, "/mailboxes", "mailboxes")} == truth.mailboxes
    assert {u["id"]: u for u in all_pages(client, "/users", "users")} == truth.users
    for mailbox_id, folders in truth.folders.items():
        assert all_pages(client, f"/mailboxes/{mailbox_id}/folders", "folders") == folders


def test_token_helper_roundtrip(sandbox: Sandbox) -> None:
    token = fetch_token(sandbox.token_url, sandbox.client_id, sandbox.client_secret)
    answer = httpx.get(f"{sandbox.base_url}/users", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
