"""How the account changes after its history: each change is stamped with wall-clock time.

The real API stamps modifiedAt when a change happens; a loader windows on
``now - lag``. So every change here carries the current wall-clock second (never
earlier than anything stamped before), never a made-up past or future time.

Statuses as Help Scout sets them: a thread's ``status`` is ``nochange`` unless that
thread changed the conversation's status (a reply sent as pending or closed, a
lineitem "Marked as Closed", a workflow's close, a customer's answer that reopens).
Some changes leave no thread at all (``silent_status``, ``silent_close``); the
conversation's ``status_log`` records every change either way (ground truth).

Which changes move ``userUpdatedAt``: user replies, notes, closing and reopening
by a user, reassigning, marking spam, deleting, merging. Customer replies, tag
edits, mailbox moves and the system closer move only the hidden modifiedAt.
A tag rename changes the tag (its ``updatedAt``), not the conversations carrying it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from sandbox import vocabulary as vocab
from sandbox.account import Account
from sandbox.extras import Extras
from sandbox.generate import slugify
from sandbox.model import SYSTEM_CLOSER_ID, Conversation, Thread

Change = dict[str, Any]

DEFAULT_WEIGHTS: dict[str, float] = {
    "new_conversation": 20, "customer_reply": 18, "user_reply": 18, "note": 5,
    "close": 10, "system_close": 2, "reopen": 3, "reassign": 5, "retag": 8,
    "rename_tag": 1, "move": 3, "spam": 1, "soft_delete": 1, "hard_delete": 1, "merge": 1,
    "close_without_closed_at": 1, "silent_close": 1, "silent_status": 1,
    # the other entities (sandbox/extras.py)
    "edit_customer": 4, "set_field": 4, "clear_field": 2, "rate": 5, "team_change": 1,
}
#: What a change made while a client pages through a list may be.
PAGING_WEIGHTS: dict[str, float] = {
    "new_conversation": 2, "customer_reply": 3, "user_reply": 3, "close": 2, "retag": 2,
    "move": 1,
}


def stamp_now(acc: Account) -> int:
    """The current wall-clock second, never before anything already stamped."""
    acc.last_stamp = max(int(time.time()), acc.last_stamp)
    return acc.last_stamp


class Evolver:
    """Applies named or random changes to an account (caller holds ``acc.lock``)."""

    def __init__(self, acc: Account, seed: int, extras: Extras | None = None) -> None:
        self.acc = acc
        self.extras = extras
        self.rng = random.Random(seed * 7919 + 1)
        self.actions: dict[str, Callable[[int], Change | None]] = {
            name: getattr(self, f"_{name}") for name in DEFAULT_WEIGHTS
        }
        self._forced: int | None = None

    def apply(self, kind: str, target: int | None = None) -> Change | None:
        """Apply one change of ``kind``; ``target`` names the conversation it affects
        (the first one picked, for a merge the one merged away). None if not applicable."""
        if kind not in self.actions:
            raise ValueError(f"unknown change kind {kind!r}; known: {sorted(self.actions)}")
        if target is not None and target not in self.acc.conversations:
            raise ValueError(f"conversation {target} does not exist (deleted or merged?)")
        self._forced = target
        try:
            change = self.actions[kind](stamp_now(self.acc))
        finally:
            self._forced = None
        if change is not None:
            change["kind"] = kind
        return change

    def random_kind(self, weights: dict[str, float]) -> str:
        kinds = list(weights)
        return self.rng.choices(kinds, weights=[weights[k] for k in kinds])[0]

    # -- picking -----------------------------------------------------------------------------
    def _pick(self, accept: Callable[[Conversation], bool] | None = None,
              tries: int = 200) -> Conversation | None:
        if self._forced is not None:
            forced, self._forced = self.acc.conversations[self._forced], None
            return forced if accept is None or accept(forced) else None
        ids = self.acc.id_list()
        if not ids:
            return None
        for _ in range(tries):
            conv = self.acc.conversations[self.rng.choice(ids)]
            if accept is None or accept(conv):
                return conv
        return None

    def _agent(self) -> int:
        return self.rng.choice([uid for uid, u in self.acc.users.items() if u.listed])

    def _thread(self, conv: Conversation, ttype: str, ts: int, author_type: str,
                author_id: int, **kw: Any) -> Thread:
        acc = self.acc
        thread = Thread(acc.next_thread_id, ttype, ts, author_type, author_id, **kw)
        acc.next_thread_id += 1 + (self.rng.random() < 0.05)
        conv.threads.append(thread)
        return thread

    # -- changes ------------------------------------------------------------------------------
    def _new_conversation(self, ts: int) -> Change:
        acc, rng = self.acc, self.rng
        customer = rng.choice(list(acc.customers))
        cid = acc.next_conversation_id
        acc.next_conversation_id += 1 + (rng.random() < 0.1)
        mailboxes = list(acc.mailboxes)
        mailbox = rng.choices(mailboxes, weights=[s for _, s in vocab.MAILBOXES][
            :len(mailboxes)])[0]
        tags = list(acc.tags)
        subject = rng.choice(vocab.SUBJECTS)
        if rng.random() < 0.2:
            subject = rng.choice(vocab.REPLY_PREFIXES) + rng.choice(vocab.CAMPAIGNS)
        conv = Conversation(
            id=cid, number=acc.next_number, type="email", status="active", state="published",
            subject=subject, mailbox_id=mailbox, assignee_id=None, created_by_type="customer",
            created_by_id=customer, created_at=ts, primary_customer_id=customer,
            source_type="email", source_via="customer", user_updated_at=ts, modified_at=ts,
            waiting_since=ts, tag_ids=[rng.choice(tags)] if tags and rng.random() < 0.5 else [],
        )
        acc.next_number += 1
        conv.set_status(ts, "active", self._thread(conv, "customer", ts, "customer", customer))
        acc.add(conv)
        return {"conversation_id": cid}

    def _customer_reply(self, ts: int) -> Change | None:
        conv = self._pick(lambda c: c.status != "spam" and c.primary_customer_id is not None)
        if conv is None:
            return None
        thread = self._thread(conv, "customer", ts, "customer", conv.primary_customer_id)
        if conv.status in ("closed", "pending"):
            conv.set_status(ts, "active", thread)  # a customer's answer reopens it
        conv.waiting_since = ts
        self.acc.touch(conv, ts)
        return {"conversation_id": conv.id}

    def _user_reply(self, ts: int) -> Change | None:
        conv = self._pick(lambda c: c.status in ("active", "pending"))
        if conv is None:
            return None
        agent = conv.assignee_id if conv.assignee_id in self._listed() else self._agent()
        ttype = "message" if self.rng.random() < 0.07 else "reply"
        thread = self._thread(conv, ttype, ts, "user", agent)
        conv.set_status(ts, "pending" if self.rng.random() < 0.5 else "active", thread)
        conv.waiting_since = None
        conv.user_updated_at = ts
        self.acc.touch(conv, ts)
        return {"conversation_id": conv.id}

    def _note(self, ts: int) -> Change | None:
        conv = self._pick(lambda c: c.status != "spam")
        if conv is None:
            return None
        self._thread(conv, "note", ts, "user", self._agent())
        conv.user_updated_at = ts
        self.acc.touch(conv, ts)
        return {"conversation_id": conv.id}

    def _close_by(self, ts: int, closer: int, *, stamped: bool = True) -> Change | None:
        conv = self._pick(lambda c: c.status in ("active", "pending"))
        if conv is None:
            return None
        if closer == SYSTEM_CLOSER_ID:  # a workflow's automatic close
            setter = self._thread(conv, "lineitem", ts, "user", closer, action="workflow",
                                  action_text="Workflow closed the conversation")
        elif self.rng.random() < 0.4:  # a reply sent as closed
            setter = self._thread(conv, "reply", ts, "user", closer)
        else:
            setter = self._thread(conv, "lineitem", ts, "user", closer,
                                  action="changed-ticket-status", action_text="Marked as Closed")
        conv.set_status(ts, "closed", setter)
        conv.closed_by, conv.show_closed_by_user = closer, True
        conv.closed_at = ts if stamped else None
        conv.waiting_since = None
        if closer != SYSTEM_CLOSER_ID:
            conv.user_updated_at = ts
        self.acc.touch(conv, ts)
        return {"conversation_id": conv.id, "closed_by": closer}

    def _close(self, ts: int) -> Change | None:
        return self._close_by(ts, self._agent())

    def _system_close(self, ts: int) -> Change | None:
        return self._close_by(ts, SYSTEM_CLOSER_ID)

    def _close_without_closed_at(self, ts: int) -> Change | None:
        """Closed by a user, with its thread, but the API shows no ``closedAt``."""
        return self._close_by(ts, self._agent(), stamped=False)

    def _silent_close(self, ts: int) -> Change | None:
        """Closed without a thread in the conversation; ``closedAt`` says when."""
        conv = self._pick(lambda c: c.status in ("active", "pending"))
        if conv is None:
            return None
        conv.set_status(ts, "closed")
        conv.closed_by, conv.closed_at, conv.show_closed_by_user = self._agent(), ts, True
        conv.waiting_since = None
        conv.user_updated_at = ts
        self.acc.touch(conv, ts)
        return {"conversation_id": conv.id}

    def _silent_status(self, ts: int) -> Change | None:
        """A status change that leaves no thread and no time (a bulk action, an API
        client): to pending, to active, or to closed without ``closedAt``."""
        conv = self._pick(lambda c: c.status != "spam")
        if conv is None:
            return None
        new = self.rng.choice([s for s in ("active", "pending", "closed") if s != conv.status])
        conv.set_status(ts, new)
        if new == "closed":
            conv.closed_by, conv.closed_at, conv.show_closed_by_user = None, None, False
            conv.waiting_since = None
        self.acc.touch(conv, ts)
        return {"conversation_id": conv.id, "status": new}

    def _reopen(self, ts: int) -> Change | None:
        conv = self._pick(lambda c: c.status == "closed")
        if conv is None:
            return None
        agent = self._agent()
        if self.rng.random() < 0.5:  # the closing fields linger on some reopened ones
            conv.closed_by, conv.closed_at = None, None
        thread = self._thread(conv, "lineitem", ts, "user", agent,
                              action="changed-ticket-status", action_text="Marked as Active")
        conv.set_status(ts, "active", thread)
        conv.user_updated_at = ts
        self.acc.touch(conv, ts)
        return {"conversation_id": conv.id}

    def _reassign(self, ts: int) -> Change | None:
        conv = self._pick(lambda c: c.status != "spam")
        if conv is None:
            return None
        agent = None if self.rng.random() < 0.2 else self._agent()
        conv.assignee_id = agent
        self._thread(conv, "lineitem", ts, "user", self._agent(), action="assigned",
                     action_text="Assigned to a user" if agent else "Unassigned",
                     assigned_to=agent)
        conv.user_updated_at = ts
        self.acc.touch(conv, ts)
        return {"conversation_id": conv.id, "assignee_id": agent}

    def _retag(self, ts: int) -> Change | None:
        conv = self._pick()
        if conv is None or not self.acc.tags:
            return None
        if conv.tag_ids and self.rng.random() < 0.4:
            removed = self.rng.choice(conv.tag_ids)
            conv.tag_ids = [t for t in conv.tag_ids if t != removed]
            change = {"conversation_id": conv.id, "removed_tag": removed}
        else:
            free = [t for t in self.acc.tags if t not in conv.tag_ids]
            if not free:
                return None
            added = self.rng.choice(free)
            conv.tag_ids = [*conv.tag_ids, added]
            change = {"conversation_id": conv.id, "added_tag": added}
        self.acc.touch(conv, ts)  # modifiedAt only: userUpdatedAt stays
        return change

    def _rename_tag(self, ts: int) -> Change | None:
        if not self.acc.tags:
            return None
        tag = self.acc.tags[self.rng.choice(list(self.acc.tags))]
        tag.name = f"{tag.name.split(' (')[0]} ({ts % 10_000})"
        tag.slug = slugify(tag.name)
        tag.updated_at = ts
        self.acc.tag_version += 1
        self.acc.changed()
        return {"tag_id": tag.id, "name": tag.name}

    def _move(self, ts: int) -> Change | None:
        conv = self._pick()
        if conv is None or len(self.acc.mailboxes) < 2:
            return None
        target = self.rng.choice([m for m in self.acc.mailboxes if m != conv.mailbox_id])
        conv.mailbox_id = target
        self.acc.touch(conv, ts)  # modifiedAt only: userUpdatedAt stays
        return {"conversation_id": conv.id, "mailbox_id": target}

    def _spam(self, ts: int) -> Change | None:
        conv = self._pick(lambda c: c.status != "spam" and c.created_by_type == "customer")
        if conv is None:
            return None
        thread = self._thread(conv, "lineitem", ts, "user", self._agent(),
                              action="changed-ticket-status", action_text="Marked as Spam")
        conv.set_status(ts, "spam", thread)
        conv.waiting_since = None
        conv.user_updated_at = ts
        self.acc.touch(conv, ts)
        return {"conversation_id": conv.id}

    def _soft_delete(self, ts: int) -> Change | None:
        conv = self._pick(lambda c: c.state == "published")
        if conv is None:
            return None
        conv.state = "deleted"
        conv.user_updated_at = ts
        self.acc.touch(conv, ts)
        return {"conversation_id": conv.id}

    def _hard_delete(self, ts: int) -> Change | None:
        conv = self._pick()
        if conv is None:
            return None
        self.acc.remove(conv)
        self.acc.deleted_ids.add(conv.id)
        return {"conversation_id": conv.id}

    def _merge(self, ts: int) -> Change | None:
        source = self._pick()
        target = self._pick(lambda c: source is not None and c.id != source.id)
        if source is None or target is None:
            return None
        self.acc.remove(source)
        target.threads = sorted(target.threads + source.threads,
                                key=lambda t: (t.created_at, t.id))
        target.user_updated_at = ts
        self.acc.touch(target, ts)
        self.acc.merged[source.id] = target.id
        return {"conversation_id": source.id, "merged_into": target.id}

    # -- the other entities: their rules live in sandbox/extras.py --------------------------
    def _edit_customer(self, ts: int) -> Change | None:
        return self.extras.edit_customer(ts) if self.extras else None

    def _set_field(self, ts: int) -> Change | None:
        conv = self._pick(lambda c: c.state == "published")
        return self.extras.set_field(ts, conv) if self.extras and conv else None

    def _clear_field(self, ts: int) -> Change | None:
        conv = self._pick(lambda c: bool(c.custom_fields))
        return self.extras.clear_field(ts, conv) if self.extras and conv else None

    def _rate(self, ts: int) -> Change | None:
        conv = self._pick(lambda c: c.primary_customer_id is not None and any(
            t.author_type == "user" for t in c.threads))
        return self.extras.rate(ts, conv) if self.extras and conv else None

    def _team_change(self, ts: int) -> Change | None:
        return self.extras.team_change(ts) if self.extras else None

    def _listed(self) -> set[int]:
        return {uid for uid, u in self.acc.users.items() if u.listed}
