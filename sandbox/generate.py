"""Generate an account's history from a seed, a size and a start date, up to ``now``.

Deterministic for a given (seed, size, start, now). Shapes that analytics and a
loader must survive are planted on purpose: a dominant mailbox, weekday and
hour-of-day seasonality with month-end peaks, mass-mailing reply waves, auto-replies
in six languages, long slow conversations, the system closer, missing optional
fields in many combinations, unicode, very long and null subjects, merges and
hard deletes.
"""

from __future__ import annotations

import calendar
import random
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import accumulate

from sandbox import vocabulary as vocab
from sandbox.account import Account
from sandbox.model import (
    SYSTEM_CLOSER_EMAIL,
    SYSTEM_CLOSER_ID,
    Conversation,
    Mailbox,
    Person,
    Tag,
    Thread,
    User,
)

AI_USER_ID = 2
HOUR = 3600
DAY = 86400
FOLDER_TYPES = ("open", "mytickets", "assigned", "closed", "spam", "drafts")
FOLDER_NAMES = {
    "open": "Unassigned", "mytickets": "Mine", "assigned": "Assigned",
    "closed": "Closed", "spam": "Spam", "drafts": "Drafts",
}
WEEKDAY_WEIGHT = (1.25, 1.1, 1.0, 1.0, 0.85, 0.2, 0.12)
HOUR_WEIGHT = (
    0.03, 0.02, 0.02, 0.02, 0.03, 0.06, 0.2, 0.55, 1.0, 1.1, 1.1, 1.0,
    0.8, 0.75, 0.9, 0.85, 0.7, 0.5, 0.35, 0.3, 0.25, 0.18, 0.1, 0.05,
)


@dataclass(frozen=True)
class Spec:
    seed: int
    size: int
    start: int  # epoch seconds
    now: int
    internal_domain: str = "somenergia-sandbox.coop"
    n_users: int = 12
    n_tags: int | None = None  # default grows with size, at least two pages of 50


def generate(spec: Spec) -> Account:
    """Build the account's state as it stands at ``spec.now``."""
    if spec.start >= spec.now:
        raise ValueError("start must be before now")
    rng = random.Random(spec.seed)
    account = Account(spec.internal_domain, spec.now)
    gen = _Generator(spec, rng, account)
    gen.people()
    gen.mailboxes()
    gen.tags()
    gen.conversations()
    gen.merges_and_deletes()
    account.build_indexes()
    return account


class _Generator:
    def __init__(self, spec: Spec, rng: random.Random, account: Account) -> None:
        self.spec = spec
        self.rng = rng
        self.acc = account
        self.user_ids: list[int] = []
        self.customer_ids: list[int] = []
        self.internal_customers: list[int] = []
        self.dominant_mailbox = 0

    # -- people, mailboxes, tags -------------------------------------------------------
    def people(self) -> None:
        rng, spec, acc = self.rng, self.spec, self.acc
        before = spec.start - 400 * DAY
        closer = Person(SYSTEM_CLOSER_ID, "Help Scout", "", SYSTEM_CLOSER_EMAIL)
        acc.users[SYSTEM_CLOSER_ID] = User(closer, "user", "UTC", before, before, listed=False)
        # An AI "system user": writes some replies as type user, never listed by /v2/users.
        bot = Person(AI_USER_ID, "AI", "Answers", None)
        acc.users[AI_USER_ID] = User(bot, "user", "UTC", before, before, listed=False)
        roles = ("owner", "admin") + ("user",) * spec.n_users
        for i in range(spec.n_users + 1):
            uid = 120_000 + i * 7 + rng.randrange(5)
            first, last = rng.choice(vocab.FIRST_NAMES), rng.choice(vocab.LAST_NAMES)
            email = f"{_ascii(first)}.{_ascii(last)}{i}@{spec.internal_domain}".lower()
            created = before + rng.randrange(300 * DAY)
            listed = i < spec.n_users  # the last one left: old conversations still name them
            acc.users[uid] = User(
                Person(uid, first, last, email), roles[i] if i < len(roles) else "user",
                rng.choice(("Europe/Madrid", "Europe/Paris", "UTC", "America/New_York")),
                created, created + rng.randrange(60 * DAY), listed=listed,
            )
            self.user_ids.append(uid)
        n_customers = max(60, int(spec.size * 0.6))
        for i in range(n_customers):
            cid = 300_000_000 + i * 3 + rng.randrange(3)
            first, last = rng.choice(vocab.FIRST_NAMES), rng.choice(vocab.LAST_NAMES)
            roll = rng.random()
            if roll < 0.03:
                email: str | None = f"{_ascii(first)}{i}@{spec.internal_domain}".lower()
                self.internal_customers.append(cid)
            elif roll < 0.05:
                email = None  # phone-only customer: no primaryCustomer.email
            else:
                domain = rng.choice(vocab.CUSTOMER_DOMAINS)
                email = f"{_ascii(first)}.{_ascii(last)}{i}@{domain}".lower()
            acc.customers[cid] = Person(cid, first, last, email)
            self.customer_ids.append(cid)

    def mailboxes(self) -> None:
        rng, acc = self.rng, self.acc
        folder_id = 5_000_000
        for i, (name, _share) in enumerate(vocab.MAILBOXES):
            mid = 80_000 + i * 11
            slug = f"{mid:x}{rng.randrange(16**6):06x}"
            created = self.spec.start - (900 - i * 90) * DAY
            folders = {}
            for ftype in FOLDER_TYPES:
                folder_id += rng.randrange(1, 9)
                folders[ftype] = folder_id
            email = f"{_ascii(name.split()[0]).lower()}{i}@{self.spec.internal_domain}"
            self.dominant_mailbox = self.dominant_mailbox or mid
            acc.mailboxes[mid] = Mailbox(mid, name, slug, email, created, created + 40 * DAY,
                                         folders)

    def tags(self) -> None:
        rng, spec, acc = self.rng, self.spec, self.acc
        n = spec.n_tags if spec.n_tags is not None else min(60 + spec.size // 1000, 400)
        names = list(vocab.BASE_TAGS)
        while len(names) < n:
            names.append(f"{rng.choice(vocab.BASE_TAGS)} {len(names)}")
        for i, name in enumerate(names[:n]):
            tid = 7_000_000 + i * 13 + rng.randrange(13)
            created = spec.start - rng.randrange(1, 500) * DAY
            updated = None if rng.random() < 0.3 else created + rng.randrange(30 * DAY)
            acc.tags[tid] = Tag(tid, name, slugify(name), rng.choice(vocab.TAG_COLORS), created,
                                updated)
        acc.next_tag_id = max(acc.tags) + 13

    # -- conversations -------------------------------------------------------------------
    def conversations(self) -> None:
        rng, spec, acc = self.rng, self.spec, self.acc
        campaigns = self._campaign_times()
        n_ooo = int(spec.size * 0.03)
        n_wave = int(spec.size * 0.12) if campaigns else 0
        n_plain = spec.size - n_ooo - n_wave
        plans: list[tuple[int, str, int | None]] = []  # (createdAt, kind, campaign index)
        for ts in self._seasonal_times(n_plain):
            plans.append((ts, "plain", None))
        for _ in range(n_wave):
            idx = rng.randrange(len(campaigns))
            ts = campaigns[idx] + int(rng.expovariate(1 / (20 * HOUR)))
            plans.append((min(ts, spec.now), "wave", idx))
        for _ in range(n_ooo):
            if campaigns:
                idx = rng.randrange(len(campaigns))
                ts = campaigns[idx] + rng.randrange(20, 1800)
                plans.append((min(ts, spec.now), "ooo", idx))
            else:
                plans.append((self._seasonal_times(1)[0], "ooo", None))
        plans.sort(key=lambda p: p[0])
        slow = set(rng.sample(range(len(plans)), min(len(plans), 3 + spec.size // 300)))
        tag_ids = list(acc.tags)
        tag_weights = list(accumulate(1 / (i + 1) for i in range(len(tag_ids))))
        mailbox_ids = list(acc.mailboxes)
        mailbox_weights = list(accumulate(share for _, share in vocab.MAILBOXES))
        all_threads: list[Thread] = []
        cid = 40_000_000
        for number, (created, kind, campaign) in enumerate(plans, start=1000):
            cid += 1 + (rng.random() < 0.1)
            conv = self._conversation(cid, number, created, kind, campaign, campaigns,
                                      mailbox_ids, mailbox_weights, tag_ids, tag_weights,
                                      number - 1000 in slow)
            acc.conversations[cid] = conv
            all_threads.extend(conv.threads)
        acc.next_conversation_id = cid + 1
        acc.next_number = 1000 + len(plans)
        # Thread ids grow with time across the account, as real ids do.
        all_threads.sort(key=lambda t: t.created_at)
        tid = 900_000_000
        for thread in all_threads:
            tid += 1 + (rng.random() < 0.05)
            thread.id = tid
        acc.next_thread_id = tid + 1

    def _campaign_times(self) -> list[int]:
        """A monthly mass mailing: the third day of each month at 09:00 UTC."""
        spec = self.spec
        out = []
        day = datetime.fromtimestamp(spec.start, timezone.utc).replace(
            day=1, hour=9, minute=0, second=0)
        while True:
            ts = int(day.replace(day=3).timestamp())
            if ts > spec.now - 2 * HOUR:
                break
            if ts >= spec.start:
                out.append(ts)
            day = day.replace(year=day.year + day.month // 12, month=day.month % 12 + 1)
        return out

    def _seasonal_times(self, n: int) -> list[int]:
        spec = self.spec
        first_hour = spec.start // HOUR
        hours = list(range(first_hour, spec.now // HOUR + 1))
        cum, total = [], 0.0
        for h in hours:
            dt = datetime.fromtimestamp(h * HOUR, timezone.utc)
            w = WEEKDAY_WEIGHT[dt.weekday()] * HOUR_WEIGHT[dt.hour]
            last_day = calendar.monthrange(dt.year, dt.month)[1]
            if dt.day > last_day - 3:
                w *= 1.7
            elif dt.day <= 2:
                w *= 1.3
            total += w
            cum.append(total)
        picked = self.rng.choices(hours, cum_weights=cum, k=n)
        return [max(spec.start, min(spec.now, h * HOUR + self.rng.randrange(HOUR)))
                for h in picked]

    def _subject(self, kind: str, campaign: int | None, campaigns: list[int]) -> str | None:
        rng = self.rng
        if kind == "wave":
            base = vocab.CAMPAIGNS[campaign % len(vocab.CAMPAIGNS)]  # type: ignore[operator]
            return rng.choice(vocab.REPLY_PREFIXES) + base
        if kind == "ooo":
            phrase = rng.choice(vocab.OUT_OF_OFFICE)
            if campaign is not None and rng.random() < 0.5:
                return f"{phrase.rstrip(': ')}: {vocab.CAMPAIGNS[campaign % len(vocab.CAMPAIGNS)]}"
            return phrase
        roll = rng.random()
        if roll < 0.01:
            return None
        if roll < 0.02:
            return " ".join(rng.choice(vocab.LONG_SUBJECT_PARTS) for _ in range(8))
        subject = rng.choice(vocab.SUBJECTS)
        if rng.random() < 0.15:
            subject = rng.choice(vocab.REPLY_PREFIXES) + subject
        return subject

    def _conversation(self, cid: int, number: int, created: int, kind: str,
                      campaign: int | None, campaigns: list[int], mailbox_ids: list[int],
                      mailbox_weights: list[float], tag_ids: list[int],
                      tag_weights: list[float], slow: bool) -> Conversation:
        rng = self.rng
        listed_users = self.user_ids[:-1]
        roll = rng.random()
        outbound = kind == "plain" and roll < 0.06
        ctype = "phone" if kind == "plain" and 0.06 <= roll < 0.12 else "email"
        if kind == "plain" and rng.random() < 0.04 and self.internal_customers:
            customer = rng.choice(self.internal_customers)
        else:
            customer = rng.choice(self.customer_ids)
        mailbox = mailbox_ids[1] if kind == "wave" else rng.choices(
            mailbox_ids, cum_weights=mailbox_weights)[0]
        agent = rng.choice(listed_users)
        if rng.random() < 0.03:
            agent = self.user_ids[-1]  # a user who has since left
        if outbound:
            created_by = ("user", agent)
            source = ("email", "user")
        elif ctype == "phone":
            created_by = ("user", agent)
            source = ("phone", "user")
        else:
            created_by = ("customer", customer)
            source = ("web", "customer") if rng.random() < 0.1 else ("email", "customer")
        threads = self._threads(created, outbound, ctype, customer, agent, kind, slow)
        primary = None if rng.random() < 0.01 else customer
        conv = Conversation(
            id=cid, number=number, type=ctype, status="active", state="published",
            subject=self._subject(kind, campaign, campaigns), mailbox_id=mailbox,
            assignee_id=agent if rng.random() < 0.8 else None,
            created_by_type=created_by[0], created_by_id=created_by[1], created_at=created,
            primary_customer_id=primary, source_type=source[0], source_via=source[1],
            user_updated_at=created, modified_at=created, threads=threads,
        )
        self._settle_status(conv, kind, agent)
        if conv.assignee_id is not None and rng.random() < 0.6:  # else assigned on creation
            self._lineitem(conv, conv.threads[0].created_at, agent, "assigned",
                           "Assigned to a user", conv.assignee_id)
        self._finish(conv, tag_ids, tag_weights, kind)
        return conv

    def _threads(self, created: int, outbound: bool, ctype: str, customer: int, agent: int,
                 kind: str, slow: bool) -> list[Thread]:
        rng, now = self.rng, self.spec.now
        if slow:
            n = rng.randrange(42, 90)
        elif kind == "ooo" or rng.random() < 0.12:  # unanswered: thanks, auto-replies
            n = 1
        else:
            n = min(1 + int(rng.paretovariate(1.6)), 40)
        if outbound:
            first = Thread(0, "message", created, "user", agent)
        elif ctype == "phone":
            first = Thread(0, "phone", created, "user", agent)
        else:
            first = Thread(0, "customer", created, "customer", customer)
        threads = [first]
        ts = created
        from_customer = first.type == "customer"
        mean_gap = (2 * DAY) if slow else (5 * HOUR)
        for _ in range(n - 1):
            ts += 60 + int(rng.expovariate(1 / mean_gap))
            if ts > now:
                break
            roll = rng.random()
            if roll < 0.1:
                threads.append(Thread(0, "note", ts, "user", agent))
                continue
            if roll < 0.11:  # forwarded to a third party: not a reply
                threads.append(Thread(0, "forwardparent", ts, "user", agent))
                continue
            if from_customer:
                ttype = "message" if rng.random() < 0.07 else "reply"
                author = AI_USER_ID if rng.random() < 0.03 else agent
                opened = ts + rng.randrange(60, DAY) if rng.random() < 0.5 else None
                threads.append(Thread(0, ttype, ts, "user", author,
                                      opened_at=opened if opened and opened <= now else None))
            else:
                threads.append(Thread(0, "customer", ts, "customer", customer))
            from_customer = not from_customer
        return threads

    def _lineitem(self, conv: Conversation, ts: int, by: int, action: str, text: str,
                  assigned: int | None = None) -> Thread:
        item = Thread(0, "lineitem", ts, "user", by, action=action, action_text=text,
                      assigned_to=assigned)
        conv.threads.append(item)
        conv.threads.sort(key=lambda t: t.created_at)
        return item

    def _walk_statuses(self, conv: Conversation) -> None:
        """The statuses the history's threads set, as Help Scout marks them: the first
        thread opens the conversation, a reply may be sent as pending (or as closed, and
        the customer came back), a customer's answer makes it active again."""
        rng = self.rng
        first = conv.threads[0]
        outbound = first.type == "message"
        conv.set_status(first.created_at,
                        "pending" if outbound and rng.random() < 0.5 else "active", first)
        for thread in conv.threads[1:-1]:
            if thread.type == "customer":
                if conv.status in ("pending", "closed"):
                    conv.set_status(thread.created_at, "active", thread)
            elif thread.type in ("reply", "message"):
                roll = rng.random()
                if roll < 0.04:
                    conv.set_status(thread.created_at, "closed", thread)
                elif roll < 0.2:
                    conv.set_status(thread.created_at, "pending", thread)
        last = conv.threads[-1]
        if len(conv.threads) > 1 and last.type == "customer" and conv.status != "active":
            conv.set_status(last.created_at, "active", last)

    def _settle_status(self, conv: Conversation, kind: str, agent: int) -> None:
        """Status, closing and waiting fields from the conversation's age and last word."""
        rng, now = self.rng, self.spec.now
        first = conv.threads[0]
        if kind == "plain" and conv.created_by_type != "user" and rng.random() < 0.025:
            conv.threads[:] = conv.threads[:1]
            conv.assignee_id = None
            conv.set_status(first.created_at, "spam", first)  # filtered as spam on arrival
            return
        self._walk_statuses(conv)
        last = conv.threads[-1]
        age = now - last.created_at
        customer_last = last.type == "customer"
        user_reply_last = last.type in ("reply", "message") and last.author_type == "user"
        if kind == "ooo" or (not customer_last and age > 2 * DAY) or age > 20 * DAY:
            closer: int | None
            setter: Thread | None
            if rng.random() < 0.15 and last.created_at + 3 * DAY <= now:
                # a workflow's automatic close, days later
                closer, closed_at = SYSTEM_CLOSER_ID, last.created_at + rng.randrange(3, 8) * DAY
                closed_at = min(closed_at, now)
                setter = self._lineitem(conv, closed_at, closer, "workflow",
                                        "Workflow closed the conversation")
            elif user_reply_last and rng.random() < 0.4:  # the reply was sent as closed
                closer, closed_at, setter = last.author_id, last.created_at, last
            else:
                closer, closed_at = agent, min(now, last.created_at + rng.randrange(30, 4 * HOUR))
                setter = None if rng.random() < 0.03 else self._lineitem(
                    conv, closed_at, closer, "changed-ticket-status", "Marked as Closed")
            conv.set_status(closed_at, "closed", setter)
            conv.closed_by, conv.closed_at = closer, closed_at
            roll = rng.random()
            if roll < 0.03:
                conv.closed_by, conv.show_closed_by_user = None, False
            elif roll < 0.05:
                conv.closed_at = None
            elif roll < 0.07:
                conv.show_closed_by_user = False
        elif not customer_last and rng.random() < 0.6:
            # the latest reply was sent as pending (the threads after it are notes and such)
            reply = None
            for thread in reversed(conv.threads):
                if thread.type == "customer":
                    break
                if thread.type in ("reply", "message") and thread.author_type == "user":
                    reply = thread
                    break
            if reply is not None and reply.status == "nochange" and conv.status == "active":
                conv.set_status(reply.created_at, "pending", reply)
        elif not customer_last and rng.random() < 0.03 and last.created_at + HOUR <= now:
            # changed without leaving a thread (a bulk action, an API client)
            conv.set_status(last.created_at + rng.randrange(60, HOUR), "pending")
        if conv.status == "active" and customer_last:
            conv.waiting_since = last.created_at

    def _finish(self, conv: Conversation, tag_ids: list[int], tag_weights: list[float],
                kind: str) -> None:
        rng, now = self.rng, self.spec.now
        if kind == "wave":
            conv.tag_ids = [tag_ids[0]]
        elif rng.random() < 0.7:
            k = rng.choice((1, 1, 1, 2, 2, 3))
            conv.tag_ids = list(dict.fromkeys(rng.choices(tag_ids, cum_weights=tag_weights, k=k)))
        if rng.random() < 0.05:
            conv.cc = (f"copy{conv.number}@{rng.choice(vocab.CUSTOMER_DOMAINS)}",)
        if rng.random() < 0.01:
            conv.bcc = (f"archive@{self.spec.internal_domain}",)
        if conv.mailbox_id == self.dominant_mailbox and rng.random() < 0.4:
            conv.custom_fields = ((9001, "Contract number", f"CT-{rng.randrange(10**6):06d}"),)
        user_times = [t.created_at for t in conv.threads
                      if t.author_type == "user" and t.author_id != SYSTEM_CLOSER_ID]
        conv.user_updated_at = max([conv.created_at, *user_times])
        conv.modified_at = max(t.created_at for t in conv.threads)
        if conv.closed_at:
            conv.modified_at = max(conv.modified_at, conv.closed_at)
        conv.modified_at = max(conv.modified_at, conv.status_log[-1][0])
        if rng.random() < 0.1:  # a later workflow or tag edit: modifiedAt only
            conv.modified_at = min(now, conv.modified_at + rng.randrange(60, 5 * DAY))
        if rng.random() < 0.01:
            conv.state = "deleted"

    # -- merges and hard deletes -----------------------------------------------------------
    def merges_and_deletes(self) -> None:
        rng, acc, now = self.rng, self.acc, self.spec.now
        ids = sorted(acc.conversations)
        n = max(int(len(ids) >= 50), len(ids) // 250)  # tiny accounts keep all they have
        chosen = rng.sample(ids, min(len(ids) // 2, 3 * n))
        for cid in chosen[:n]:
            acc.conversations.pop(cid)
            acc.deleted_ids.add(cid)
        pairs = chosen[n:]
        for source_id, target_id in zip(pairs[::2], pairs[1::2], strict=False):
            source, target = acc.conversations.pop(source_id), acc.conversations[target_id]
            at = min(now, max(source.modified_at, target.modified_at) + rng.randrange(60, DAY))
            target.threads = sorted(target.threads + source.threads, key=lambda t: t.created_at)
            target.modified_at = target.user_updated_at = at
            acc.merged[source_id] = target_id


def slugify(name: str) -> str:
    return "-".join(_ascii(name).lower().split())


def _ascii(text: str) -> str:
    import unicodedata

    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded if ch.isalnum() or ch == " ").strip() or "x"
