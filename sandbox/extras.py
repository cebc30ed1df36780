"""The account's other entities: customer profiles, teams, custom fields, ratings.

Kept apart from the conversation core (``generate``/``evolve``/``render``) so the
hot paths stay as they are; generated after the conversations from a random
generator of its own, so adding these entities changed no conversation.

What is planted, and why a loader must care:

* **Customers** (``GET /v2/customers``): every customer of the account, with an
  organization, job title, location, emails and phones, ``createdAt`` before their
  first conversation and ``updatedAt`` later. The listing filters (``modifiedSince``,
  exclusive) and sorts (``sortField=modifiedAt``) on a hidden modifiedAt that is
  never earlier than ``updatedAt`` and on one customer in ten is later (an edit the
  JSON does not show): a loader that cuts on ``updatedAt`` is late, never wrong.
  Edits after history are stamped with the wall clock; a name or email edit shows in
  every conversation served afterwards without modifying it (like a tag rename).
* **Teams** (``/v2/teams``, ``/v2/teams/{id}/members``): a few teams of listed users;
  membership changes move the team's ``updatedAt``.
* **Custom fields** (``/v2/mailboxes/{id}/fields``): the dominant mailbox's text field
  "Contract number" and a dropdown "Category" in every mailbox, set on about a third
  of conversations (``value`` the option id, ``text`` its label). Setting, changing or
  clearing a value is a user edit: it moves userUpdatedAt and modifiedAt.
* **Ratings** (``GET /v2/reports/happiness/ratings``, a Reports API endpoint): on a
  share of user replies, mostly great, some okay, a few not good, a third with a
  comment; a customer may change a rating within a week. The report filters on the rating's
  creation time (``start`` inclusive, ``end`` exclusive), 50 per page, and carries no
  id of its own: the rated thread identifies a rating. A hard-deleted conversation's
  ratings leave the report; a merged-away one's keep their conversation id and number.
  On a plan without reports (``plan="standard"``) every ``/v2/reports`` path answers
  403.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

from sandbox import vocabulary as vocab
from sandbox.account import Account
from sandbox.generate import AI_USER_ID
from sandbox.model import SYSTEM_CLOSER_ID, Conversation, iso, parse_iso

DAY = 86_400
PAGE_SIZE = 50
RERATE_DAYS = 7  # a rating can be changed this long after it was given
PLANS = ("standard", "plus", "pro")
REPORT_PLANS = frozenset({"plus", "pro"})
CONTRACT_FIELD_ID = 9001  # the text field the generator already sets
CATEGORY_OPTIONS = ("Billing", "Contract change", "Self-consumption", "Power outage", "Other")
TEAM_NAMES = ("Billing team", "Contracts team", "Self-consumption team", "Night shift")
RATINGS = ("great", "okay", "not_good")
RATING_CODES = {"great": 1, "okay": 2, "not_good": 3}  # the report's ratingId
RATING_FILTERS = {"all": None, "great": "great", "ok": "okay", "not-good": "not_good"}
COMMENTS = ("Thanks, very quick!", "Moltes gràcies", "Still waiting for the invoice fix",
            "Muy amable", "Not what I asked", "Perfect", "Could have been faster")
ORGANIZATIONS = ("", "", "", "Cooperativa del Camp", "Escola Pia", "Ajuntament de Vic",
                 "Forn Cal Pep", "Acme Energia SL", "Masia Can Roca")
JOB_TITLES = ("", "", "Owner", "Manager", "Treasurer", "Teacher")
LOCATIONS = ("Girona", "Barcelona", "Lleida", "Tarragona", "València", "Palma", "")


@dataclass(slots=True)
class Profile:
    """What ``/v2/customers`` shows beyond the embedded person (id, names, email)."""

    id: int
    organization: str
    job_title: str
    location: str
    created_at: int
    updated_at: int
    modified_at: int  # hidden: filters and sorts the listing
    extra_emails: tuple[str, ...] = ()
    phone: str | None = None


@dataclass(slots=True)
class Team:
    id: int
    name: str
    created_at: int
    updated_at: int
    member_ids: list[int] = field(default_factory=list)


@dataclass(slots=True)
class FieldDef:
    id: int
    mailbox_id: int
    name: str
    type: str  # singleline | dropdown (as the 2.0 API writes them)
    order: int
    required: bool = False
    options: tuple[tuple[int, str], ...] = ()  # (option id, label), in display order


@dataclass(slots=True)
class Rating:
    thread_id: int
    conversation_id: int
    number: int
    mailbox_id: int
    conversation_type: str
    thread_created_at: int
    customer_id: int
    user_id: int
    rating: str  # great | okay | not_good
    comments: str
    created_at: int
    modified_at: int


class Extras:
    """Customer profiles, teams, custom fields and ratings of one account.

    Callers hold ``acc.lock``, like for the account itself."""

    def __init__(self, acc: Account, seed: int, start: int, now: int,
                 plan: str = "plus") -> None:
        self.acc = acc
        self.plan = self.check_plan(plan)
        self.rng = random.Random(seed * 104_729 + 17)
        self.profiles: dict[int, Profile] = {}
        self.teams: dict[int, Team] = {}
        self.fields: dict[int, FieldDef] = {}
        self.ratings: dict[int, Rating] = {}  # by thread id
        self.revision = 0
        self._sorted: dict[tuple[str, str], tuple[int, list[int]]] = {}
        self._generate(start, now)

    @staticmethod
    def check_plan(plan: str) -> str:
        if plan not in PLANS:
            raise ValueError(f"plan must be one of {', '.join(PLANS)}")
        return plan

    @property
    def reports_available(self) -> bool:
        return self.plan in REPORT_PLANS

    # -- generation ------------------------------------------------------------------------
    def _generate(self, start: int, now: int) -> None:
        rng, acc = self.rng, self.acc
        first_seen: dict[int, int] = {}
        for conv in acc.conversations.values():
            if conv.primary_customer_id is not None:
                cid = conv.primary_customer_id
                first_seen[cid] = min(first_seen.get(cid, conv.created_at), conv.created_at)
        for cid in sorted(acc.customers):
            created = first_seen.get(cid, start + rng.randrange(max(1, now - start))) \
                - rng.randrange(30 * DAY)
            updated = created + rng.randrange(max(1, min(200 * DAY, now - created)))
            modified = updated if rng.random() >= 0.1 else min(now, updated + rng.randrange(
                60, 20 * DAY))
            phone = f"+34 6{rng.randrange(10**8):08d}" if rng.random() < 0.3 else None
            self.profiles[cid] = Profile(cid, rng.choice(ORGANIZATIONS), rng.choice(JOB_TITLES),
                                         rng.choice(LOCATIONS), created, updated, modified,
                                         phone=phone)
        listed = sorted(uid for uid, u in acc.users.items() if u.listed)
        for i, name in enumerate(TEAM_NAMES):
            created = start - (400 - 50 * i) * DAY
            members = sorted(rng.sample(listed, min(len(listed), rng.randrange(2, 6))))
            if i == len(TEAM_NAMES) - 1:
                members = []  # a team nobody is in yet: still listed
            self.teams[700_001 + i * 13] = Team(700_001 + i * 13, name, created,
                                                created + rng.randrange(300 * DAY), members)
        dominant = max(acc.mailboxes, key=lambda m: sum(
            1 for c in acc.conversations.values() if c.mailbox_id == m)) if acc.mailboxes else None
        for mid in sorted(acc.mailboxes):
            if mid == dominant:
                self.fields[CONTRACT_FIELD_ID] = FieldDef(CONTRACT_FIELD_ID, mid,
                                                          "Contract number", "singleline", 2)
            fid = 9100 + len(self.fields)
            options = tuple((fid * 10 + k, label) for k, label in enumerate(CATEGORY_OPTIONS))
            self.fields[fid] = FieldDef(fid, mid, "Category", "dropdown", 1,
                                        required=False, options=options)
        for conv in sorted(acc.conversations.values(), key=lambda c: c.id):
            if rng.random() < 0.35:
                self._set_category(conv)
            self._rate_history(conv, now)

    def _rate_history(self, conv: Conversation, now: int) -> None:
        rng = self.rng
        for thread in conv.threads:
            if (thread.author_type == "user" and thread.type in ("reply", "message")
                    and thread.author_id not in (SYSTEM_CLOSER_ID, AI_USER_ID)
                    and conv.primary_customer_id is not None and rng.random() < 0.12):
                at = min(now, thread.created_at + rng.randrange(600, 3 * DAY))
                self._add_rating(conv, thread.id, thread.created_at, thread.author_id, at)

    def _add_rating(self, conv: Conversation, thread_id: int, thread_at: int, user_id: int,
                    at: int) -> Rating:
        rng = self.rng
        value = rng.choices(RATINGS, weights=(70, 18, 12))[0]
        comments = rng.choice(COMMENTS) if rng.random() < 0.3 else ""
        rating = Rating(thread_id, conv.id, conv.number, conv.mailbox_id, conv.type, thread_at,
                        conv.primary_customer_id or 0, user_id, value, comments, at, at)
        self.ratings[thread_id] = rating
        self.revision += 1
        return rating

    def _category_field(self, mailbox_id: int) -> FieldDef | None:
        return next((f for f in self.fields.values()
                     if f.mailbox_id == mailbox_id and f.type == "dropdown"), None)

    def _set_category(self, conv: Conversation) -> bool:
        definition = self._category_field(conv.mailbox_id)
        if definition is None:
            return False
        option_id, label = self.rng.choice(definition.options)
        kept = tuple(f for f in conv.custom_fields if f[0] != definition.id)
        new = (definition.id, definition.name, str(option_id), label)
        if new in conv.custom_fields:
            return False
        conv.custom_fields = tuple(sorted((*kept, new)))
        return True

    # -- changes (stamped by the caller with the wall-clock second) --------------------------
    def edit_customer(self, ts: int, customer_id: int | None = None) -> dict[str, Any] | None:
        rng, acc = self.rng, self.acc
        if not self.profiles:
            return None
        cid = customer_id if customer_id is not None else rng.choice(sorted(self.profiles))
        profile = self.profiles[cid]
        what = rng.choice(("organization", "organization", "job", "location", "name",
                           "email", "hidden"))
        if what == "organization":
            profile.organization = rng.choice([o for o in ORGANIZATIONS
                                               if o != profile.organization])
        elif what == "job":
            profile.job_title = rng.choice([j for j in JOB_TITLES if j != profile.job_title])
        elif what == "location":
            profile.location = rng.choice([c for c in LOCATIONS if c != profile.location])
        elif what == "name":
            person = acc.customers[cid]
            person.last = rng.choice([n for n in vocab.LAST_NAMES if n != person.last])
            self._reshown(cid)
        elif what == "email":
            profile.extra_emails = (*profile.extra_emails,
                                    f"alt{len(profile.extra_emails) + 1}.{cid}@example.org")
        if what != "hidden":
            profile.updated_at = max(profile.updated_at, ts)
        profile.modified_at = max(profile.modified_at, ts)
        self.revision += 1
        return {"customer_id": cid, "edit": what}

    def _reshown(self, cid: int) -> None:
        """A customer's name shows in their conversations: re-render them, unmodified."""
        for conv in self.acc.conversations.values():
            if conv.primary_customer_id == cid or conv.created_by_id == cid:
                conv.version += 1
        self.acc.changed()

    def set_field(self, ts: int, conv: Conversation) -> dict[str, Any] | None:
        if not self._set_category(conv):
            return None
        self._user_edit(conv, ts)
        return {"conversation_id": conv.id, "field": "Category"}

    def clear_field(self, ts: int, conv: Conversation) -> dict[str, Any] | None:
        if not conv.custom_fields:
            return None
        dropped = self.rng.choice(conv.custom_fields)
        conv.custom_fields = tuple(f for f in conv.custom_fields if f != dropped)
        self._user_edit(conv, ts)
        return {"conversation_id": conv.id, "field_id": dropped[0]}

    def _user_edit(self, conv: Conversation, ts: int) -> None:
        conv.user_updated_at = max(conv.user_updated_at, ts)
        self.acc.touch(conv, ts)

    def rate(self, ts: int, conv: Conversation) -> dict[str, Any] | None:
        """A customer rates a reply of ``conv``, or changes a rating they gave; neither
        modifies the conversation (its key is ``rated_conversation_id``, not
        ``conversation_id``, for that reason)."""
        # A customer changes their mind soon after, through the same email link.
        rated = [r for r in self.ratings.values()
                 if r.conversation_id == conv.id and r.created_at >= ts - RERATE_DAYS * DAY]
        if rated and self.rng.random() < 0.3:
            rating = self.rng.choice(rated)
            rating.rating = self.rng.choice([v for v in RATINGS if v != rating.rating])
            rating.modified_at = max(rating.modified_at, ts)
            self.revision += 1
            return {"rated_conversation_id": conv.id, "thread_id": rating.thread_id,
                    "rerated": True}
        replies = [t for t in conv.threads
                   if t.author_type == "user" and t.type in ("reply", "message")
                   and t.author_id not in (SYSTEM_CLOSER_ID, AI_USER_ID)
                   and t.id not in self.ratings]
        if not replies or conv.primary_customer_id is None:
            return None
        thread = self.rng.choice(replies)
        self._add_rating(conv, thread.id, thread.created_at, thread.author_id, ts)
        return {"rated_conversation_id": conv.id, "thread_id": thread.id, "rerated": False}

    def team_change(self, ts: int) -> dict[str, Any] | None:
        rng = self.rng
        if not self.teams:
            return None
        team = self.teams[rng.choice(sorted(self.teams))]
        listed = sorted(uid for uid, u in self.acc.users.items() if u.listed)
        outside = [uid for uid in listed if uid not in team.member_ids]
        if team.member_ids and (not outside or rng.random() < 0.4):
            user_id = rng.choice(team.member_ids)
            team.member_ids.remove(user_id)
            added = False
        elif outside:
            user_id = rng.choice(outside)
            team.member_ids = sorted((*team.member_ids, user_id))
            added = True
        else:
            return None
        team.updated_at = max(team.updated_at, ts)
        self.revision += 1
        return {"team_id": team.id, "user_id": user_id, "added": added}

    # -- rendering ----------------------------------------------------------------------------
    def customer(self, cid: int, base: str) -> dict[str, Any]:
        person, profile = self.acc.customers[cid], self.profiles[cid]
        emails = [] if person.email is None else [{"id": cid * 10, "value": person.email,
                                                   "type": "work"}]
        emails += [{"id": cid * 10 + i, "value": e, "type": "other"}
                   for i, e in enumerate(profile.extra_emails, start=1)]
        phones = [] if profile.phone is None else [{"id": cid * 10, "value": profile.phone,
                                                    "type": "mobile"}]
        return {
            "id": cid, "firstName": person.first, "lastName": person.last, "gender": "unknown",
            "jobTitle": profile.job_title, "location": profile.location,
            "organization": profile.organization, "photoType": "unknown", "photoUrl": "",
            "age": "", "background": "", "createdAt": iso(profile.created_at),
            "updatedAt": iso(profile.updated_at),
            "_embedded": {"emails": emails, "phones": phones, "chats": [],
                          "social_profiles": [], "websites": [], "address": {}},
            "_links": {"self": {"href": f"{base}/customers/{cid}"}},
        }

    def team(self, team: Team, base: str) -> dict[str, Any]:
        initials = "".join(word[0] for word in team.name.split()[:2]).upper()
        return {"id": team.id, "name": team.name, "timezone": "Europe/Madrid",
                "photoUrl": "", "createdAt": iso(team.created_at),
                "updatedAt": iso(team.updated_at), "mention": team.name.split()[0].lower(),
                "initials": initials,
                "_links": {"self": {"href": f"{base}/teams/{team.id}"},
                           "members": {"href": f"{base}/teams/{team.id}/members"}}}

    def field_defs(self, mailbox_id: int) -> list[dict[str, Any]]:
        out = []
        for f in sorted(self.fields.values(), key=lambda d: (d.order, d.id)):
            if f.mailbox_id == mailbox_id:
                out.append({"id": f.id, "required": f.required, "order": f.order,
                            "type": f.type, "name": f.name,
                            "options": [{"id": oid, "order": k + 1, "label": label}
                                        for k, (oid, label) in enumerate(f.options)]})
        return out

    def rating_item(self, r: Rating) -> dict[str, Any]:
        customer = self.acc.customers.get(r.customer_id)
        user = self.acc.users.get(r.user_id)
        return {
            "number": r.number, "id": r.conversation_id, "type": r.conversation_type,
            "threadid": r.thread_id, "threadCreatedAt": iso(r.thread_created_at),
            "ratingId": RATING_CODES[r.rating], "ratingCustomerId": r.customer_id,
            "ratingComments": r.comments, "ratingCreatedAt": iso(r.created_at),
            "ratingCustomerName": f"{customer.first} {customer.last}" if customer else "",
            "ratingUserId": r.user_id,
            "ratingUserName": f"{user.person.first} {user.person.last}" if user else "",
        }

    def live_ratings(self) -> list[Rating]:
        """Ratings the report still shows (hard-deleted conversations' are gone)."""
        gone = self.acc.deleted_ids
        return [r for r in self.ratings.values() if r.conversation_id not in gone]

    # -- listings -------------------------------------------------------------------------------
    def customer_ids(self, params: dict[str, str]) -> list[int]:
        """``/v2/customers`` order for these parameters (filters applied)."""
        from sandbox.listing import ApiError

        for name in params:
            if name not in ("page", "modifiedSince", "sortField", "sortOrder", "mailbox",
                            "firstName", "lastName"):
                raise ApiError(400, f"unsupported parameter {name}", name)
        field_name = params.get("sortField", "createdAt")
        order = params.get("sortOrder", "desc")
        keys = {"createdAt": lambda p: p.created_at, "modifiedAt": lambda p: p.modified_at,
                "firstName": lambda p: self.acc.customers[p.id].first.lower(),
                "lastName": lambda p: self.acc.customers[p.id].last.lower()}
        if field_name not in keys:
            raise ApiError(400, f"sortField must be one of {', '.join(keys)}", "sortField")
        if order not in ("asc", "desc"):
            raise ApiError(400, "sortOrder must be asc or desc", "sortOrder")
        cached = self._sorted.get((field_name, order))
        if cached is None or cached[0] != (self.revision, self.acc.revision):
            key = keys[field_name]
            ids = [p.id for p in sorted(self.profiles.values(), key=lambda p: (key(p), p.id),
                                        reverse=order == "desc")]
            cached = ((self.revision, self.acc.revision), ids)
            self._sorted[(field_name, order)] = cached  # type: ignore[assignment]
        ids = cached[1]
        since = params.get("modifiedSince")
        if since is not None:
            try:
                low = parse_iso(since)
            except ValueError:
                raise ApiError(400, "modifiedSince must be YYYY-MM-DDTHH:MM:SSZ",
                               "modifiedSince") from None
            ids = [i for i in ids if self.profiles[i].modified_at > low]
        for name, attr in (("firstName", "first"), ("lastName", "last")):
            if name in params:
                ids = [i for i in ids
                       if getattr(self.acc.customers[i], attr).lower() == params[name].lower()]
        if "mailbox" in params:
            try:
                mailbox = int(params["mailbox"])
            except ValueError:
                raise ApiError(400, "mailbox must be a number", "mailbox") from None
            seen = {c.primary_customer_id for c in self.acc.conversations.values()
                    if c.mailbox_id == mailbox}
            ids = [i for i in ids if i in seen]
        return ids

    def ratings_report(self, params: dict[str, str]) -> dict[str, Any]:
        from sandbox.listing import ApiError

        for name in ("start", "end"):
            if name not in params:
                raise ApiError(400, f"{name} is required", name)
        try:
            start, end = parse_iso(params["start"]), parse_iso(params["end"])
        except ValueError:
            raise ApiError(400, "start and end must be YYYY-MM-DDTHH:MM:SSZ", "start") from None
        if end < start:
            raise ApiError(400, "end must not be before start", "end")
        try:
            page = int(params.get("page", "1"))
        except ValueError:
            raise ApiError(400, "page must be a number", "page") from None
        if page < 1:
            raise ApiError(400, "page must be >= 1", "page")
        wanted = params.get("rating", "all")
        if wanted not in RATING_FILTERS:
            raise ApiError(400, "rating must be great, ok, all or not-good", "rating")
        sort = params.get("sortField", "number")
        order = params.get("sortOrder", "DESC").upper()
        keys = {"number": lambda r: r.number, "modifiedAt": lambda r: r.modified_at,
                "rating": lambda r: RATING_CODES[r.rating]}
        if sort not in keys or order not in ("ASC", "DESC"):
            raise ApiError(400, "sortField must be number, modifiedAt or rating; sortOrder "
                           "ASC or DESC", "sortField")
        mailboxes = {int(m) for m in params["mailboxes"].split(",") if m.strip().isdigit()} \
            if params.get("mailboxes") else None
        chosen = [r for r in self.live_ratings()
                  if start <= r.created_at < end
                  and (RATING_FILTERS[wanted] is None or r.rating == RATING_FILTERS[wanted])
                  and (mailboxes is None or r.mailbox_id in mailboxes)]
        chosen.sort(key=lambda r: (keys[sort](r), r.thread_id), reverse=order == "DESC")
        pages = max(1, math.ceil(len(chosen) / PAGE_SIZE))
        items = chosen[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
        return {"facets": {}, "results": [self.rating_item(r) for r in items],
                "page": page, "count": len(chosen), "pages": pages}

    # -- ground truth ------------------------------------------------------------------------
    def truth(self, base: str) -> dict[str, Any]:
        live = self.acc.deleted_ids
        return {
            "customers": {cid: self.customer(cid, base) for cid in sorted(self.profiles)},
            "customer_modified_at": {cid: p.modified_at for cid, p in self.profiles.items()},
            "teams": {t.id: self.team(t, base) for t in self.teams.values()},
            "team_members": {t.id: sorted(t.member_ids) for t in self.teams.values()},
            "fields": {mid: self.field_defs(mid) for mid in sorted(self.acc.mailboxes)},
            "ratings": {r.thread_id: {**self.rating_item(r), "rating": r.rating,
                                      "modifiedAt": iso(r.modified_at)}
                        for r in self.ratings.values() if r.conversation_id not in live},
            "plan": self.plan,
        }
