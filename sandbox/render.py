"""JSON as the API writes it: conversations, threads, tags, mailboxes, folders, users.

Conversation JSON is cached as bytes per (record version, tag version, embed), so a
list page is mostly a join of cached fragments: the sandbox must out-serve the loader.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from sandbox.account import Account
from sandbox.model import Conversation, Mailbox, Person, Tag, Thread, User, iso
from sandbox.vocabulary import BODY_SENTENCES

THREADS_PER_PAGE = 50


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def person_ref(person: Person, kind: str) -> dict[str, Any]:
    out: dict[str, Any] = {"id": person.id, "type": kind, "first": person.first,
                           "last": person.last}
    if person.email is not None:
        out["email"] = person.email
    return out


class Renderer:
    """Renders one account's records; ``base`` is the API root ending in ``/v2``."""

    def __init__(self, account: Account, base: str, *,
                 count_excludes_lineitems: bool = False) -> None:
        self.acc = account
        self.base = base
        # The legacy API's thread counts leave line items out; whether v2's do is
        # unconfirmed, so the sandbox can serve either (a loader must cope with both).
        self.count_excludes_lineitems = count_excludes_lineitems
        self._cache: dict[tuple[int, bool], tuple[int, int, bytes]] = {}

    # -- threads --------------------------------------------------------------------------
    def thread(self, conv: Conversation, t: Thread) -> dict[str, Any]:
        acc = self.acc
        author = acc.person(t.author_type, t.author_id)
        by_user = t.author_type == "user"
        out: dict[str, Any] = {
            "id": t.id,
            "type": t.type,
            "status": t.status,
            "state": "published",
        }
        if t.type == "lineitem":
            out["action"] = {"type": t.action, "text": t.action_text, "associatedEntities": {}}
        else:
            out["body"] = _body(t)
        out["source"] = {"type": conv.source_type if t is conv.threads[0] else "email",
                         "via": "user" if by_user else "customer"}
        if conv.primary_customer_id is not None:
            out["customer"] = person_ref(acc.customers[conv.primary_customer_id], "customer")
        out["createdBy"] = person_ref(author, "user" if by_user else "customer")
        if t.assigned_to is not None:
            out["assignedTo"] = person_ref(acc.users[t.assigned_to].person, "user")
        out["savedReplyId"] = 0
        out["to"] = [] if by_user or conv.primary_customer_id is None else [
            self.acc.mailboxes[conv.mailbox_id].email]
        out["cc"] = list(conv.cc) if t is conv.threads[0] else []
        out["bcc"] = []
        out["createdAt"] = iso(t.created_at)
        if t.opened_at is not None:
            out["openedAt"] = iso(t.opened_at)
        out["_embedded"] = {"attachments": []}
        kind = "createdByUser" if by_user else "createdByCustomer"
        root = "users" if by_user else "customers"
        out["_links"] = {kind: {"href": f"{self.base}/{root}/{t.author_id}"}}
        return out

    def thread_count(self, conv: Conversation) -> int:
        """The conversation's ``threads`` field: every thread, or all but line items."""
        if self.count_excludes_lineitems:
            return sum(1 for t in conv.threads if t.type != "lineitem")
        return len(conv.threads)

    def threads_newest_first(self, conv: Conversation) -> list[Thread]:
        return sorted(conv.threads, key=lambda t: (t.created_at, t.id), reverse=True)

    # -- conversations ----------------------------------------------------------------------
    def conversation(self, conv: Conversation, embed: str | None) -> dict[str, Any]:
        """One conversation; ``embed`` is None, ``"first"`` (one page) or ``"all"``."""
        acc = self.acc
        mailbox = acc.mailboxes[conv.mailbox_id]
        newest = self.threads_newest_first(conv)
        preview_source = next((t for t in newest if t.type != "lineitem"), newest[0])
        out: dict[str, Any] = {
            "id": conv.id,
            "number": conv.number,
            "threads": self.thread_count(conv),
            "type": conv.type,
            "folderId": mailbox.folder_ids[folder_type(conv)],
            "status": conv.status,
            "state": conv.state,
            "subject": conv.subject,
            "preview": _body_text(preview_source)[:100],
            "mailboxId": conv.mailbox_id,
        }
        if conv.assignee_id is not None:
            out["assignee"] = person_ref(acc.users[conv.assignee_id].person, "user")
        out["createdBy"] = person_ref(acc.person(conv.created_by_type, conv.created_by_id),
                                      conv.created_by_type)
        out["createdAt"] = iso(conv.created_at)
        if conv.closed_by is not None:
            out["closedBy"] = conv.closed_by
            if conv.show_closed_by_user:
                out["closedByUser"] = person_ref(acc.users[conv.closed_by].person, "user")
        if conv.closed_at is not None:
            out["closedAt"] = iso(conv.closed_at)
        out["userUpdatedAt"] = iso(conv.user_updated_at)
        if conv.waiting_since is not None:
            ws = conv.waiting_since
            out["customerWaitingSince"] = {
                "time": iso(ws),
                "friendly": datetime.fromtimestamp(ws, timezone.utc).strftime("%b %-d"),
                "latestReplyFrom": "customer",
            }
        else:
            out["customerWaitingSince"] = {}
        out["source"] = {"type": conv.source_type, "via": conv.source_via}
        out["tags"] = [_tag_ref(acc.tags[tid]) for tid in conv.tag_ids if tid in acc.tags]
        out["cc"] = list(conv.cc)
        out["bcc"] = list(conv.bcc)
        if conv.primary_customer_id is not None:
            out["primaryCustomer"] = person_ref(acc.customers[conv.primary_customer_id],
                                                "customer")
        out["customFields"] = [{"id": fid, "name": name, "value": value, "text": value}
                               for fid, name, value in conv.custom_fields]
        if embed is not None:
            chosen = newest if embed == "all" else newest[:THREADS_PER_PAGE]
            out["_embedded"] = {"threads": [self.thread(conv, t) for t in chosen]}
        href = f"{self.base}/conversations/{conv.id}"
        out["_links"] = {
            "self": {"href": href},
            "mailbox": {"href": f"{self.base}/mailboxes/{conv.mailbox_id}"},
            "threads": {"href": f"{href}/threads"},
        }
        if conv.primary_customer_id is not None:
            out["_links"]["primaryCustomer"] = {
                "href": f"{self.base}/customers/{conv.primary_customer_id}"}
        return out

    def conversation_bytes(self, conv: Conversation, embed: bool) -> bytes:
        """The list-page form (embed = first page of threads), cached."""
        key = (conv.id, embed)
        hit = self._cache.get(key)
        if hit is not None and hit[0] == conv.version and hit[1] == self.acc.tag_version:
            return hit[2]
        data = dumps(self.conversation(conv, "first" if embed else None))
        self._cache[key] = (conv.version, self.acc.tag_version, data)
        return data

    def forget(self, conv_id: int) -> None:
        self._cache.pop((conv_id, True), None)
        self._cache.pop((conv_id, False), None)

    # -- other entities ------------------------------------------------------------------------
    def tag(self, tag: Tag, ticket_count: int) -> dict[str, Any]:
        out: dict[str, Any] = {"id": tag.id, "slug": tag.slug, "name": tag.name,
                               "color": tag.color, "createdAt": iso(tag.created_at)}
        if tag.updated_at is not None:
            out["updatedAt"] = iso(tag.updated_at)
        out["ticketCount"] = ticket_count
        return out

    def mailbox(self, mb: Mailbox) -> dict[str, Any]:
        return {"id": mb.id, "name": mb.name, "slug": mb.slug, "email": mb.email,
                "createdAt": iso(mb.created_at), "updatedAt": iso(mb.updated_at),
                "_links": {"self": {"href": f"{self.base}/mailboxes/{mb.id}"},
                           "folders": {"href": f"{self.base}/mailboxes/{mb.id}/folders"}}}

    def user(self, user: User) -> dict[str, Any]:
        p = user.person
        return {"id": p.id, "firstName": p.first, "lastName": p.last, "email": p.email,
                "role": user.role, "timezone": user.timezone, "type": "user",
                "photoUrl": "", "createdAt": iso(user.created_at),
                "updatedAt": iso(user.updated_at),
                "_links": {"self": {"href": f"{self.base}/users/{p.id}"}}}

    def folders(self, mb: Mailbox) -> list[dict[str, Any]]:
        from sandbox.generate import FOLDER_NAMES

        total = dict.fromkeys(mb.folder_ids, 0)
        active = dict.fromkeys(mb.folder_ids, 0)
        for conv in self.acc.conversations.values():
            if conv.mailbox_id == mb.id:
                ftype = folder_type(conv)
                total[ftype] += 1
                active[ftype] += conv.status == "active"
        updated = iso(mb.updated_at)
        return [{"id": fid, "name": FOLDER_NAMES[ftype], "type": ftype, "userId": 0,
                 "totalCount": total[ftype], "activeCount": active[ftype],
                 "updatedAt": updated} for ftype, fid in mb.folder_ids.items()]


def folder_type(conv: Conversation) -> str:
    if conv.status == "spam":
        return "spam"
    if conv.status == "closed":
        return "closed"
    return "assigned" if conv.assignee_id is not None else "open"


def _tag_ref(tag: Tag) -> dict[str, Any]:
    return {"id": tag.id, "color": tag.color, "tag": tag.name}


def _body_text(t: Thread) -> str:
    if t.type == "lineitem":
        return t.action_text or ""
    n = len(BODY_SENTENCES)
    return " ".join(BODY_SENTENCES[(t.id * k + t.created_at) % n] for k in (1, 3, 7))


def _body(t: Thread) -> str:
    return f"<div><p>{_body_text(t)}</p></div>"
