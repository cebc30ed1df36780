"""Every stream the loader knows, declared once.

A stream is one kind of Help Scout entity and the lake table its copies go to. The
rest of the loader (flag parsing, the lake's DDL, the run order, ``hs-load status``,
the COPY writer) reads this registry instead of keeping lists of its own, so adding
a stream means one :class:`Stream` entry here plus the code that reads it (a new
:class:`Kind` only when none of the existing readers fits).

This module imports only :mod:`loader.errors`, so every other module may import it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from loader.errors import UnknownStream


class Kind(Enum):
    """How a stream is read (each kind has one reader in :mod:`loader.extract`)."""

    WINDOWED = "windowed"      # modifiedAt windows, resumable from a watermark
    LISTING = "listing"        # one full listing, every page, as one unit
    PER_PARENT = "per_parent"  # one full listing per entity of the parent stream


@dataclass(frozen=True)
class Stream:
    """One stream: what to ask the API, where its copies go, how it is read."""

    name: str              # the --streams name, and load_windows.stream
    path: str              # API path; ``{parent_id}`` for a per-parent stream
    key: str               # the list's key under ``_embedded`` in a HAL page
    table: str             # the lake table (see loader/schema.py)
    kind: Kind
    parent: str | None = None          # per-parent: the stream whose ids it lists under
    parent_column: str | None = None   # per-parent: lake column that keeps the parent id
    # Windowed: every value of ``status`` to list (whether ``all`` includes spam is
    # unconfirmed; a duplicate costs nothing, a lost spam conversation would).
    statuses: tuple[str, ...] = ()
    embed: str | None = None           # ``embed=`` asked for on windowed listings
    description: str = ""

    def path_for(self, parent_id: int) -> str:
        return self.path.format(parent_id=parent_id)


STREAMS: tuple[Stream, ...] = (
    # Order is the run order: a parent before its children, the long windowed
    # stream last so the quick listings are in the lake even if it is interrupted.
    Stream("tags", "tags", "tags", "tags", Kind.LISTING, description="every tag"),
    Stream("mailboxes", "mailboxes", "mailboxes", "mailboxes", Kind.LISTING,
           description="every mailbox"),
    Stream("folders", "mailboxes/{parent_id}/folders", "folders", "folders", Kind.PER_PARENT,
           parent="mailboxes", parent_column="mailbox_id",
           description="every mailbox's folders (loads mailboxes too)"),
    Stream("users", "users", "users", "users", Kind.LISTING, description="every user"),
    Stream("conversations", "conversations", "conversations", "conversations", Kind.WINDOWED,
           statuses=("all", "spam"), embed="threads",
           description="conversations with every thread, in modifiedAt windows"),
)

BY_NAME: dict[str, Stream] = {stream.name: stream for stream in STREAMS}
DEFAULT_STREAMS: tuple[str, ...] = tuple(stream.name for stream in STREAMS)
CONVERSATIONS = BY_NAME["conversations"]


def stream(name: str) -> Stream:
    """The registered stream called ``name``."""
    return BY_NAME[name]


def for_table(table: str) -> Stream | None:
    """The stream whose copies go to ``table`` (None for a table no stream writes)."""
    return next((s for s in STREAMS if s.table == table), None)


def select(names: tuple[str, ...]) -> tuple[Stream, ...]:
    """The chosen streams plus the parents they need, in run order."""
    unknown = [name for name in names if name not in BY_NAME]
    if unknown:
        raise UnknownStream(f"unknown stream {unknown[0]!r}; choose from "
                            + ", ".join(DEFAULT_STREAMS))
    wanted = set(names)
    for name in names:
        parent = BY_NAME[name].parent
        while parent is not None:
            wanted.add(parent)
            parent = BY_NAME[parent].parent
    return tuple(s for s in STREAMS if s.name in wanted)
