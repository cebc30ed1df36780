"""The COPY writer on the real PostgreSQL: payloads stored as received, never a crash."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import datetime, timezone

import pytest

from loader import lake
from loader.lake import REPLACEMENT, RunLog, encode_payload, write_rows
from loader.schema import migrate
from loader.windows import watermark

TRICKY = {
    "id": 1,
    "subject": 'Quotes " and \\ backslashes \\n (not a newline) and a real\nnewline\tand tab',
    "body": "<p>Unicode: caf\u00e9 \u2014 \U0001F600 \u2028 \r\n</p>",
    "nested": {"list": [1, 2.5, -3, 12345678901234567890, True, None, {"deep": ["x"]}]},
    "empty": {},
    "copy markers": "\\N \\. end",
}


@pytest.fixture
def conn(pg_database):
    connection = pg_database.connect()
    migrate(connection)
    yield connection
    connection.close()


def stored(conn, table="conversations"):
    with conn.cursor() as cur:
        cur.execute(f"select entity_id, payload from helpscout_raw.{table} order by lake_id")
        return cur.fetchall()


def test_payloads_round_trip_exactly(conn):
    as_bytes = json.dumps(TRICKY, indent=2, ensure_ascii=True).encode()  # raw newlines too
    as_text = json.dumps(TRICKY, ensure_ascii=False)
    count = write_rows(conn, [(1, TRICKY), (2, as_bytes), (3, as_text)])
    assert count == 3
    assert stored(conn) == [(1, TRICKY), (2, TRICKY), (3, TRICKY)]


def test_null_bytes_and_lone_surrogates_become_replacement_characters(conn):
    parsed = json.loads('{"id": 5, "body": "a\\u0000b", "k\\u0000": "\\ud800x", '
                        '"ok": "\\ud83d\\ude00", "lit": "\\\\u0000"}')
    raw = b'{"id": 6, "body": "a\\u0000b", "lone": "\\udfff"}'
    write_rows(conn, [(5, parsed), (6, raw)])
    (_, five), (_, six) = stored(conn)
    assert five == {"id": 5, "body": f"a{REPLACEMENT}b", f"k{REPLACEMENT}": f"{REPLACEMENT}x",
                    "ok": "\U0001F600", "lit": "\\u0000"}
    assert six == {"id": 6, "body": f"a{REPLACEMENT}b", "lone": REPLACEMENT}
    # Payloads without those characters are passed through byte for byte.
    plain = b'{"b": 1,   "a": "x"}'
    assert encode_payload(plain) == plain


def test_rows_are_streamed_to_copy_in_pieces(conn, monkeypatch):
    monkeypatch.setattr(lake, "READ_BYTES", 2000)
    reads = []
    real_read = lake._CopySource.read
    monkeypatch.setattr(lake._CopySource, "read",
                        lambda self, size=-1: reads.append(size) or real_read(self, size))
    rows = [(i, {"id": i, "text": "x" * 100}) for i in range(200)]
    assert write_rows(conn, rows, table="tags") == 200
    assert len(reads) > 5 and set(reads) == {2000}
    assert [entity for entity, _ in stored(conn, "tags")] == list(range(200))


def test_a_failing_row_aborts_the_whole_copy(conn):
    rows = [(1, {"id": 1}), (2, b"{not json")]
    with pytest.raises(Exception, match="json"):
        write_rows(conn, rows)
    conn.rollback()
    assert stored(conn) == []


def _helper_threads():
    return [t for t in threading.enumerate() if t.name == "lake-copy-lines"]


def test_a_long_write_is_whole_and_in_order_with_lines_made_ahead(conn, monkeypatch):
    monkeypatch.setattr(lake, "READ_BYTES", 4000)
    made_in = set()

    def rows():
        for i in range(3000):
            made_in.add(threading.current_thread().name)
            yield i, {"id": i, "text": "y" * 50}

    assert write_rows(conn, rows(), table="tags") == 3000
    assert [entity for entity, _ in stored(conn, "tags")] == list(range(3000))
    # The first read is made by the caller, the rest ahead by the helper, now gone.
    assert made_in == {threading.main_thread().name, "lake-copy-lines"}
    assert _helper_threads() == []


def test_an_error_while_making_lines_ahead_aborts_the_copy(conn, monkeypatch):
    monkeypatch.setattr(lake, "READ_BYTES", 2000)

    def rows():
        for i in range(1000):
            if i == 700:
                raise ValueError("conversation 700 has no id")
            yield i, {"id": i, "text": "z" * 50}

    with pytest.raises(ValueError, match="conversation 700 has no id"):
        write_rows(conn, rows())
    conn.rollback()
    assert stored(conn) == []
    assert _helper_threads() == []


def test_a_copy_failing_on_the_server_stops_the_helper(conn, monkeypatch):
    monkeypatch.setattr(lake, "READ_BYTES", 2000)
    rows = [(i, {"id": i, "text": "w" * 50}) for i in range(500)] + [(500, b"{not json")]
    rows += [(i, {"id": i}) for i in range(501, 5000)]
    with pytest.raises(Exception, match="json"):
        write_rows(conn, rows)
    conn.rollback()
    assert stored(conn) == []
    assert _helper_threads() == []


def test_nothing_is_visible_until_commit(conn, pg_database):
    write_rows(conn, [(1, {"id": 1})], commit=False)
    other = pg_database.connect()
    try:
        with other.cursor() as cur:
            cur.execute("select count(*) from helpscout_raw.conversations")
            assert cur.fetchone()[0] == 0
        conn.rollback()
    finally:
        other.close()
    assert stored(conn) == []


def test_run_log_and_watermark(conn):
    log = RunLog()
    run = log.start_run(conn, "run", {"since": "2024-01-01"}, "http://example/v2")
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    jan = (start, datetime(2024, 1, 31, 23, 59, 59, tzinfo=timezone.utc))
    feb = (datetime(2024, 2, 1, tzinfo=timezone.utc),
           datetime(2024, 2, 29, 23, 59, 59, tzinfo=timezone.utc))
    mar = (datetime(2024, 3, 1, tzinfo=timezone.utc),
           datetime(2024, 3, 31, 23, 59, 59, tzinfo=timezone.utc))
    with conn.cursor() as cur:
        for bounds, status in ((jan, "completed"), (feb, "failed"), (mar, "completed")):
            log.record_window(cur, run, "conversations", status=status, started_at=start,
                              window_start=bounds[0], window_end=bounds[1])
    conn.commit()
    assert watermark(log.completed_windows(conn)) == jan[1]
    log.finish_run(conn, run, error=None, requests=3, rows=0, stats={"requests": 3})
    assert log.last_success(conn, "run") is not None
    assert log.last_success(conn, "reconcile") is None
    with conn.cursor() as cur:
        cur.execute("select status, stats from helpscout_raw.load_runs where run_id = %s",
                    (str(run),))
        assert cur.fetchone() == ("succeeded", {"requests": 3})


def test_migrate_is_idempotent(conn):
    assert migrate(conn) == migrate(conn)
    write_rows(conn, [(1, {"id": 1})], run_id=uuid.uuid4())
    assert len(stored(conn)) == 1
