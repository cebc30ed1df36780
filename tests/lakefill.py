"""Fill a lake straight from the sandbox's ground truth, bypassing HTTP.

For dbt-side tests that need a lake quickly and for the bench's bulk fills. The
end-to-end tests do NOT use this: they go through the real loader over HTTP.
Rows have the lake's exact shape (see loader/schema.py), so dbt cannot tell them
from loaded ones.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterable
from datetime import datetime, timezone

from loader.connection import Database
from loader.lake import copy_escape
from loader.schema import DEFAULT_RAW_SCHEMA, migrate


def _copy(cur, table: str, columns: tuple[str, ...], rows: Iterable[tuple]) -> int:
    buf = io.StringIO()
    count = 0
    for row in rows:
        fields = []
        for value in row:
            if value is None:
                fields.append("\\N")
            else:
                fields.append(copy_escape(value if isinstance(value, str) else str(value)))
        buf.write("\t".join(fields) + "\n")
        count += 1
    buf.seek(0)
    cur.copy_expert(f"copy {table} ({', '.join(columns)}) from stdin", buf)
    return count


def fill_lake_from_truth(
    database: Database,
    truth,
    *,
    schema: str = DEFAULT_RAW_SCHEMA,
    extracted_at: datetime | None = None,
) -> uuid.UUID:
    """Append the truth's current state to the lake as one run; returns its run id.

    Gone conversations (``deleted_ids``, ``merged``) get tombstones, as a
    reconciliation sweep would write them.
    """
    extracted_at = extracted_at or datetime.now(timezone.utc)
    run_id = uuid.uuid4()
    conn = database.connect()
    try:
        migrate(conn, schema)
        with conn.cursor() as cur:
            cur.execute(
                f"insert into {schema}.load_runs (run_id, command, status, finished_at)"
                " values (%s, 'lakefill', 'succeeded', clock_timestamp())",
                (str(run_id),),
            )
            cols = ("entity_id", "payload", "extracted_at", "run_id")
            for table, entities in (
                ("conversations", truth.conversations),
                ("tags", truth.tags),
                ("mailboxes", truth.mailboxes),
                ("users", truth.users),
            ):
                _copy(
                    cur,
                    f"{schema}.{table}",
                    cols,
                    (
                        (entity_id, json.dumps(payload), extracted_at.isoformat(), run_id)
                        for entity_id, payload in entities.items()
                    ),
                )
            tombstones = [(i, "deleted", None) for i in sorted(truth.deleted_ids)]
            tombstones += [(i, "merged", into) for i, into in sorted(truth.merged.items())]
            _copy(
                cur,
                f"{schema}.conversation_tombstones",
                ("entity_id", "reason", "merged_into_id", "detected_at", "run_id"),
                ((i, r, m, extracted_at.isoformat(), run_id) for i, r, m in tombstones),
            )
        conn.commit()
    finally:
        conn.close()
    return run_id
