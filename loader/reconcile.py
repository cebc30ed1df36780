"""The reconciliation sweep: find conversations the account no longer has.

A deleted conversation simply stops being listed and a merged one answers 301, so
no incremental read ever sees them go. The sweep lists every id the account still
has (``status=all`` and ``status=spam``, no embed: 25 ids per request, sorted by
``createdAt`` so modifications do not reorder the listing), compares with the
conversations the lake knows (latest copy not already tombstoned), and asks
``GET /conversations/{id}`` about each missing one:

* 301 -> tombstone ``merged``, ``merged_into_id`` from the Location header;
* 404 (or 410) -> tombstone ``deleted``;
* 200 -> it still exists (the listing shifted under us): its fresh copy is stored.

The whole sweep is one unit: tombstones, fresh copies and its ``load_windows``
row (stream ``reconcile``) commit together.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from psycopg2 import sql
from psycopg2.extras import Json, execute_values

from loader.extract import conversation_rows
from loader.lake import copy_rows, sanitize
from loader.pages import Page, Tally, entity_id, iter_pages
from loader.streams import CONVERSATIONS
from loader.work import Extraction

UNIT = "reconcile"  # the sweep's load_windows.stream
_TARGET = re.compile(r"/conversations/(\d+)")


@dataclass
class ReconcileResult:
    known: int = 0
    listed: int = 0
    deleted: int = 0
    merged: int = 0
    still_there: int = 0
    rows: int = 0  # tombstones and fresh copies written


def known_conversations(cursor, schema: str) -> set[int]:
    """Ids whose latest lake copy is newer than any tombstone of theirs."""
    cursor.execute(sql.SQL("""
        with latest as (
            select entity_id, max(extracted_at) as extracted_at
            from {schema}.conversations group by entity_id
        ), gone as (
            select entity_id, max(detected_at) as detected_at
            from {schema}.conversation_tombstones group by entity_id
        )
        select latest.entity_id
        from latest left join gone on gone.entity_id = latest.entity_id
        where gone.detected_at is null or gone.detected_at < latest.extracted_at
    """).format(schema=sql.Identifier(schema)))
    return {row[0] for row in cursor.fetchall()}


def listed_ids(ex: Extraction, tally: Tally) -> set[int]:
    ids: set[int] = set()
    for status in CONVERSATIONS.statuses:
        params = {"status": status, "sortField": "createdAt", "sortOrder": "asc"}
        for page in iter_pages(ex.client, CONVERSATIONS.path, params, CONVERSATIONS.key, tally):
            ids.update(entity_id(item, CONVERSATIONS.path) for item in page.items)
    return ids


def merged_into(location: str | None) -> int | None:
    match = _TARGET.search(location or "")
    return int(match.group(1)) if match else None


def reconcile(ex: Extraction, conn) -> ReconcileResult:
    """Run the sweep as one unit of work on ``conn``."""
    result = ReconcileResult()

    def work(cur, tally: Tally) -> None:
        # List first: the transaction (opened by the first statement) then stays short
        # however long the sweep takes. A conversation loaded meanwhile is merely
        # asked about once more.
        listed = listed_ids(ex, tally)
        known = known_conversations(cur, ex.schema)
        result.known, result.listed = len(known), len(listed)
        tombstones: list[tuple[Any, ...]] = []
        for conversation_id in sorted(known - listed):
            response = ex.client.get(f"conversations/{conversation_id}", {"embed": "threads"},
                                     accept=(200, 301, 302, 308, 404, 410))
            tally.requests += 1
            if response.status == 200:
                page = Page([response.data], None, None, None, response.received_at)
                rows = conversation_rows(ex, page, tally)
                tally.rows += copy_rows(cur, CONVERSATIONS.table, rows, run_id=ex.run_id,
                                        schema=ex.schema)
                result.still_there += 1
                continue
            location = response.headers.get("Location")
            merged = response.status in (301, 302, 308)
            evidence = {"http_status": response.status, "location": location}
            tombstones.append((conversation_id, "merged" if merged else "deleted",
                               merged_into(location) if merged else None,
                               response.received_at, Json(sanitize(evidence)), str(ex.run_id)))
            if merged:
                result.merged += 1
            else:
                result.deleted += 1
        if tombstones:
            execute_values(cur, sql.SQL(
                "insert into {}.conversation_tombstones"
                " (entity_id, reason, merged_into_id, detected_at, payload, run_id) values %s"
            ).format(sql.Identifier(ex.schema)).as_string(cur), tombstones)
            tally.rows += len(tombstones)

    tally = ex.unit(conn, UNIT, work,
                    request={"path": CONVERSATIONS.path, "statuses": list(CONVERSATIONS.statuses),
                             "sortField": "createdAt"})
    result.rows = tally.rows
    return result

