"""The reconciliation sweep: deleted and merged conversations get tombstones."""

from __future__ import annotations

from tests.loader.kit import SINCE, assert_conversations_match


def test_reconcile_tombstones_deleted_and_merged(account_factory, make_loader, monkeypatch,
                                                 capsys):
    sb = account_factory(size=150, seed=31)
    loader = make_loader(sb)
    assert loader.run(*SINCE, monkeypatch=monkeypatch) == 0
    known = set(loader.lake.latest("conversations"))
    before = sb.truth()
    sb.advance(hard_delete=3, merge=2)
    truth = sb.truth()
    assert len(truth.deleted_ids - before.deleted_ids) == 3
    assert len(set(truth.merged) - set(before.merged)) == 2

    assert loader.run(command="reconcile", monkeypatch=monkeypatch) == 0
    tombstones = loader.lake.query(
        "select entity_id, reason, merged_into_id from {s}.conversation_tombstones")
    # Every conversation the lake knew that is gone, and nothing else.
    expected = {(cid, "deleted", None) for cid in truth.deleted_ids & known}
    expected |= {(cid, "merged", target) for cid, target in truth.merged.items()
                 if cid in known}
    assert len(expected) == 5
    assert set(tombstones) == expected
    # Merge targets changed too: the next incremental run brings their new state.
    loader.settle()
    assert loader.run(monkeypatch=monkeypatch) == 0
    assert_conversations_match(loader.lake, truth)

    # Already tombstoned ones are not tombstoned again.
    assert loader.run(command="reconcile", monkeypatch=monkeypatch) == 0
    count = loader.lake.query("select count(*) from {s}.conversation_tombstones")[0][0]
    assert count == len(expected)
    capsys.readouterr()

    # --if-due: a successful sweep less than --every ago means nothing to do.
    runs = loader.lake.query("select count(*) from {s}.load_runs")[0][0]
    assert loader.run("--if-due", "--every", "24h", command="reconcile",
                      monkeypatch=monkeypatch) == 0
    assert "not due" in capsys.readouterr().out
    assert loader.lake.query("select count(*) from {s}.load_runs")[0][0] == runs
    assert loader.run("--if-due", "--every", "0", command="reconcile",
                      monkeypatch=monkeypatch) == 0
    assert loader.lake.query("select count(*) from {s}.load_runs")[0][0] == runs + 1


def test_a_conversation_missed_by_the_id_listing_is_reread_not_tombstoned(
        account_factory, make_loader, monkeypatch):
    deleted: list[int] = []

    def delete_the_first(sb, served: int) -> None:
        # After the first page of the id sweep (createdAt ascending), the oldest
        # conversation is deleted: everything shifts up one place, so the listing
        # skips the first conversation of the next page although it still exists.
        if not deleted:  # served counts every list page so far: act on the first one
            truth = sb.truth()
            oldest = min(truth.conversations,
                         key=lambda cid: (truth.conversations[cid]["createdAt"], cid))
            sb.change("hard_delete", conversation_id=oldest)
            deleted.append(oldest)

    sb = account_factory(size=150, seed=32)
    loader = make_loader(sb)
    assert loader.run(*SINCE, monkeypatch=monkeypatch) == 0
    reconcile_run_started = len(sb.request_log)
    sb.on_list_page = delete_the_first
    assert loader.run(command="reconcile", monkeypatch=monkeypatch) == 0
    assert deleted

    # The deleted one was listed before it went: this sweep cannot know yet.
    assert loader.lake.query("select count(*) from {s}.conversation_tombstones")[0][0] == 0
    # The conversation(s) the shifted listing skipped were asked for one by one,
    # answered 200, and stored afresh by the reconcile run, not tombstoned.
    single = [r for r in sb.request_log[reconcile_run_started:]
              if r.path.startswith("/v2/conversations/") and r.status == 200]
    assert single
    reread = loader.lake.query("""
        select count(*) from {s}.conversations c join {s}.load_runs r using (run_id)
        where r.command = 'reconcile'""")[0][0]
    assert reread == len(single)

    # The next sweep finds the deleted one.
    assert loader.run(command="reconcile", monkeypatch=monkeypatch) == 0
    tombstones = loader.lake.query(
        "select entity_id, reason from {s}.conversation_tombstones")
    assert tombstones == [(deleted[0], "deleted")]
    assert_conversations_match(loader.lake, sb.truth())
