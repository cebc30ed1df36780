"""No thread is lost whatever a conversation's ``threads`` count includes.

The sandbox can count every thread (default) or leave line items out, as the legacy
API documents; the loader must store every thread both ways, in particular for the
conversations whose embedded first page (50 threads) is full while the count says
that page holds them all.
"""

from __future__ import annotations

import re

from tests.loader.kit import SINCE, assert_conversations_match

PAGE = 50
THREADS_PATH = re.compile(r"^/v2/conversations/(\d+)/threads$")


def _grow_past_one_page(sb) -> set[int]:
    """Line items (reassignments) on a few conversations until they hold more than a
    page of threads; returns the ids of every conversation with more than a page."""
    acc = sb.account
    candidates = sorted((c for c in acc.conversations.values()
                         if c.status != "spam" and 40 <= len(c.threads) <= PAGE),
                        key=lambda c: c.id)[:3]
    assert candidates
    for conv in candidates:
        while len(conv.threads) < PAGE + 5:
            assert sb.change("reassign", conv.id) is not None
    return {c.id for c in acc.conversations.values() if len(c.threads) > PAGE}


def test_every_thread_is_stored_whatever_the_count_includes(
        account_factory, make_loader, monkeypatch):
    """Runs once per count behaviour (``account_factory`` serves both)."""
    sb = account_factory(size=300, seed=7)
    long_ones = _grow_past_one_page(sb)
    loader = make_loader(sb)
    truth = sb.truth()
    counts = {cid: truth.conversations[cid]["threads"] for cid in long_ones}
    lengths = {cid: len(truth.conversations[cid]["_embedded"]["threads"]) for cid in long_ones}
    if sb.renderer.count_excludes_lineitems:
        # The case a count-only rule loses: a full embedded page and a count that
        # says the page holds every thread.
        assert any(counts[cid] <= PAGE < lengths[cid] for cid in long_ones), counts
        assert any(truth.conversations[cid]["threads"] < len(c["_embedded"]["threads"])
                   for cid, c in truth.conversations.items())
    else:
        assert counts == lengths

    assert loader.run(*SINCE, "--streams", "conversations", monkeypatch=monkeypatch) == 0
    assert_conversations_match(loader.lake, truth)
    fetched = {int(m.group(1)) for r in sb.request_log if (m := THREADS_PATH.match(r.path))}
    assert long_ones <= fetched
    # A list shorter than a page and not shorter than its count is complete as embedded.
    short = {cid for cid, c in truth.conversations.items()
             if c["threads"] <= len(c["_embedded"]["threads"]) < PAGE}
    assert short and not (short & fetched)
