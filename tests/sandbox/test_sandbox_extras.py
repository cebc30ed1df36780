"""Customers, teams, custom fields and ratings: served as documented, changing over time."""

from __future__ import annotations

import time

import httpx

from sandbox import Sandbox
from sandbox.model import iso
from sandbox.remote import all_pages, api_client

FAR_PAST, FAR_FUTURE = "2000-01-01T00:00:00Z", "2100-01-01T00:00:00Z"


def test_customers_listing_filters_and_sorts_on_the_hidden_modified_at(
        sandbox: Sandbox, client: httpx.Client) -> None:
    truth = sandbox.truth()
    assert {c["id"] for c in all_pages(client, "/customers", "customers")} == set(
        truth.customers)
    hidden = truth.customer_modified_at
    assert all(hidden[cid] >= _epoch(c["updatedAt"]) for cid, c in truth.customers.items())
    assert any(hidden[cid] > _epoch(c["updatedAt"]) for cid, c in truth.customers.items())
    cut = sorted(hidden.values())[len(hidden) // 2]
    listed = all_pages(client, "/customers", "customers", modifiedSince=iso(cut),
                       sortField="modifiedAt", sortOrder="asc")
    assert [c["id"] for c in listed] == [
        cid for _, cid in sorted((m, cid) for cid, m in hidden.items() if m > cut)]
    bad = client.get("/customers", params={"sortField": "email"})
    assert bad.status_code == 400


def test_customer_edits_are_stamped_now_and_listed_after_the_cut(
        sandbox: Sandbox, client: httpx.Client) -> None:
    before = int(time.time())
    edits = [sandbox.extras.edit_customer(before) for _ in range(8)]
    truth = sandbox.truth()
    edited = {e["customer_id"] for e in edits}
    listed = {c["id"] for c in all_pages(client, "/customers", "customers",
                                         modifiedSince=iso(before - 1))}
    assert edited <= listed
    for e in edits:
        if e["edit"] == "name":  # the new name shows in the customer's conversations
            customer = truth.customers[e["customer_id"]]
            embedded = [c["primaryCustomer"] for c in truth.conversations.values()
                        if c.get("primaryCustomer", {}).get("id") == e["customer_id"]]
            assert all(p["last"] == customer["lastName"] for p in embedded)


def test_teams_and_members_follow_membership_changes(sandbox: Sandbox,
                                                     client: httpx.Client) -> None:
    changes = [sandbox.change("team_change") for _ in range(6)]
    assert all(c is not None for c in changes)
    truth = sandbox.truth()
    teams = all_pages(client, "/teams", "teams")
    assert {t["id"] for t in teams} == set(truth.teams)
    for team in teams:
        members = all_pages(client, f"/teams/{team['id']}/members", "users")
        assert sorted(u["id"] for u in members) == truth.team_members[team["id"]]
    assert client.get("/teams/1/members").status_code == 404


def test_custom_field_values_match_their_definitions(sandbox: Sandbox,
                                                     client: httpx.Client) -> None:
    truth = sandbox.truth()
    definitions = {}
    for mailbox_id in truth.mailboxes:
        for f in all_pages(client, f"/mailboxes/{mailbox_id}/fields", "fields"):
            definitions[f["id"]] = f
    assert {f["type"] for f in definitions.values()} == {"dropdown", "singleline"}
    with_fields = [c for c in truth.conversations.values() if c["customFields"]]
    assert 0.2 < len(with_fields) / len(truth.conversations) < 0.8
    for conv in with_fields:
        for value in conv["customFields"]:
            definition = definitions[value["id"]]
            if definition["type"] == "dropdown":
                labels = {str(o["id"]): o["label"] for o in definition["options"]}
                assert labels[value["value"]] == value["text"]
            else:
                assert value["text"] == value["value"]
    target = with_fields[0]["id"]
    change = sandbox.change("clear_field", target)
    assert change is not None
    after = sandbox.truth()
    assert len(after.conversations[target]["customFields"]) == \
        len(with_fields[0]["customFields"]) - 1
    assert after.modified_at[target] > truth.modified_at[target]


def test_ratings_report_windows_on_creation_and_plans_without_reports_get_403(
        sandbox_factory) -> None:
    sb: Sandbox = sandbox_factory(size=200)
    with api_client(sb) as client:
        truth = sb.truth()
        assert truth.ratings and {r["rating"] for r in truth.ratings.values()} >= {"great"}
        every = _report(client, FAR_PAST, FAR_FUTURE)
        assert {r["threadid"] for r in every} == set(truth.ratings)
        times = sorted(r["ratingCreatedAt"] for r in every)
        cut = times[len(times) // 2]
        early, late = _report(client, FAR_PAST, cut), _report(client, cut, FAR_FUTURE)
        assert len(early) + len(late) == len(every)
        assert all(r["ratingCreatedAt"] < cut for r in early)
        assert client.get("/reports/happiness/ratings").status_code == 400
        sb.set_plan("standard")
        refused = client.get("/reports/happiness/ratings",
                             params={"start": FAR_PAST, "end": FAR_FUTURE})
        assert refused.status_code == 403
        assert "plan" in refused.json()["message"].lower()


def _report(client: httpx.Client, start: str, end: str) -> list[dict]:
    out, page, pages = [], 1, 1
    while page <= pages:
        body = client.get("/reports/happiness/ratings",
                          params={"start": start, "end": end, "page": page}).json()
        out += body["results"]
        pages = body["pages"]
        page += 1
    return out


def _epoch(text: str) -> int:
    from sandbox.model import parse_iso

    return parse_iso(text)
