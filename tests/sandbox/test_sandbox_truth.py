"""Ground truth agrees with what the API serves; the account is deterministic and realistic."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timezone

import httpx
import pytest

from sandbox import GroundTruth, Sandbox
from sandbox.remote import all_pages, api_client

NOW = "2025-06-30T18:00:00Z"


def _first_page(conv: dict) -> dict:
    out = dict(conv)
    out["_embedded"] = {"threads": conv["_embedded"]["threads"][:50]}
    return out


def test_served_conversations_equal_truth(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.advance(steps=30)
    truth = sandbox.truth()
    served = {}
    for status in ("all", "spam"):
        for conv in all_pages(client, "/conversations", "conversations", status=status,
                              embed="threads"):
            served[conv["id"]] = conv
    assert set(served) == set(truth.conversations)
    for cid, conv in served.items():
        assert conv == _first_page(truth.conversations[cid])
    for cid in list(truth.conversations)[:20]:
        single = client.get(f"/conversations/{cid}", params={"embed": "threads"}).json()
        assert single == _first_page(truth.conversations[cid])
        threads = all_pages(client, f"/conversations/{cid}/threads", "threads")
        assert threads == truth.conversations[cid]["_embedded"]["threads"]
    for cid in truth.deleted_ids:
        assert client.get(f"/conversations/{cid}").status_code == 404
    for cid, target in truth.merged.items():
        answer = client.get(f"/conversations/{cid}")
        assert answer.status_code == 301
        assert answer.headers["Location"].endswith(f"/conversations/{target}")


def test_truth_counts_and_ids(sandbox: Sandbox) -> None:
    truth = sandbox.truth()
    thread_ids = [t["id"] for c in truth.conversations.values()
                  for t in c["_embedded"]["threads"]]
    assert len(thread_ids) == len(set(thread_ids)), "thread ids are globally unique"
    for conv in truth.conversations.values():
        assert conv["threads"] == len(conv["_embedded"]["threads"])
        stamps = [t["createdAt"] for t in conv["_embedded"]["threads"]]
        assert stamps == sorted(stamps, reverse=True)
        assert max(stamps) <= truth.modified_at[conv["id"]].strftime("%Y-%m-%dT%H:%M:%SZ")
    counts = Counter(t["id"] for c in truth.conversations.values() for t in c["tags"])
    assert {tid: t["ticketCount"] for tid, t in truth.tags.items()} == {
        tid: counts.get(tid, 0) for tid in truth.tags}
    assert truth.deleted_ids and truth.merged
    assert not (truth.deleted_ids | set(truth.merged)) & set(truth.conversations)
    assert all(m <= truth.now for m in truth.modified_at.values())


def test_truth_json_roundtrip_and_admin_endpoint(sandbox: Sandbox) -> None:
    truth = sandbox.truth()
    again = GroundTruth.from_json(truth.to_json())
    assert again.conversations == truth.conversations
    assert again.modified_at == truth.modified_at and again.merged == truth.merged
    over_http = GroundTruth.from_json(httpx.get(f"{sandbox.admin_url}/truth").json())
    assert over_http.conversations == truth.conversations
    assert over_http.deleted_ids == truth.deleted_ids
    summary = httpx.post(f"{sandbox.admin_url}/advance", json={"steps": 5, "merge": 1}).json()
    assert summary["counts"].get("merge") == 1
    stats = httpx.get(f"{sandbox.admin_url}/stats").json()
    assert stats["changes"]["merge"] == 1
    assert httpx.post(f"{sandbox.admin_url}/paging", json={"every": 4}).status_code == 200
    assert sandbox.mutate_during_paging == 4
    assert httpx.post(f"{sandbox.admin_url}/paging", json={"every": -1}).status_code == 400
    assert httpx.post(f"{sandbox.admin_url}/advance", json={"bogus": 1}).status_code == 400
    answer = httpx.post(f"{sandbox.admin_url}/faults", json={"error_rate": 1.0, "limit": 1})
    assert answer.status_code == 200
    with api_client(sandbox) as client:
        assert client.get("/users").status_code >= 500
        assert client.get("/users").status_code == 200


def _strip_base(value, base: str):
    if isinstance(value, dict):
        return {k: _strip_base(v, base) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_base(v, base) for v in value]
    if isinstance(value, str):
        return value.replace(base, "BASE")
    return value


def test_same_seed_same_account(sandbox_factory: Callable[..., Sandbox]) -> None:
    a = sandbox_factory(seed=5, now=NOW)
    b = sandbox_factory(seed=5, now=NOW)
    c = sandbox_factory(seed=6, now=NOW)
    ta, tb, tc = a.truth(), b.truth(), c.truth()
    assert _strip_base(ta.conversations, a.base_url) == _strip_base(tb.conversations, b.base_url)
    assert ta.modified_at == tb.modified_at and ta.merged == tb.merged
    assert _strip_base(ta.conversations, a.base_url) != _strip_base(tc.conversations, c.base_url)


def test_now_in_the_future_is_refused() -> None:
    with pytest.raises(ValueError, match="future"):
        Sandbox(size=10, now="2999-01-01", autostart=False)


@pytest.fixture(scope="module")
def big_truth() -> GroundTruth:
    with Sandbox(size=3000, seed=11, start="2024-07-01", now=NOW, rate_limit=0) as sb:
        return sb.truth()


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def test_volume_shape(big_truth: GroundTruth) -> None:
    convs = list(big_truth.conversations.values())
    per_mailbox = Counter(c["mailboxId"] for c in convs)
    assert len(per_mailbox) >= 5
    top, second = [n for _, n in per_mailbox.most_common(2)]
    assert top > 2 * second and top > 0.4 * len(convs)
    created = [_dt(c["createdAt"]) for c in convs]
    weekday = Counter(d.weekday() for d in created)
    assert min(weekday[i] for i in range(5)) > 2 * max(weekday[5], weekday[6])
    hours = Counter(d.hour for d in created)
    assert sum(hours[h] for h in range(8, 12)) > 5 * sum(hours[h] for h in range(0, 4))
    month_end = sum(1 for d in created if d.day >= 28)
    mid_month = sum(1 for d in created if 14 <= d.day <= 17)
    assert month_end / 4 > mid_month / 4


def test_planted_traps(big_truth: GroundTruth) -> None:
    convs = list(big_truth.conversations.values())
    subjects = [c["subject"] for c in convs]
    assert None in subjects
    assert any(s and len(s) > 200 for s in subjects)
    assert any(s and any(ord(ch) > 0x2000 for ch in s) for s in subjects)
    wave = [s for s in subjects if s and re.sub(r"^((re|fwd?|fw)\s*:\s*)+", "", s,
                                                 flags=re.I) == "Your new invoice"]
    assert len({s.split(":")[0] for s in wave}) >= 3 and len(wave) > 20
    ooo_words = ("Out of", "Automatic reply", "Fuera de la oficina", "Resposta automàtica",
                 "Resposta automática", "Réponse automatique", "Abwesenheitsnotiz")
    assert all(any(s and w in s for s in subjects) for w in ooo_words)
    closers = Counter(c.get("closedByUser", {}).get("email") for c in convs
                      if c["status"] == "closed")
    assert closers["none@nowhere.com"] > 0 and closers[None] > 0
    assert any(c["status"] == "closed" and "closedAt" not in c for c in convs)
    assert any(c["status"] == "closed" and "closedBy" not in c for c in convs)
    assert any("assignee" not in c for c in convs)
    assert any(c["customerWaitingSince"] == {} for c in convs)
    assert any("time" in c["customerWaitingSince"] for c in convs)
    assert any("primaryCustomer" in c and "email" not in c["primaryCustomer"] for c in convs)
    assert any("primaryCustomer" not in c for c in convs)
    assert {"active", "pending", "closed", "spam"} <= {c["status"] for c in convs}
    assert {"published", "deleted"} <= {c["state"] for c in convs}
    assert any(c["createdBy"]["type"] == "user" for c in convs)
    domain = big_truth.internal_domains[0]
    assert any(c["createdBy"]["type"] == "customer"
               and c["createdBy"].get("email", "").endswith("@" + domain) for c in convs)
    counts = [c["threads"] for c in convs]
    assert max(counts) > 60 and sum(1 for n in counts if n <= 3) > len(convs) / 3
    assert sum(1 for n in counts if n > 20) < len(convs) / 20  # a long tail, not the bulk
    types = Counter(t["type"] for c in convs for t in c["_embedded"]["threads"])
    assert {"customer", "reply", "message", "note", "lineitem", "forwardparent"} <= set(types)
    unlisted_authors = {t["createdBy"]["id"] for c in convs for t in c["_embedded"]["threads"]
                        if t["type"] in ("reply", "message") and t["createdBy"]["type"] == "user"
                        } - set(big_truth.users)
    assert unlisted_authors, "AI system users and departed users write replies too"
    assert any(c["customFields"] for c in convs) and any(c["cc"] for c in convs)
    assert any(c["userUpdatedAt"] < big_truth.modified_at[c["id"]].strftime(
        "%Y-%m-%dT%H:%M:%SZ") and c["userUpdatedAt"] >= max(
        t["createdAt"] for t in c["_embedded"]["threads"]) for c in convs)
    assert any("updatedAt" not in t for t in big_truth.tags.values())
