"""The stream registry: one entry gives a stream its flag, its table and its place in a run."""

from __future__ import annotations

import dataclasses

import pytest

from loader import schema, status, streams
from loader.errors import UnknownStream
from loader.lake import write_rows
from loader.schema import migrate
from loader.streams import Kind, Stream, select
from tests.loader.kit import SINCE


def test_a_stream_brings_its_parent_and_keeps_the_run_order():
    assert [s.name for s in select(("conversations", "folders"))] == \
        ["mailboxes", "folders", "conversations"]
    assert [s.name for s in select(("users",))] == ["users"]
    with pytest.raises(UnknownStream):
        select(("tickets",))


def test_every_parent_is_registered_and_runs_first():
    names = [s.name for s in streams.STREAMS]
    for stream in streams.STREAMS:
        if stream.kind is Kind.PER_PARENT:
            assert stream.parent in names[:names.index(stream.name)]
            assert stream.parent_column
        if stream.kind is Kind.WINDOWED:
            assert stream.statuses


def test_a_registered_stream_gets_its_table_and_status_line(pg_database, monkeypatch):
    conn = pg_database.connect()
    try:
        migrate(conn)  # the lake as it is today
        extra = Stream("teams", "teams", "teams", "teams", Kind.LISTING)
        child = dataclasses.replace(streams.BY_NAME["folders"], name="team_members",
                                    path="teams/{parent_id}/members", key="users",
                                    table="team_members", parent="teams",
                                    parent_column="team_id")
        registry = (*streams.STREAMS, extra, child)
        monkeypatch.setattr(streams, "STREAMS", registry)
        monkeypatch.setattr(schema, "STREAMS", registry)
        migrate(conn)  # no migration of its own: the next start creates the tables
        assert write_rows(conn, [(1, {"id": 1})], table="teams") == 1
        with conn.cursor() as cur:
            cur.execute("select column_name from information_schema.columns"
                        " where table_schema = 'helpscout_raw' and table_name = 'team_members'")
            assert "team_id" in {row[0] for row in cur.fetchall()}
    finally:
        conn.close()


def test_folders_alone_loads_its_parent(account_factory, make_loader, monkeypatch):
    sb = account_factory(size=20, seed=3)
    loader = make_loader(sb)
    assert loader.run(*SINCE, "--streams", "folders", monkeypatch=monkeypatch) == 0
    truth = sb.truth()
    lake = loader.lake
    assert set(lake.latest("mailboxes")) == set(truth.mailboxes)
    stored = {}
    for mailbox_id, payload in lake.query("select mailbox_id, payload from {s}.folders"):
        stored.setdefault(mailbox_id, []).append(payload)
    assert stored == {mid: f for mid, f in truth.folders.items() if f}
    assert lake.query("select count(*) from {s}.conversations")[0][0] == 0
    assert lake.query("select count(*) from {s}.tags")[0][0] == 0


def test_status_lists_every_stream_and_the_sweep():
    assert (*(s.name for s in streams.STREAMS), "reconcile") == status.UNITS
