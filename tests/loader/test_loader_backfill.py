"""A full backfill over real HTTP stores everything the sandbox account has."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

import pytest

from loader.streams import STREAMS
from tests.loader.kit import SINCE, assert_conversations_match

STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


@pytest.mark.parametrize("all_includes_spam", [False, True])
def test_backfill_stores_every_entity_with_complete_threads(
        account_factory, make_loader, monkeypatch, all_includes_spam):
    sb = account_factory(size=300, seed=7, all_includes_spam=all_includes_spam)
    loader = make_loader(sb)
    truth = sb.truth()
    # The account must exercise what the test claims: spam, and thread lists longer
    # than the one page a listing embeds.
    assert any(c["status"] == "spam" for c in truth.conversations.values())
    assert any(c["threads"] > 50 for c in truth.conversations.values())

    # Once without --since: the documented default (2011-01-01), adaptive windows.
    since = SINCE if all_includes_spam else []
    assert loader.run(*since, "--concurrency", "3", monkeypatch=monkeypatch) == 0

    lake = loader.lake
    assert_conversations_match(lake, truth)
    assert lake.latest("tags") == truth.tags
    assert lake.latest("mailboxes") == truth.mailboxes
    assert lake.latest("users") == truth.users
    folders = lake.query("select mailbox_id, payload from {s}.folders order by lake_id")
    by_mailbox: dict[int, list] = {}
    for mailbox_id, payload in folders:
        by_mailbox.setdefault(mailbox_id, []).append(payload)
    assert by_mailbox == {mid: f for mid, f in truth.folders.items() if f}
    lake.assert_only_whole_windows()

    runs = lake.query("select status, error, rows_loaded from {s}.load_runs")
    total_rows = sum(lake.query(f"select count(*) from {{s}}.{t}")[0][0]
                     for t in {stream.table for stream in STREAMS})
    assert runs == [("succeeded", None, total_rows)]


def test_listing_requests_carry_every_parameter_once(account_factory, make_loader, monkeypatch):
    sb = account_factory(size=120, seed=3)
    loader = make_loader(sb)
    assert loader.run(*SINCE, "--streams", "conversations", monkeypatch=monkeypatch) == 0
    listed = [r for r in sb.request_log if r.path == "/v2/conversations"]
    assert listed
    for record in listed:
        keys = [pair.split("=", 1)[0] for pair in record.query.split("&")]
        assert sorted(keys) == sorted(set(keys)), record.query
        assert {"status", "query", "sortField", "sortOrder", "embed"} <= set(keys), record.query
        (query,) = [v for k, v in parse_qsl(record.query) if k == "query"]
        assert re.fullmatch(rf"\(modifiedAt:\[{STAMP} TO {STAMP}\]\)", query), query
