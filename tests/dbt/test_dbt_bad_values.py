"""One impossible value in one payload never fails the build (issue 17, item 5).

Every timestamp and number the staging models cast goes through ``json_timestamp``
or ``json_bigint``: a value that is not a valid instant, or not a whole number that
fits a bigint, becomes null, and the rest of its row is intact. A lake holds one
conversation per impossible timestamp (in ``closedAt``, or in every timestamp field
at once), numbers of every wrong shape, threads, tags, mailboxes and users with the
same faults, and next to them valid edge cases that must keep their exact instant;
then the whole project is built (``dbt build``: every model and every data test).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from loader.connection import Database
from tests.dbt.dbtkit import Dbt, Lake, at, conversation, tag

# Each is shaped like an ISO-8601 timestamp (the old pattern check let them through)
# but names no instant: PostgreSQL's own cast raises on every one.
IMPOSSIBLE_TIMESTAMPS = [
    "2025-02-30T00:00:00Z",       # no 30 February
    "2025-02-29T00:00:00Z",       # 2025 is not a leap year
    "1900-02-29T00:00:00Z",       # nor is 1900 (divisible by 100, not by 400)
    "2025-04-31T00:00:00Z",       # April has 30 days
    "2025-13-01T00:00:00Z",       # month 13
    "2025-00-10T00:00:00Z",       # month 0
    "2025-01-00T00:00:00Z",       # day 0
    "2025-01-01T25:00:00Z",       # hour 25
    "2025-01-01T24:00:00.5Z",     # past the end of the day
    "2025-01-01T10:61:00Z",       # minute 61
    "2025-01-01T10:00:61Z",       # second 61
    "2025-01-01T10:00:00+99:00",  # offset +99:00
    "2025-01-01T10:00:00-16:00",  # beyond any offset PostgreSQL represents
    "2025-01-01T10:00:00+05:60",  # offset minute 60
    "0000-01-01T00:00:00Z",       # year 0000
    "2025-01-01T25:00:00",        # hour 25 without an offset
]

# Valid edge cases: the exact instant each names, worked out here independently.
VALID_TIMESTAMPS = {
    "2024-02-29T12:00:00Z": datetime(2024, 2, 29, 12, tzinfo=timezone.utc),
    "2000-02-29T00:00:00+01:00": datetime(2000, 2, 28, 23, tzinfo=timezone.utc),
    "2025-01-01T10:00:00+15:59": datetime(2024, 12, 31, 18, 1, tzinfo=timezone.utc),
    "2025-01-01T10:00:00-0530": datetime(2025, 1, 1, 15, 30, tzinfo=timezone.utc),
    "2025-01-01 10:00": datetime(2025, 1, 1, 10, tzinfo=timezone.utc),  # no offset: UTC
    "2025-01-01t10:00:00.250z": datetime(2025, 1, 1, 10, 0, 0, 250000, tzinfo=timezone.utc),
    # a leap second: PostgreSQL has none and reads it as the next second
    "2016-12-31T23:59:60Z": datetime(2017, 1, 1, tzinfo=timezone.utc),
}

# Numbers the staging models cast to bigint: JSON value -> the bigint, or None.
NUMBERS: list[tuple[Any, int | None]] = [
    (99999999999999999999, None),      # does not fit a bigint
    ("99999999999999999999", None),
    (12.5, None),                      # not whole
    (1000.0, None),                    # a float is not an id, even a round one
    ("12abc", None),
    ("\u200342", None),                # a Unicode space, which the bigint cast rejects
    ("\u0664\u0662", None),            # Arabic-Indic digits
    ("", None),
    (True, None),
    ({"id": 3}, None),
    (" 42 ", 42),                      # an id as a string, ASCII spaces around it
    ("-7", -7),
]

BASE_ID = 100


@dataclass
class Built:
    lake: Lake
    dbt: Dbt
    output: str


@pytest.fixture(scope="module")
def built(module_pg_database: Database, tmp_path_factory) -> Iterator[Built]:
    lake = Lake(module_pg_database)
    extracted = at("2025-03-01 00:00")
    payloads = []
    # one conversation per impossible closedAt: only closed_at is lost
    for n, value in enumerate(IMPOSSIBLE_TIMESTAMPS):
        payloads.append(conversation(
            BASE_ID + n, status="closed", closedAt=value,
            threads=[(10 * (BASE_ID + n), "customer", "customer", "2025-01-01 10:00")]))
    # one conversation with every timestamp field impossible, its thread's too
    every = conversation(
        200, created="2025-01-01 10:00", status="closed",
        threads=[(2000, "customer", "customer", "2025-01-01 10:00"),
                 (2001, "reply", "user", "2025-01-01 11:00")],
        closedAt="2025-02-30T00:00:00Z", userUpdatedAt="2025-01-01T10:61:00Z",
        customerWaitingSince={"time": "2025-01-01T10:00:00+99:00"})
    every["createdAt"] = "0000-01-01T00:00:00Z"
    every["_embedded"]["threads"][1]["createdAt"] = "2025-01-01T25:00:00Z"
    payloads.append(every)
    # one conversation per valid edge case, in closedAt
    for n, value in enumerate(VALID_TIMESTAMPS):
        payloads.append(conversation(300 + n, status="closed", closedAt=value))
    # one conversation per number, in every numeric field at once
    for n, (value, _) in enumerate(NUMBERS):
        payload = conversation(400 + n, threads=[(4000 + n, "customer", "customer",
                                                  "2025-01-01 10:00")])
        payload.update(number=value, mailboxId=value, folderId=value, threads=value,
                       createdBy={"id": value, "type": "customer", "email": "x@example.com"},
                       assignee={"id": value}, primaryCustomer={"id": value})
        payloads.append(payload)
    # a thread whose id is no number is skipped (it has no key), its sibling kept
    odd_thread = conversation(500, threads=[(5000, "customer", "customer", "2025-01-01 10:00"),
                                            (5001, "reply", "user", "2025-01-01 11:00")])
    odd_thread["_embedded"]["threads"][1]["id"] = 1.5
    payloads.append(odd_thread)
    lake.append("conversations", payloads, extracted_at=extracted)

    bad_tag = tag(60, "bad dates")
    bad_tag.update(createdAt="2025-02-30T00:00:00Z", updatedAt="2025-01-01T24:00:00.5Z",
                   ticketCount="12abc")
    lake.append("tags", [tag(61, "fine"), bad_tag], extracted_at=extracted)
    lake.append("mailboxes", [{"id": 1, "name": "Support", "slug": "support",
                               "email": "support@example.com",
                               "createdAt": "2025-01-01T25:00:00Z",
                               "updatedAt": "2025-01-01T10:00:00+99:00"}],
                extracted_at=extracted)
    lake.append("users", [{"id": 5, "firstName": "Ana", "lastName": "Agent",
                           "email": "ana@example.com", "role": "user", "type": "user",
                           "timezone": "UTC", "createdAt": "0000-01-01T00:00:00Z",
                           "updatedAt": "2025-04-31T00:00:00Z"}],
                extracted_at=extracted)

    dbt = Dbt(module_pg_database, tmp_path_factory.mktemp("dbt"))
    output = dbt("build", "--threads", "4")
    yield Built(lake, dbt, output)


def _rows(built: Built, statement: str) -> dict[Any, tuple[Any, ...]]:
    return {row[0]: tuple(row[1:]) for row in built.lake.query(statement)}


def test_the_whole_project_builds(built: Built) -> None:
    assert "ERROR=0" in built.output and "SKIP=0" in built.output


def test_an_impossible_timestamp_becomes_null_and_the_row_stays(built: Built) -> None:
    rows = _rows(built, "select conversation_id, closed_at, created_at, status, subject,"
                        " conversation_number, mailbox_id, customer_message_count, is_deleted"
                        " from helpscout.conversations")
    for n, value in enumerate(IMPOSSIBLE_TIMESTAMPS):
        cid = BASE_ID + n
        assert rows[cid] == (None, at("2025-01-01 10:00"), "closed", f"Subject {cid}",
                             1000 + cid, 1, 1, False), value


def test_every_timestamp_field_is_guarded(built: Built) -> None:
    (row,) = built.lake.query(
        "select created_at, closed_at, user_updated_at, customer_waiting_since_at, status,"
        " reply_count, first_response_at from helpscout.conversations"
        " where conversation_id = 200")
    assert row == (None, None, None, None, "closed", 1, None)
    threads = _rows(built, "select thread_id, created_at, thread_type from helpscout.threads"
                           " where conversation_id = 200")
    assert threads == {2000: (at("2025-01-01 10:00"), "customer"), 2001: (None, "reply")}
    tags = _rows(built, "select tag_id, created_at, updated_at, ticket_count, tag_name"
                        " from helpscout.tags")
    assert tags[60] == (None, None, None, "bad dates")
    assert tags[61] == (at("2024-01-01 00:00"), None, 0, "fine")
    mailboxes = _rows(built, "select mailbox_id, created_at, updated_at, mailbox_name"
                             " from helpscout.mailboxes")
    assert mailboxes == {1: (None, None, "Support")}
    users = _rows(built, "select user_id, created_at, updated_at, email from helpscout.users"
                         " where user_id = 5")
    assert users == {5: (None, None, "ana@example.com")}


def test_valid_edge_timestamps_keep_their_instant(built: Built) -> None:
    rows = _rows(built, "select conversation_id, closed_at, resolution_minutes"
                        " from helpscout.conversations where conversation_id between 300 and 399")
    for n, (value, instant) in enumerate(VALID_TIMESTAMPS.items()):
        minutes = (instant - at("2025-01-01 10:00")) / timedelta(minutes=1)
        assert rows[300 + n][0] == instant, value
        assert float(rows[300 + n][1]) == pytest.approx(minutes), value


def test_numbers_of_every_wrong_shape_become_null(built: Built) -> None:
    rows = _rows(built, "select conversation_id, conversation_number, mailbox_id, folder_id,"
                        " thread_count, created_by_id, assignee_id, primary_customer_id,"
                        " subject, created_at, customer_message_count"
                        " from helpscout.conversations where conversation_id between 400 and 499")
    for n, (value, number) in enumerate(NUMBERS):
        cid = 400 + n
        assert rows[cid] == (number,) * 7 + (f"Subject {cid}", at("2025-01-01 10:00"), 1), value


def test_a_thread_without_a_whole_number_id_is_skipped(built: Built) -> None:
    threads = _rows(built, "select thread_id, conversation_id from helpscout.threads"
                           " where conversation_id = 500")
    assert threads == {5000: (500,)}
