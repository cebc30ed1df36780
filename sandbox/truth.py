"""Ground truth: the account's complete current state, as the API would serve it.

Conversations are the single-conversation JSON with ``_embedded.threads`` holding
the COMPLETE thread list (newest first), which is what a correct loader stores.
``status_timelines`` is what no API call shows: each conversation's true status
history, oldest first, ``{"at", "status", "thread_id"}`` (``thread_id`` null when the
change left no thread). It is the conversation's own: threads a merge brought in
keep the statuses they set in the conversation they came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class GroundTruth:
    conversations: dict[int, dict[str, Any]]
    modified_at: dict[int, datetime]  # the hidden modifiedAt the API filters on
    tags: dict[int, dict[str, Any]]  # as /v2/tags items, current names
    mailboxes: dict[int, dict[str, Any]]
    users: dict[int, dict[str, Any]]  # as /v2/users lists them (active users only)
    folders: dict[int, list[dict[str, Any]]]  # per mailbox id
    deleted_ids: set[int]  # hard-deleted: gone from listings, 404
    merged: dict[int, int]  # merged-away id -> target id (301)
    internal_domains: list[str]
    now: datetime
    system_closer_emails: list[str] = field(default_factory=lambda: ["none@nowhere.com"])
    all_includes_spam: bool = False
    status_timelines: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    # The other entities (sandbox/extras.py): customers as /v2/customers lists them, their
    # hidden modifiedAt (epoch seconds), teams, member user ids per team, custom field
    # definitions per mailbox, ratings by thread id (report items plus ``rating`` as
    # great/okay/not_good and ``modifiedAt``), and the plan (``standard``: no ratings).
    customers: dict[int, dict[str, Any]] = field(default_factory=dict)
    customer_modified_at: dict[int, int] = field(default_factory=dict)
    teams: dict[int, dict[str, Any]] = field(default_factory=dict)
    team_members: dict[int, list[int]] = field(default_factory=dict)
    fields: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    ratings: dict[int, dict[str, Any]] = field(default_factory=dict)
    plan: str = "plus"

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable form (ids as string keys, times as ISO strings)."""
        return {
            "conversations": {str(k): v for k, v in self.conversations.items()},
            "modified_at": {str(k): _iso(v) for k, v in self.modified_at.items()},
            "tags": {str(k): v for k, v in self.tags.items()},
            "mailboxes": {str(k): v for k, v in self.mailboxes.items()},
            "users": {str(k): v for k, v in self.users.items()},
            "folders": {str(k): v for k, v in self.folders.items()},
            "deleted_ids": sorted(self.deleted_ids),
            "merged": {str(k): v for k, v in self.merged.items()},
            "internal_domains": list(self.internal_domains),
            "now": _iso(self.now),
            "system_closer_emails": list(self.system_closer_emails),
            "all_includes_spam": self.all_includes_spam,
            "status_timelines": {str(k): v for k, v in self.status_timelines.items()},
            **{name: {str(k): v for k, v in getattr(self, name).items()}
               for name in _KEYED_EXTRAS},
            "plan": self.plan,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GroundTruth:
        """Inverse of :meth:`to_json` (for a sandbox running in another process)."""
        return cls(
            conversations={int(k): v for k, v in data["conversations"].items()},
            modified_at={int(k): _parse(v) for k, v in data["modified_at"].items()},
            tags={int(k): v for k, v in data["tags"].items()},
            mailboxes={int(k): v for k, v in data["mailboxes"].items()},
            users={int(k): v for k, v in data["users"].items()},
            folders={int(k): v for k, v in data["folders"].items()},
            deleted_ids=set(data["deleted_ids"]),
            merged={int(k): int(v) for k, v in data["merged"].items()},
            internal_domains=list(data["internal_domains"]),
            now=_parse(data["now"]),
            system_closer_emails=list(data.get("system_closer_emails", [])),
            all_includes_spam=bool(data.get("all_includes_spam", False)),
            status_timelines={int(k): v for k, v in data.get("status_timelines", {}).items()},
            **{name: {int(k): v for k, v in data.get(name, {}).items()}
               for name in _KEYED_EXTRAS},
            plan=str(data.get("plan", "plus")),
        )


_KEYED_EXTRAS = ("customers", "customer_modified_at", "teams", "team_members", "fields",
                 "ratings")


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
