"""``hs-ops erase``: a customer's right to erasure, the one exception to the append-only lake.

Given a customer's email address or id, every lake copy that names them is rewritten
in place, in one transaction: the customer's names and addresses become null wherever
a person reference names them (``primaryCustomer``, ``customer``, ``createdBy`` of their
threads...), their address leaves ``to``/``cc``/``bcc`` lists, and the bodies of the
threads they wrote (and the conversation's ``preview``, cut from a body) become null.
Ids, statuses and timestamps stay, so every conversation keeps its counts and timings.
Records about the customer are cleared the same way: their customers row (names,
photo, job, location, every email, phone and other contact value) and the name and
comments of the satisfaction ratings they gave (the rating itself stays).

The erasure is recorded in ``helpscout_ops.erasure_log`` (when, which customer and
conversation ids, how many lake rows; never an address or a name), and then the
models built from the lake are rebuilt from scratch (``dbt build --full-refresh``),
because incremental models only see rows loaded after their high-water mark and would
keep the old values forever.

It refuses to run while a load or reconcile holds the lake (the loader's per-lake
lock), since a window committing halfway through would bring an unerased copy back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from psycopg2 import sql

from loader.connection import Database
from loader.errors import EXIT_USAGE, LoaderError
from loader.lake import RunLog
from loader.lock import hold_for_transaction

OPS_SCHEMA = "helpscout_ops"
# Person fields that identify someone; ids stay (they are what joins rely on).
PERSONAL_FIELDS = ("first", "last", "email", "firstName", "lastName", "phone", "photoUrl")
ADDRESS_LISTS = ("to", "cc", "bcc")

_LOG_DDL = """
create schema if not exists {ops};
create table if not exists {ops}.erasure_log (
    erasure_id bigint generated always as identity primary key,
    erased_at timestamptz not null default clock_timestamp(),
    customer_ids bigint[] not null,
    conversation_ids bigint[] not null,
    lake_rows integer not null,
    rows_by_table jsonb not null
);
comment on table {ops}.erasure_log is
    'One row per right-to-erasure request carried out by hs-ops erase; ids and counts only.';
"""


class ErasureError(LoaderError):
    """The erasure cannot be done (one-line message); nothing was changed."""

    exit_code = EXIT_USAGE


@dataclass
class Person:
    """Who is being erased: every id and address the lake links to them."""

    customer_ids: set[int] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)

    def matches(self, ref: dict[str, Any]) -> bool:
        """True for a person reference (a customer object) that is this person."""
        if ref.get("type") not in (None, "customer"):
            return False
        email = ref.get("email")
        if isinstance(email, str) and email.lower() in self.emails:
            return True
        return ref.get("type") == "customer" and ref.get("id") in self.customer_ids

    def learn(self, ref: dict[str, Any]) -> bool:
        """Add the other half of a matching reference (its id or its address)."""
        before = (len(self.customer_ids), len(self.emails))
        if isinstance(ref.get("id"), int) and ref.get("type") == "customer":
            self.customer_ids.add(ref["id"])
        if isinstance(ref.get("email"), str):
            self.emails.add(ref["email"].lower())
        return before != (len(self.customer_ids), len(self.emails))


@dataclass(frozen=True)
class ErasureResult:
    customer_ids: tuple[int, ...]
    conversation_ids: tuple[int, ...]
    rows_by_table: dict[str, int]

    @property
    def lake_rows(self) -> int:
        return sum(self.rows_by_table.values())

    def summary(self) -> str:
        tables = ", ".join(f"{t} {n}" for t, n in self.rows_by_table.items() if n) or "none"
        return (f"erased customer {', '.join(map(str, self.customer_ids))}: "
                f"{len(self.conversation_ids)} conversations, {self.lake_rows} lake rows "
                f"({tables})")


def _objects(node: Any) -> Iterable[dict[str, Any]]:
    """Every JSON object in ``node``, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from _objects(value)


def redact(payload: Any, person: Person) -> bool:
    """Erase ``person`` from one payload in place; True when anything changed."""
    changed = False
    wrote_here = False
    for obj in _objects(payload):
        if person.matches(obj) and any(obj.get(k) is not None for k in PERSONAL_FIELDS):
            for key in PERSONAL_FIELDS:
                if obj.get(key) is not None:
                    obj[key] = None
            changed = True
        for key in ADDRESS_LISTS:
            values = obj.get(key)
            if isinstance(values, list):
                kept = [v for v in values
                        if not (isinstance(v, str) and v.lower() in person.emails)]
                if len(kept) != len(values):
                    obj[key] = kept
                    changed = True
        author = obj.get("createdBy")
        # A thread they wrote: its body is their words. (Matched by id, since the
        # reference's address may already have been nulled above.)
        if isinstance(author, dict) and "body" in obj and (
            author.get("type") == "customer" and author.get("id") in person.customer_ids
        ):
            wrote_here = True
            if obj.get("body") is not None:
                obj["body"] = None
                changed = True
    primary = payload.get("primaryCustomer") if isinstance(payload, dict) else None
    is_theirs = isinstance(primary, dict) and primary.get("id") in person.customer_ids
    if isinstance(payload, dict) and (wrote_here or is_theirs) and payload.get("preview"):
        payload["preview"] = None
        changed = True
    return changed


# Lake tables whose payload is a record about a customer rather than a person
# reference inside a conversation: how to find the customer in it, and what to clear.
CUSTOMER_RECORD_FIELDS = ("firstName", "lastName", "photoUrl", "jobTitle", "location",
                          "background", "age")
CONTACT_LISTS = ("emails", "phones", "chats", "social_profiles", "websites")
RATING_PERSONAL_FIELDS = ("ratingCustomerName", "ratingComments")  # their name, their words


def record_customer_id(table: str, payload: Any) -> int | None:
    """The customer a record names: a customers row is one; a rating names who rated."""
    if not isinstance(payload, dict):
        return None
    value = payload.get("id") if table == "customers" else (
        payload.get("ratingCustomerId") if table == "satisfaction_ratings" else None)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def record_emails(table: str, payload: Any) -> set[str]:
    """A customers row's addresses (under ``_embedded.emails``)."""
    if table != "customers" or not isinstance(payload, dict):
        return set()
    emails = (payload.get("_embedded") or {}).get("emails") if isinstance(
        payload.get("_embedded"), dict) else None
    return {e["value"].lower() for e in emails or []
            if isinstance(e, dict) and isinstance(e.get("value"), str)}


def redact_record(table: str, payload: Any, person: Person) -> bool:
    """Erase ``person`` from a customers or satisfaction_ratings row; True if changed."""
    if record_customer_id(table, payload) not in person.customer_ids:
        return False
    changed = False
    fields = CUSTOMER_RECORD_FIELDS if table == "customers" else RATING_PERSONAL_FIELDS
    for key in fields:
        # an empty string too: null is the one mark of erased, whatever the source sent
        if payload.get(key) is not None:
            payload[key] = None
            changed = True
    embedded = payload.get("_embedded") if table == "customers" else None
    if isinstance(embedded, dict):
        for name in CONTACT_LISTS:
            for entry in embedded.get(name) or []:
                if isinstance(entry, dict) and entry.get("value") is not None:
                    entry["value"] = None
                    changed = True
        if embedded.get("address"):
            embedded["address"] = {}
            changed = True
    return changed


def _lake_tables(cur, raw_schema: str) -> list[str]:
    """Every lake table with a payload (stream tables; new streams join automatically)."""
    cur.execute(
        "select table_name from information_schema.columns"
        " where table_schema = %s and column_name = 'payload'"
        "   and table_name <> 'conversation_tombstones' order by table_name",
        (raw_schema,),
    )
    return [name for (name,) in cur.fetchall()]


def _candidates(cur, raw_schema: str, table: str, person: Person):
    """Rows that may name the person: by address (text match) or by customer id."""
    clauses, params = [], []
    for email in sorted(person.emails):
        clauses.append("lower(payload::text) like %s")
        params.append("%" + email.replace("\\", "\\\\").replace("%", r"\%")
                      .replace("_", r"\_") + "%")
    for customer_id in sorted(person.customer_ids):
        clauses.append("jsonb_path_exists(payload,"
                       " '$.** ? (@.type == \"customer\" && @.id == $id)', %s::jsonb)")
        params.append(json.dumps({"id": customer_id}))
    ids = sorted(person.customer_ids)
    if ids and table == "customers":
        clauses.append("entity_id = any(%s)")
        params.append(ids)
    if ids and table == "satisfaction_ratings":
        clauses.append("payload ->> 'ratingCustomerId' = any(%s)")
        params.append([str(i) for i in ids])
    query = sql.SQL("select lake_id, entity_id, payload from {}.{} where {}").format(
        sql.Identifier(raw_schema), sql.Identifier(table), sql.SQL(" or ".join(clauses)))
    cur.execute(query, params)
    return cur.fetchall()


def _identify(cur, raw_schema: str, tables: list[str], person: Person) -> None:
    """Grow ``person`` to every id and address the lake links to them (a fixed point)."""
    for _ in range(5):
        learned = False
        for table in tables:
            for _lake_id, _entity_id, payload in _candidates(cur, raw_schema, table, person):
                for obj in _objects(payload):
                    if person.matches(obj):
                        learned |= person.learn(obj)
                # a customers row: its addresses are theirs, and so is its id
                addresses = record_emails(table, payload)
                customer = record_customer_id(table, payload)
                if customer is not None and (addresses & person.emails
                                             or customer in person.customer_ids):
                    before = (len(person.customer_ids), len(person.emails))
                    person.customer_ids.add(customer)
                    person.emails |= addresses
                    learned |= before != (len(person.customer_ids), len(person.emails))
        if not learned:
            return


def erase(database: Database, *, email: str | None = None, customer_id: int | None = None,
          raw_schema: str = "helpscout_raw") -> ErasureResult:
    """Erase one customer from the lake in one transaction; raises :class:`ErasureError`."""
    person = Person()
    if email:
        if "@" not in email:
            raise ErasureError(f"{email!r} is not an email address")
        person.emails.add(email.strip().lower())
    if customer_id is not None:
        person.customer_ids.add(customer_id)
    if not person.emails and not person.customer_ids:
        raise ErasureError("give --email or --customer-id")

    conn = database.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("select to_regclass(%s)", (f"{raw_schema}.conversations",))
            if cur.fetchone()[0] is None:
                raise ErasureError(f"there is no lake in schema {raw_schema}")
        hold_for_transaction(conn, RunLog(raw_schema), command="erase")
        with conn.cursor() as cur:
            tables = _lake_tables(cur, raw_schema)
            _identify(cur, raw_schema, tables, person)
            rows_by_table: dict[str, int] = {}
            conversation_ids: set[int] = set()
            for table in tables:
                rows = _candidates(cur, raw_schema, table, person)
                count = 0
                for lake_id, entity_id, payload in rows:
                    # (both: a record may also hold person references)
                    if redact(payload, person) | redact_record(table, payload, person):
                        cur.execute(
                            sql.SQL("update {}.{} set payload = %s where lake_id = %s").format(
                                sql.Identifier(raw_schema), sql.Identifier(table)),
                            (json.dumps(payload), lake_id),
                        )
                        count += 1
                        if table == "conversations":
                            conversation_ids.add(entity_id)
                rows_by_table[table] = count
            if not person.customer_ids and not any(rows_by_table.values()):
                raise ErasureError("no customer with that address is in the lake")
            ops = sql.Identifier(OPS_SCHEMA)
            cur.execute(sql.SQL(_LOG_DDL).format(ops=ops))
            cur.execute(
                sql.SQL("insert into {}.erasure_log (customer_ids, conversation_ids,"
                        " lake_rows, rows_by_table) values (%s, %s, %s, %s)").format(ops),
                (sorted(person.customer_ids), sorted(conversation_ids),
                 sum(rows_by_table.values()), json.dumps(rows_by_table)),
            )
        conn.commit()
    finally:
        conn.close()
    return ErasureResult(tuple(sorted(person.customer_ids)), tuple(sorted(conversation_ids)),
                         rows_by_table)
