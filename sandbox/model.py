"""The account's records, kept compact: a 200,000-conversation account must fit in memory.

Timestamps are whole epoch seconds (the API's precision); JSON is rendered on
demand by :mod:`sandbox.render`, never stored per record except in its cache.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

#: Help Scout's automatic closer: not listed by /v2/users, yet named in closedByUser.
SYSTEM_CLOSER_ID = 1
SYSTEM_CLOSER_EMAIL = "none@nowhere.com"

#: Conversation statuses the API lists (``open`` and ``all`` are filters, not statuses).
STATUSES = ("active", "pending", "closed", "spam")


def iso(ts: int) -> str:
    """Epoch seconds as the API writes them: ISO-8601 UTC, second precision, ``Z``."""
    return "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}Z".format(*time.gmtime(ts)[:6])


def to_datetime(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, timezone.utc)


def parse_iso(text: str) -> int:
    """Parse ``YYYY-MM-DDTHH:MM:SSZ`` (fraction allowed and floored); ValueError otherwise."""
    if not text.endswith("Z"):
        raise ValueError(f"timestamp must be UTC with a Z suffix: {text!r}")
    base = text[:-1].split(".", 1)[0]
    parsed = datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    return int(parsed.timestamp())


@dataclass(slots=True)
class Person:
    """A customer or a user, as embedded in conversations and threads."""

    id: int
    first: str
    last: str
    email: str | None


@dataclass(slots=True)
class User:
    person: Person
    role: str
    timezone: str
    created_at: int
    updated_at: int
    listed: bool = True  # deactivated users still appear in old conversations


@dataclass(slots=True)
class Tag:
    id: int
    name: str
    slug: str
    color: str
    created_at: int
    updated_at: int | None


@dataclass(slots=True)
class Mailbox:
    id: int
    name: str
    slug: str
    email: str
    created_at: int
    updated_at: int
    folder_ids: dict[str, int]  # folder type -> folder id


@dataclass(slots=True)
class Thread:
    id: int
    type: str  # customer | reply | message | note | lineitem
    created_at: int
    author_type: str  # customer | user
    author_id: int
    #: The conversation status this thread set: ``nochange`` unless it changed it.
    status: str = "nochange"
    action: str | None = None  # lineitem action type
    action_text: str | None = None
    assigned_to: int | None = None
    opened_at: int | None = None


@dataclass(slots=True)
class Conversation:
    id: int
    number: int
    type: str  # email | phone | chat
    status: str
    state: str  # published | deleted
    subject: str | None
    mailbox_id: int
    assignee_id: int | None
    created_by_type: str  # customer | user
    created_by_id: int
    created_at: int
    primary_customer_id: int | None
    source_type: str
    source_via: str
    user_updated_at: int
    modified_at: int
    closed_by: int | None = None
    closed_at: int | None = None
    show_closed_by_user: bool = True
    waiting_since: int | None = None
    tag_ids: list[int] = field(default_factory=list)
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    custom_fields: tuple[tuple[str | int, ...], ...] = ()  # (id, name, value[, text])
    threads: list[Thread] = field(default_factory=list)  # oldest first
    version: int = 0
    #: The true status timeline, oldest first: (at, status, the thread that set it, or
    #: None when the change left no thread). Ground truth only; never rendered.
    status_log: list[tuple[int, str, Thread | None]] = field(default_factory=list)

    def set_status(self, at: int, status: str, thread: Thread | None = None) -> None:
        """Set the status at ``at``; when that changes it (or is the first status),
        ``thread`` (if any) is marked as the one that set it, as Help Scout does."""
        if status == self.status and self.status_log:
            return
        if thread is not None and self.status_log and self.status_log[-1][2] is thread:
            self.status_log.pop()  # one thread sets one status: the later decision wins
        if thread is not None:
            thread.status = status
        self.status_log.append((at, status, thread))
        self.status = status
