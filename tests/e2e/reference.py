"""An independent Python reading of the mart contract, computed from ground truth.

The end-to-end tests compare every row and column of the core marts with what
this module derives from the sandbox's ``truth()``: it never reads the lake or
the marts, so it cannot share a bug with the SQL. /work/shared/mart-contract.md
and dbt_project/docs/ define the columns; the rules for the cases the contract
leaves open are the ones documented there too:

* A conversation stays in ``conversations`` once seen. When the account no
  longer has it (hard-deleted or merged away, and a reconcile has tombstoned it)
  it keeps the state it had when last loaded, flagged ``is_deleted``.
* Its tags stay in ``conversation_tags`` and its threads in ``threads``; a thread
  that a merge moved belongs to the conversation that holds it now (the one whose
  copy is the most recent), never to both.
* ``tags.conversation_count`` counts every bridge row of the tag, whatever the
  conversation's status or state.
* ``tags`` and ``mailboxes`` hold what the latest listings returned; ``users`` also
  every user the seen conversations reference (assignee, closer, thread author)
  that the listing lacks, with ``is_listed`` false.
* Status history, reopen counts and the backlog follow :mod:`tests.e2e.history`;
  the start of an ``observed`` interval needs the lake copies' extraction times
  and the watermark the load log's windows (:class:`LakeFacts`, read by the test
  from the lake's own bookkeeping, never from a model).

Usage: ``state = ReferenceState(); state.observe(truth)`` after every load (and
reconcile) of the account, then ``state.marts(lake_facts)`` for the expected rows
keyed by each mart's primary key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from tests.e2e import history

Row = dict[str, Any]

_REPLY_PREFIXES = re.compile(r"^\s*(?:(?:re|fwd?)\s*:\s*)*")
USER_REPLY_TYPES = ("reply", "message")


def parse_time(value: Any) -> datetime | None:
    """An API timestamp (``2025-01-02T03:04:05Z``) as an aware datetime; None if absent."""
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def minutes_between(start: datetime | None, end: datetime | None) -> Decimal | None:
    """Exact elapsed minutes (not clock-boundary counts), as the contract defines them."""
    if start is None or end is None:
        return None
    return Decimal(int((end - start).total_seconds())) / Decimal(60)


def normalize_subject(subject: str | None) -> str | None:
    """Lower case, leading re:/fw:/fwd: prefixes (repeated, any spacing) and outer space removed."""
    if subject is None:
        return None
    return _REPLY_PREFIXES.sub("", subject.lower(), count=1).strip()


def _obj(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _email_domain(email: str | None) -> str | None:
    if not email or "@" not in email:
        return None
    return email.strip().rsplit("@", 1)[1].lower()


def is_user_reply(thread: Mapping[str, Any]) -> bool:
    """A reply: a thread of type reply or message created by a user."""
    return (thread.get("type") in USER_REPLY_TYPES
            and _obj(thread.get("createdBy")).get("type") == "user")


def thread_row(thread: Mapping[str, Any], conversation_id: int) -> Row:
    created_by = _obj(thread.get("createdBy"))
    source = _obj(thread.get("source"))
    return {
        "thread_id": thread["id"],
        "conversation_id": conversation_id,
        "thread_type": thread.get("type"),
        "status": thread.get("status"),
        "state": thread.get("state"),
        "created_at": parse_time(thread.get("createdAt")),
        "created_by_id": created_by.get("id"),
        "created_by_type": created_by.get("type"),
        "created_by_email": created_by.get("email"),
        "source_type": source.get("type"),
        "source_via": source.get("via"),
        "is_user_reply": is_user_reply(thread),
    }


def conversation_tags(payload: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The tag objects of a conversation, first occurrence of each id."""
    tags = payload.get("tags")
    seen: dict[int, Mapping[str, Any]] = {}
    for tag in tags if isinstance(tags, list) else []:
        if isinstance(tag, Mapping) and isinstance(tag.get("id"), int):
            seen.setdefault(tag["id"], tag)
    return list(seen.values())


@dataclass(frozen=True)
class Settings:
    """The dbt vars the marts were built with."""

    internal_email_domains: tuple[str, ...] = ()
    system_closer_emails: tuple[str, ...] = ("none@nowhere.com",)


def conversation_row(payload: Mapping[str, Any], settings: Settings, *,
                     tag_count: int, removal: tuple[str, int | None] | None,
                     user_emails: Mapping[int, str | None] | None = None,
                     intervals: list[Row] | None = None) -> Row:
    """The ``conversations`` mart row of one conversation's latest known copy;
    ``user_emails`` (the users mart's) completes a closer known only by ``closedBy``."""
    created_by = _obj(payload.get("createdBy"))
    closed_by_user = _obj(payload.get("closedByUser"))
    assignee = _obj(payload.get("assignee"))
    customer = _obj(payload.get("primaryCustomer"))
    source = _obj(payload.get("source"))
    threads = _obj(payload.get("_embedded")).get("threads") or []
    created_at = parse_time(payload.get("createdAt"))
    closed_at = parse_time(payload.get("closedAt"))
    status = payload.get("status")
    replies = [t for t in threads if is_user_reply(t)]
    reply_times = [parse_time(t.get("createdAt")) for t in replies]
    first_response_at = None
    if created_by.get("type") != "user" and created_at is not None:
        candidates = [at for at in reply_times if at is not None and at >= created_at]
        first_response_at = min(candidates, default=None)
    closer_id = closed_by_user.get("id", payload.get("closedBy"))
    closer_email = closed_by_user.get("email")
    if closer_email is None and closer_id is not None:
        closer_email = (user_emails or {}).get(closer_id)
    domains = {d.lower() for d in settings.internal_email_domains}
    closers = {e.lower() for e in settings.system_closer_emails}
    return {
        "conversation_id": payload["id"],
        "conversation_number": payload.get("number"),
        "mailbox_id": payload.get("mailboxId"),
        "folder_id": payload.get("folderId"),
        "type": payload.get("type"),
        "status": status,
        "state": payload.get("state"),
        "subject": payload.get("subject"),
        "subject_normalized": normalize_subject(payload.get("subject")),
        "source_type": source.get("type"),
        "source_via": source.get("via"),
        "created_at": created_at,
        "closed_at": closed_at,
        "user_updated_at": parse_time(payload.get("userUpdatedAt")),
        "customer_waiting_since_at": parse_time(
            _obj(payload.get("customerWaitingSince")).get("time")),
        "created_by_id": created_by.get("id"),
        "created_by_type": created_by.get("type"),
        "created_by_email": created_by.get("email"),
        "closed_by_user_id": closer_id,
        "closed_by_user_email": closer_email,
        "assignee_id": assignee.get("id"),
        "assignee_email": assignee.get("email"),
        "primary_customer_id": customer.get("id"),
        "primary_customer_email": customer.get("email"),
        "thread_count": payload.get("threads"),
        "customer_message_count": sum(t.get("type") == "customer" for t in threads),
        "reply_count": len(replies),
        "note_count": sum(t.get("type") == "note" for t in threads),
        "tag_count": tag_count,
        "first_response_at": first_response_at,
        "first_response_minutes": minutes_between(created_at, first_response_at),
        "resolution_minutes": (minutes_between(created_at, closed_at)
                               if status == "closed" else None),
        "is_spam": status == "spam",
        "is_deleted": payload.get("state") == "deleted" or removal is not None,
        "is_internal": (created_by.get("type") == "user"
                        or _email_domain(created_by.get("email")) in domains),
        "is_closed_by_system": bool(closer_email) and closer_email.strip().lower() in closers,
        "is_resolved": status == "closed" and len(replies) > 0,
        **({} if intervals is None else {"reopen_count": history.reopen_count(intervals)}),
        "removal_reason": removal[0] if removal else None,
        "merged_into_conversation_id": removal[1] if removal else None,
    }


@dataclass(frozen=True)
class LakeFacts:
    """What the lake's bookkeeping says: each conversation's copies (extraction time and
    status), the conversation windows the load log completed, the reporting zone."""

    copies: Mapping[int, Sequence[history.Copy]]
    windows: Sequence[tuple[datetime, datetime]]
    timezone: str = "UTC"

    @property
    def watermark(self) -> datetime | None:
        return history.watermark(self.windows)


@dataclass
class _Seen:
    payload: Mapping[str, Any]
    round: int  # the last observation in which the account still had it


@dataclass
class ReferenceState:
    """What a correct loader has seen of an account over successive loads."""

    settings: Settings = field(default_factory=Settings)
    rounds: int = 0
    seen: dict[int, _Seen] = field(default_factory=dict)
    removed: dict[int, tuple[str, int | None]] = field(default_factory=dict)
    truth: Any = None

    def observe(self, truth: Any, *, reconciled: bool = True) -> None:
        """Record the account as a complete load (and, if ``reconciled``, a sweep) saw it."""
        self.rounds += 1
        self.truth = truth
        for cid, payload in truth.conversations.items():
            self.seen[cid] = _Seen(payload, self.rounds)
            self.removed.pop(cid, None)
        if reconciled:
            for cid in self.seen.keys() - truth.conversations.keys():
                if cid in truth.merged:
                    self.removed[cid] = ("merged", truth.merged[cid])
                elif cid in truth.deleted_ids:
                    self.removed[cid] = ("deleted", None)

    def marts(self, lake: LakeFacts) -> dict[str, dict[Any, Row]]:
        """Expected rows of every mart the e2e test compares."""
        truth = self.truth
        bridge: dict[tuple[int, int], Row] = {}
        for cid, seen in self.seen.items():
            for tag in conversation_tags(seen.payload):
                listed = truth.tags.get(tag["id"])
                bridge[(cid, tag["id"])] = {
                    "conversation_id": cid,
                    "tag_id": tag["id"],
                    "tag_name": listed["name"] if listed else tag.get("tag"),
                    "tag_color": listed["color"] if listed else tag.get("color"),
                }
        tag_counts: dict[int, int] = {}
        per_conversation: dict[int, int] = {}
        for cid, tag_id in bridge:
            tag_counts[tag_id] = tag_counts.get(tag_id, 0) + 1
            per_conversation[cid] = per_conversation.get(cid, 0) + 1
        users = self._users()
        emails = {uid: row["email"] for uid, row in users.items()}
        intervals = {cid: history.status_history(seen.payload, lake.copies.get(cid, ()))
                     for cid, seen in self.seen.items()}
        conversations = {
            cid: conversation_row(seen.payload, self.settings,
                                  tag_count=per_conversation.get(cid, 0),
                                  removal=self.removed.get(cid), user_emails=emails,
                                  intervals=intervals[cid])
            for cid, seen in self.seen.items()
        }
        threads = self._threads()
        return {
            "conversations": conversations,
            "conversation_tags": bridge,
            "threads": threads,
            "tags": {tid: _tag_row(t, tag_counts.get(tid, 0)) for tid, t in truth.tags.items()},
            "mailboxes": {mid: _mailbox_row(m) for mid, m in truth.mailboxes.items()},
            "users": users,
            "conversation_status_history": {
                (row["conversation_id"], row["interval_number"]): row
                for rows in intervals.values() for row in rows},
            "mailbox_backlog_daily": history.backlog_daily(
                self.counted(conversations, threads, intervals),
                history.Days(lake.timezone), lake.watermark),
            **self._other_entities(),
        }

    def _other_entities(self) -> dict[str, dict[Any, Row]]:
        """Customers, custom field values, teams and members, satisfaction ratings."""
        truth = self.truth
        kept = {cid: seen.payload for cid, seen in self.seen.items() if cid not in self.removed}
        per_customer: dict[int, int] = {}
        for payload in kept.values():
            customer = _obj(payload.get("primaryCustomer")).get("id")
            if isinstance(customer, int):
                per_customer[customer] = per_customer.get(customer, 0) + 1
        names = {f["id"]: f["name"] for defs in truth.fields.values() for f in defs}
        field_rows: dict[tuple[int, int], Row] = {}
        for cid, seen in self.seen.items():
            for value in seen.payload.get("customFields") or []:
                if not isinstance(value, dict) or not isinstance(value.get("id"), int):
                    continue
                if value.get("value") in (None, "") or (cid, value["id"]) in field_rows:
                    continue
                field_rows[(cid, value["id"])] = {
                    "conversation_id": cid, "field_id": value["id"],
                    "field_name": names.get(value["id"], value.get("name")),
                    "value": str(value["value"]),
                    "text": value.get("text") or str(value["value"]),
                }
        members = {(tid, uid): _member_row(tid, truth.users[uid])
                   for tid, uids in truth.team_members.items() for uid in uids}
        return {
            "customers": {cid: _customer_row(c, per_customer.get(cid, 0))
                          for cid, c in truth.customers.items()},
            "conversation_custom_fields": field_rows,
            "teams": {tid: _team_row(t, len(truth.team_members.get(tid, [])))
                      for tid, t in truth.teams.items()},
            "team_members": members,
            "satisfaction_ratings": {tid: _rating_row(r) for tid, r in truth.ratings.items()
                                     if self.removed.get(r["id"], ("",))[0] != "deleted"},
        }

    def counted(self, conversations: Mapping[int, Row], threads: Mapping[int, Row],
                intervals: Mapping[int, list[Row]]) -> list[history.Counted]:
        """The conversations the KPI marts count (default switches: no spam, nothing
        deleted, neither internal nor system-closed), with their mailbox's activity:
        creation, closing (closed with a closed_at) and user replies."""
        replies: dict[int, list[datetime]] = {}
        for row in threads.values():
            if row["is_user_reply"] and row["created_at"] is not None:
                replies.setdefault(row["conversation_id"], []).append(row["created_at"])
        out = []
        for cid, row in conversations.items():
            if (row["is_spam"] or row["is_deleted"] or row["is_internal"]
                    or row["is_closed_by_system"] or row["created_at"] is None):
                continue
            activity = [row["created_at"], *replies.get(cid, [])]
            if row["status"] == "closed" and row["closed_at"] is not None:
                activity.append(row["closed_at"])
            out.append(history.Counted(row["mailbox_id"], row["created_at"],
                                       tuple(intervals[cid]), tuple(activity)))
        return out

    def _users(self) -> dict[int, Row]:
        """The latest listing, then every user a seen conversation references that the
        listing lacks (name and email from the latest copy that shows them)."""
        rows = {uid: {**_user_row(u), "is_listed": True} for uid, u in self.truth.users.items()}
        # a bare closedBy id names nobody: any copy that shows the person wins over it
        referenced: dict[int, tuple[tuple[bool, int], Mapping[str, Any]]] = {}

        def saw(person: Any, rank: int) -> None:
            if isinstance(person, Mapping) and isinstance(person.get("id"), int):
                key = (len(person) > 1, rank)
                held = referenced.get(person["id"])
                if held is None or key > held[0]:
                    referenced[person["id"]] = (key, person)

        for seen in self.seen.values():
            payload = seen.payload
            saw(payload.get("assignee"), seen.round)
            saw(payload.get("closedByUser"), seen.round)
            if isinstance(payload.get("closedBy"), int):
                saw({"id": payload["closedBy"]}, seen.round)
            for thread in _obj(payload.get("_embedded")).get("threads") or []:
                created_by = _obj(thread.get("createdBy"))
                if created_by.get("type") == "user":
                    saw(created_by, seen.round)
        for uid, (_, person) in referenced.items():
            if uid not in rows:
                rows[uid] = {
                    "user_id": uid, "first_name": person.get("first"),
                    "last_name": person.get("last"), "email": person.get("email"),
                    "role": None, "user_type": person.get("type"), "timezone": None,
                    "created_at": None, "updated_at": None, "is_listed": False,
                }
        return rows

    def shared_thread_ids(self) -> set[int]:
        """Thread ids in more than one seen conversation (what merges leave behind)."""
        holders: dict[int, int] = {}
        for seen in self.seen.values():
            for thread in _obj(seen.payload.get("_embedded")).get("threads") or []:
                holders[thread["id"]] = holders.get(thread["id"], 0) + 1
        return {tid for tid, n in holders.items() if n > 1}

    def _threads(self) -> dict[int, Row]:
        """Each thread under the conversation holding it whose copy is the most recent:
        one the account still has, else the gone one seen last."""
        owners: dict[int, tuple[int, int]] = {}  # thread id -> (rank, conversation id)
        for cid, seen in self.seen.items():
            rank = self.rounds + 1 if cid in self.truth.conversations else seen.round
            for thread in _obj(seen.payload.get("_embedded")).get("threads") or []:
                if owners.get(thread["id"], (-1, 0))[0] < rank:
                    owners[thread["id"]] = (rank, cid)
        rows: dict[int, Row] = {}
        for cid, seen in self.seen.items():
            for thread in _obj(seen.payload.get("_embedded")).get("threads") or []:
                if owners[thread["id"]][1] == cid:
                    rows[thread["id"]] = thread_row(thread, cid)
        return rows


def _tag_row(tag: Mapping[str, Any], conversation_count: int) -> Row:
    return {
        "tag_id": tag["id"], "tag_name": tag.get("name"), "tag_slug": tag.get("slug"),
        "tag_color": tag.get("color"), "created_at": parse_time(tag.get("createdAt")),
        "updated_at": parse_time(tag.get("updatedAt")), "ticket_count": tag.get("ticketCount"),
        "conversation_count": conversation_count,
    }


def _mailbox_row(mailbox: Mapping[str, Any]) -> Row:
    return {
        "mailbox_id": mailbox["id"], "mailbox_name": mailbox.get("name"),
        "mailbox_slug": mailbox.get("slug"), "mailbox_email": mailbox.get("email"),
        "created_at": parse_time(mailbox.get("createdAt")),
        "updated_at": parse_time(mailbox.get("updatedAt")),
    }


def _user_row(user: Mapping[str, Any]) -> Row:
    return {
        "user_id": user["id"], "first_name": user.get("firstName"),
        "last_name": user.get("lastName"), "email": user.get("email"), "role": user.get("role"),
        "user_type": user.get("type"), "timezone": user.get("timezone"),
        "created_at": parse_time(user.get("createdAt")),
        "updated_at": parse_time(user.get("updatedAt")),
    }


def _customer_row(customer: Mapping[str, Any], conversation_count: int) -> Row:
    emails = _obj(customer.get("_embedded")).get("emails") or []
    return {
        "customer_id": customer["id"], "first_name": customer.get("firstName") or None,
        "last_name": customer.get("lastName") or None,
        "organization": customer.get("organization") or None,
        "primary_email": (emails[0].get("value") or None) if emails else None,
        "created_at": parse_time(customer.get("createdAt")),
        "updated_at": parse_time(customer.get("updatedAt")),
        "conversation_count": conversation_count,
    }


def _team_row(team: Mapping[str, Any], member_count: int) -> Row:
    return {
        "team_id": team["id"], "team_name": team.get("name"), "timezone": team.get("timezone"),
        "created_at": parse_time(team.get("createdAt")),
        "updated_at": parse_time(team.get("updatedAt")), "member_count": member_count,
    }


def _member_row(team_id: int, user: Mapping[str, Any]) -> Row:
    return {"team_id": team_id, "user_id": user["id"], "first_name": user.get("firstName"),
            "last_name": user.get("lastName"), "email": user.get("email")}


def _rating_row(rating: Mapping[str, Any]) -> Row:
    return {
        "rating_id": rating["threadid"], "conversation_id": rating["id"],
        "thread_id": rating["threadid"], "user_id": rating.get("ratingUserId"),
        "customer_id": rating.get("ratingCustomerId"), "rating": rating["rating"],
        "created_at": parse_time(rating.get("ratingCreatedAt")),
    }


MART_KEYS: dict[str, tuple[str, ...]] = {
    "conversations": ("conversation_id",),
    "conversation_tags": ("conversation_id", "tag_id"),
    "threads": ("thread_id",),
    "tags": ("tag_id",),
    "mailboxes": ("mailbox_id",),
    "users": ("user_id",),
    "conversation_status_history": ("conversation_id", "interval_number"),
    "mailbox_backlog_daily": ("mailbox_id", "date_day"),
    "customers": ("customer_id",),
    "conversation_custom_fields": ("conversation_id", "field_id"),
    "teams": ("team_id",),
    "team_members": ("team_id", "user_id"),
    "satisfaction_ratings": ("rating_id",),
}


def read_lake_facts(conn, timezone: str = "UTC", schema: str = "helpscout_raw") -> LakeFacts:
    """The lake's own bookkeeping: each conversation copy's extraction time and status,
    and the completed conversation windows of the load log."""
    with conn.cursor() as cur:
        cur.execute(f"select entity_id, extracted_at, payload ->> 'status'"
                    f" from {schema}.conversations")
        copies: dict[int, list[history.Copy]] = {}
        for entity_id, extracted_at, status in cur.fetchall():
            copies.setdefault(entity_id, []).append(history.Copy(extracted_at, status))
        cur.execute(f"select window_start, window_end from {schema}.load_windows"
                    " where stream = 'conversations' and status = 'completed'"
                    " and window_start is not null")
        windows = cur.fetchall()
    return LakeFacts(copies, windows, timezone)


def read_mart(conn, schema: str, mart: str, columns: Iterable[str]) -> dict[Any, Row]:
    """The mart's rows keyed like :meth:`ReferenceState.marts` (only ``columns``)."""
    columns = list(columns)
    key = MART_KEYS[mart]
    with conn.cursor() as cur:
        cur.execute(f'select {", ".join(columns)} from "{schema}"."{mart}"')
        rows = [dict(zip(columns, values, strict=True)) for values in cur.fetchall()]
    out: dict[Any, Row] = {}
    for row in rows:
        k = row[key[0]] if len(key) == 1 else tuple(row[c] for c in key)
        assert k not in out, f"{mart}: duplicate key {k!r}"
        out[k] = row
    return out


def differences(mart: str, expected: Mapping[Any, Row], actual: Mapping[Any, Row],
                limit: int = 20) -> list[str]:
    """Human-readable differences, row by row and column by column (empty when equal)."""
    problems: list[str] = []
    missing = sorted(expected.keys() - actual.keys())
    extra = sorted(actual.keys() - expected.keys())
    if missing:
        problems.append(f"{mart}: {len(missing)} rows missing, e.g. {missing[:5]}")
    if extra:
        problems.append(f"{mart}: {len(extra)} unexpected rows, e.g. {extra[:5]}")
    for key in sorted(expected.keys() & actual.keys()):
        for column, want in expected[key].items():
            got = actual[key][column]
            if not _same(want, got):
                problems.append(f"{mart}[{key!r}].{column}: expected {want!r}, got {got!r}")
                if len(problems) >= limit:
                    return problems
    return problems


def _same(want: Any, got: Any) -> bool:
    if isinstance(want, Decimal) or isinstance(got, Decimal):
        if want is None or got is None:
            return want is got
        return abs(Decimal(want) - Decimal(got)) < Decimal("1e-9")
    return want == got
