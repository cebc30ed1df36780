"""The account's current state and the indexes that keep listings fast.

Every mutation goes through :meth:`Account.touch`, which moves the hidden
modifiedAt (and its index), bumps the record's cache version and the account's
revision; listing caches key on that revision.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, insort

from sandbox.model import Conversation, Mailbox, Person, Tag, User


class Account:
    """All records of one synthetic Help Scout account (callers hold ``lock``)."""

    def __init__(self, internal_domain: str, now: int) -> None:
        self.internal_domain = internal_domain
        self.conversations: dict[int, Conversation] = {}
        self.customers: dict[int, Person] = {}
        self.users: dict[int, User] = {}
        self.tags: dict[int, Tag] = {}
        self.mailboxes: dict[int, Mailbox] = {}
        self.deleted_ids: set[int] = set()
        self.merged: dict[int, int] = {}
        self.last_stamp = now
        self.revision = 0
        self.tag_version = 0  # renames change every conversation's embedded tag copy
        self.next_conversation_id = 1
        self.next_number = 1
        self.next_thread_id = 1
        self.next_tag_id = 1
        self.lock = threading.RLock()
        self._mod_index: list[tuple[int, int]] = []
        self._created_index: list[tuple[int, int]] = []
        self._id_list: list[int] | None = None

    def build_indexes(self) -> None:
        """(Re)build the sorted (modifiedAt, id) and (createdAt, id) indexes."""
        convs = self.conversations.values()
        self._mod_index = sorted((c.modified_at, c.id) for c in convs)
        self._created_index = sorted((c.created_at, c.id) for c in convs)
        self._id_list = None
        self.revision += 1

    def add(self, conv: Conversation) -> None:
        self.conversations[conv.id] = conv
        insort(self._mod_index, (conv.modified_at, conv.id))
        insort(self._created_index, (conv.created_at, conv.id))
        self._id_list = None
        self.revision += 1

    def remove(self, conv: Conversation) -> None:
        del self.conversations[conv.id]
        self._drop(self._mod_index, (conv.modified_at, conv.id))
        self._drop(self._created_index, (conv.created_at, conv.id))
        self._id_list = None
        self.revision += 1

    def touch(self, conv: Conversation, stamp: int) -> None:
        """Record that ``conv`` changed at ``stamp``: the hidden modifiedAt moves."""
        self._drop(self._mod_index, (conv.modified_at, conv.id))
        conv.modified_at = max(conv.modified_at, stamp)
        insort(self._mod_index, (conv.modified_at, conv.id))
        conv.version += 1
        self.revision += 1

    def id_list(self) -> list[int]:
        """Current conversation ids, in id order (cached until one is added or removed)."""
        if self._id_list is None:
            self._id_list = sorted(self.conversations)
        return self._id_list

    def changed(self) -> None:
        """A change that is not a conversation's (a tag rename): caches must refresh."""
        self.revision += 1

    @staticmethod
    def _drop(index: list[tuple[int, int]], key: tuple[int, int]) -> None:
        pos = bisect_left(index, key)
        if pos < len(index) and index[pos] == key:
            del index[pos]

    def ids_between(self, field: str, low: int | None, high: int | None) -> list[int]:
        """Ids with low <= field <= high (None = open bound), ordered by (field, id);
        ``field`` is ``modifiedAt`` or ``createdAt``."""
        index = self._index(field)
        start, stop = self._span(index, low, high)
        return [cid for _, cid in index[start:stop]]

    def count_between(self, field: str, low: int | None, high: int | None) -> int:
        start, stop = self._span(self._index(field), low, high)
        return stop - start

    def _index(self, field: str) -> list[tuple[int, int]]:
        return self._mod_index if field == "modifiedAt" else self._created_index

    @staticmethod
    def _span(index: list[tuple[int, int]], low: int | None,
              high: int | None) -> tuple[int, int]:
        start = 0 if low is None else bisect_left(index, (low, -1))
        stop = len(index) if high is None else bisect_left(index, (high + 1, -1))
        return start, stop

    def person(self, kind: str, pid: int) -> Person:
        """The customer or user ``pid`` (users include unlisted ones and the closer)."""
        if kind == "user":
            return self.users[pid].person
        return self.customers[pid]
