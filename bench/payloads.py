"""Realistic conversation payloads at any volume, rendered fast enough for COPY.

A sandbox account's ground truth gives a few thousand genuine API payloads (threads,
bodies, tags, people: about 3 KB and up each). To fill a lake with a million
conversations they are replicated: each copy gets its own conversation id, number,
thread ids and dates. Serialising a million dicts with :func:`json.dumps` would
make the bench measure Python, so each source payload is serialised once into a
:class:`Template` (literal text with slots for what changes) and a copy costs one
``str.join``. Dates move by whole days, so a slot only swaps the date part.

The text is already escaped for PostgreSQL's ``COPY ... from stdin`` text format.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from loader.lake import copy_escape

_ISO_SECOND = re.compile(r"^(\d{4}-\d{2}-\d{2})(T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z)$")
_SLOT = re.compile(r'"@@V(\d+)@@"|@@I(\d+)@@')
_EPOCH = date(1970, 1, 1)

#: Statuses an older copy of a conversation is given, so versions really differ.
EARLIER_STATUS = {"closed": "active", "active": "pending", "pending": "active", "spam": "active"}


@dataclass(frozen=True)
class Slot:
    kind: str  # id | number | thread | date | status
    arg: Any = None  # thread index, or (day number, time-of-day suffix) for dates


@dataclass(frozen=True)
class Template:
    """One source payload, serialised, with slots for what each copy changes."""

    literals: tuple[str, ...]  # len(slots) + 1 pieces of COPY-escaped JSON
    slots: tuple[Slot, ...]
    status: str
    thread_count: int

    @property
    def last_day(self) -> int:
        """The latest day (since 1970) any of its dates falls on: its last activity."""
        return max((slot.arg[0] for slot in self.slots if slot.kind == "date"), default=0)

    def render(self, conversation_id: int, number: int, first_thread_id: int,
               day_shift: int, status: str, day_text: DayText) -> str:
        """The payload of one copy as COPY-escaped JSON text."""
        parts = [self.literals[0]]
        for slot, literal in zip(self.slots, self.literals[1:], strict=True):
            kind = slot.kind
            if kind == "date":
                day, suffix = slot.arg
                parts.append(f'"{day_text(day + day_shift)}{suffix}"')
            elif kind == "thread":
                parts.append(str(first_thread_id + slot.arg))
            elif kind == "id":
                parts.append(str(conversation_id))
            elif kind == "number":
                parts.append(str(number))
            else:
                parts.append(f'"{status}"')
            parts.append(literal)
        return "".join(parts)


class DayText:
    """Day number since 1970 -> ``YYYY-MM-DD``, memoised (a few thousand distinct days)."""

    def __init__(self) -> None:
        self._cache: dict[int, str] = {}

    def __call__(self, day: int) -> str:
        text = self._cache.get(day)
        if text is None:
            text = (_EPOCH + timedelta(days=day)).isoformat()
            self._cache[day] = text
        return text


def build_template(payload: Mapping[str, Any]) -> Template:
    """Turn one API conversation payload into a :class:`Template`."""
    import json

    slots: list[Slot] = []
    conversation_id = payload["id"]
    link_id = f"/conversations/{conversation_id}"

    def value_slot(slot: Slot) -> str:
        slots.append(slot)
        return f"@@V{len(slots) - 1}@@"

    def walk(node: Any, path: tuple[str, ...]) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                here = (*path, key)
                if here == ("id",):
                    out[key] = value_slot(Slot("id"))
                elif here == ("number",):
                    out[key] = value_slot(Slot("number"))
                elif here == ("status",):
                    out[key] = value_slot(Slot("status"))
                else:
                    out[key] = walk(value, here)
            return out
        if isinstance(node, list):
            if path == ("_embedded", "threads"):
                return [walk_thread(index, thread) for index, thread in enumerate(node)]
            return [walk(item, path) for item in node]
        if isinstance(node, str):
            match = _ISO_SECOND.match(node)
            if match:
                day = (date.fromisoformat(match.group(1)) - _EPOCH).days
                return value_slot(Slot("date", (day, match.group(2))))
            if link_id in node:
                slots.append(Slot("id"))
                return node.replace(link_id, f"/conversations/@@I{len(slots) - 1}@@")
        return node

    def walk_thread(index: int, thread: Any) -> Any:
        if not isinstance(thread, dict):
            return walk(thread, ())
        copy = walk({k: v for k, v in thread.items() if k != "id"}, ("thread",))
        if "id" in thread:
            copy = {"id": value_slot(Slot("thread", index)), **copy}
        return copy

    text = copy_escape(json.dumps(walk(payload, ()), separators=(", ", ": ")))
    # Slots were numbered in creation order, which is not text order; reorder.
    pieces = _SLOT.split(text)
    literals = [pieces[0]]
    ordered: list[Slot] = []
    for i in range(1, len(pieces), 3):
        ordered.append(slots[int(pieces[i] or pieces[i + 1])])
        literals.append(pieces[i + 2])
    threads = (payload.get("_embedded") or {}).get("threads") or []
    return Template(tuple(literals), tuple(ordered), str(payload.get("status")), len(threads))


def check_template(template: Template, payload: Mapping[str, Any]) -> None:
    """Render a copy and make sure it is the payload with only the planned changes.

    Cheap insurance that the slot surgery on the serialised text kept valid JSON.
    """
    import json

    text = template.render(7, 8, 900, -1, template.status, DayText())
    copy = json.loads(text.replace("\\\\", "\\"))
    threads = copy.get("_embedded", {}).get("threads") or []
    if (copy.get("id"), copy.get("number")) != (7, 8) or set(copy) != set(payload) \
            or [t.get("id") for t in threads] != [900 + i for i in range(len(threads))]:
        raise ValueError(f"payload template of conversation {payload.get('id')} is broken")


def build_templates(payloads: Iterable[Mapping[str, Any]]) -> list[Template]:
    """Templates of every payload, in a stable order (by conversation id)."""
    templates = []
    for payload in sorted(payloads, key=lambda p: p["id"]):
        template = build_template(payload)
        check_template(template, payload)
        templates.append(template)
    return templates


def day_number(moment: datetime) -> int:
    return (moment.astimezone(timezone.utc).date() - _EPOCH).days
