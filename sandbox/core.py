"""`Sandbox`: a local Help Scout account served over HTTP on loopback.

    with Sandbox(size=500, seed=7, start="2025-01-01", rate_limit=0) as sb:
        httpx.post(sb.token_url, data={...sb.client_id, sb.client_secret...})
        sb.advance(steps=20)
        truth = sb.truth()

History runs from ``start`` to ``now`` (the construction wall-clock second unless
given); later changes are stamped with the wall clock when they happen.
"""

from __future__ import annotations

import gc
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timezone
from typing import Any

from sandbox.account import Account
from sandbox.api import Api, RequestRecord
from sandbox.evolve import DEFAULT_WEIGHTS, PAGING_WEIGHTS, Evolver, stamp_now
from sandbox.faults import FaultConfig, FaultInjector, RateLimiter, TokenStore
from sandbox.generate import Spec, generate
from sandbox.model import SYSTEM_CLOSER_EMAIL, iso, to_datetime
from sandbox.render import Renderer, dumps
from sandbox.server import SandboxServer
from sandbox.truth import GroundTruth

DEFAULT_CLIENT_ID = "sandbox-app-id"
DEFAULT_CLIENT_SECRET = "sandbox-app-secret-not-a-real-secret"  # fake by design


def to_epoch(value: str | date | datetime | int | float) -> int:
    """A date, an ISO date/time (naive = UTC) or epoch seconds, as whole epoch seconds."""
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return int(value.timestamp())


class Sandbox:
    """A synthetic Help Scout account and the HTTP server that serves it."""

    def __init__(
        self,
        size: int = 1000,
        seed: int = 42,
        start: str | date | datetime = "2025-01-01",
        *,
        now: str | date | datetime | None = None,
        rate_limit: int = 400,
        rate_window: float = 60.0,
        token_lifetime: int = 172_800,
        host: str = "127.0.0.1",
        port: int = 0,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        all_includes_spam: bool = False,
        thread_count_excludes_lineitems: bool = False,
        mutate_during_paging: int = 0,
        on_list_page: Callable[[Sandbox, int], None] | None = None,
        internal_domain: str = "somenergia-sandbox.coop",
        n_users: int = 12,
        n_tags: int | None = None,
        autostart: bool = True,
    ) -> None:
        wall = int(time.time())
        now_ts = wall if now is None else to_epoch(now)
        if now_ts > wall + 1:
            raise ValueError("now must not be in the future: changes are stamped with the "
                             "wall clock and must never be earlier than history")
        if size < 1:
            raise ValueError("size must be at least 1")
        self.spec = Spec(seed=seed, size=size, start=to_epoch(start), now=now_ts,
                         internal_domain=internal_domain, n_users=n_users, n_tags=n_tags)
        self.account: Account = generate(self.spec)
        # Millions of long-lived records: keep the cyclic GC from re-scanning them on
        # every full collection (a 200k account otherwise stalls rendering for seconds).
        gc.collect()
        gc.freeze()
        self.client_id = client_id
        self.client_secret = client_secret
        self.all_includes_spam = all_includes_spam
        self.mutate_during_paging = mutate_during_paging
        self.paging_weights = dict(PAGING_WEIGHTS)
        self.on_list_page = on_list_page
        self.faults = FaultInjector()
        self.rate_limiter = RateLimiter(rate_limit, rate_window)
        self.tokens = TokenStore(token_lifetime)
        self.evolver = Evolver(self.account, seed)
        self.changes_applied: Counter[str] = Counter()
        self._server = SandboxServer((host, port))
        bound_host, bound_port = self._server.server_address[:2]
        self.base_url = f"http://{bound_host}:{bound_port}/v2"
        self.token_url = f"{self.base_url}/oauth2/token"
        self.admin_url = f"http://{bound_host}:{bound_port}/_sandbox"
        self.renderer = Renderer(self.account, self.base_url,
                                 count_excludes_lineitems=thread_count_excludes_lineitems)
        self.api = Api(self)
        self._server.api = self.api
        self._thread: threading.Thread | None = None
        self._pacer: threading.Thread | None = None
        self._stopping = threading.Event()
        if autostart:
            self.start()

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> Sandbox:
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.serve_forever,
                                            kwargs={"poll_interval": 0.1},
                                            name="hs-sandbox", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    # -- evolution ---------------------------------------------------------------------------------
    def advance(self, steps: int | None = None, weights: dict[str, float] | None = None,
                **kinds: int) -> dict[str, Any]:
        """Apply ``steps`` random changes (default 10, or 0 when ``kinds`` are given) plus
        exactly ``kinds[k]`` changes of each named kind (e.g. ``merge=2``). Every change is
        stamped with the current wall-clock second. Returns a summary of what changed."""
        unknown = set(kinds) - set(DEFAULT_WEIGHTS)
        if unknown:
            raise ValueError(f"unknown change kinds {sorted(unknown)}; "
                             f"known: {sorted(DEFAULT_WEIGHTS)}")
        if steps is None:
            steps = 0 if kinds else 10
        plan = [k for k, n in kinds.items() for _ in range(int(n))]
        changes: list[dict[str, Any]] = []
        with self.account.lock:
            plan += [self.evolver.random_kind(weights or DEFAULT_WEIGHTS) for _ in range(steps)]
            for kind in plan:
                change = self._apply(kind)
                if change is not None:
                    changes.append(change)
            stamp = self.account.last_stamp
        counts = Counter(c["kind"] for c in changes)
        return {"stamp": iso(stamp), "applied": len(changes), "counts": dict(counts),
                "changes": changes}

    def change(self, kind: str, conversation_id: int | None = None) -> dict[str, Any] | None:
        """Apply one change of ``kind`` (see ``sandbox.evolve.DEFAULT_WEIGHTS``), to
        ``conversation_id`` if given; returns the change, or None when it does not apply
        (e.g. closing a closed conversation). Stamped with the wall clock."""
        return self._apply(kind, conversation_id)

    def _apply(self, kind: str, target: int | None = None) -> dict[str, Any] | None:
        with self.account.lock:
            change = self.evolver.apply(kind, target)
            if change is not None:
                self.changes_applied[kind] += 1
                if kind in ("hard_delete", "merge"):  # its cached JSON will never be asked for
                    self.renderer.forget(change["conversation_id"])
        return change

    def after_list_page(self, served: int) -> None:
        """Called after each conversations list page: the mid-paging change hook."""
        if self.mutate_during_paging and served % self.mutate_during_paging == 0:
            with self.account.lock:
                self._apply(self.evolver.random_kind(self.paging_weights))
            self.api.count("paging_changes")
        if self.on_list_page is not None:
            self.on_list_page(self, served)

    def change_every(self, seconds: float) -> None:
        """Apply one random change every ``seconds`` in a background thread."""
        def pace() -> None:
            while not self._stopping.wait(seconds):
                self.advance(steps=1)

        self._pacer = threading.Thread(target=pace, name="hs-sandbox-pacer", daemon=True)
        self._pacer.start()

    # -- controls ----------------------------------------------------------------------------------
    def set_faults(self, error_rate: float = 0.0,
                   error_statuses: tuple[int, ...] = (500, 502, 503), latency_ms: int = 0,
                   drop_rate: float = 0.0, truncate_rate: float = 0.0,
                   expire_tokens_after: int | None = None, limit: int | None = None,
                   path_pattern: str | None = None, include_token_endpoint: bool = False,
                   seed: int = 0) -> None:
        """Replace the fault configuration (see :class:`sandbox.faults.FaultConfig`)."""
        self.faults.configure(FaultConfig(
            error_rate=error_rate, error_statuses=tuple(error_statuses), latency_ms=latency_ms,
            drop_rate=drop_rate, truncate_rate=truncate_rate,
            expire_tokens_after=expire_tokens_after, limit=limit, path_pattern=path_pattern,
            include_token_endpoint=include_token_endpoint, seed=seed))

    def clear_faults(self) -> None:
        self.faults.configure(FaultConfig())

    def set_rate_limit(self, limit: int) -> None:
        """Requests per minute (0 = off); resets the window."""
        self.rate_limiter.set_limit(limit)

    def expire_tokens(self) -> None:
        """Invalidate every token issued so far (the next call gets 401)."""
        self.tokens.expire_all()

    # -- observation -------------------------------------------------------------------------
    @property
    def request_log(self) -> list[RequestRecord]:
        return self.api.log_snapshot()

    def stats(self) -> dict[str, Any]:
        out = self.api.stats_snapshot()
        out["faults"] = dict(self.faults.counts)
        out["tokens_issued"] = self.tokens.issued
        out["changes"] = dict(self.changes_applied)
        with self.account.lock:
            out["conversations"] = len(self.account.conversations)
        return out

    def truth(self) -> GroundTruth:
        """The account's complete current state (see :class:`GroundTruth`).

        Every conversation with every thread as dicts: gigabytes for a 200k account;
        there prefer :meth:`truth_json` (what ``GET /_sandbox/truth`` serves)."""
        return self._truth(with_conversations=True)

    def truth_json(self) -> bytes:
        """``truth().to_json()`` encoded, built one conversation at a time (low memory)."""
        acc, r = self.account, self.renderer
        with acc.lock:
            light = dumps(self._truth(with_conversations=False).to_json())
            empty = b'{"conversations":{}'
            assert light.startswith(empty)
            items = [b'"%d":%b' % (cid, dumps(r.conversation(c, "all")))
                     for cid, c in sorted(acc.conversations.items())]
        return b"".join((b'{"conversations":{', b",".join(items), b"}", light[len(empty):]))

    def _truth(self, with_conversations: bool) -> GroundTruth:
        acc, r = self.account, self.renderer
        counts = self.api.tag_counts()
        with acc.lock:
            now = max(stamp_now(acc), acc.last_stamp)
            return GroundTruth(
                conversations={cid: r.conversation(c, "all")
                               for cid, c in sorted(acc.conversations.items())}
                if with_conversations else {},
                modified_at={cid: to_datetime(c.modified_at)
                             for cid, c in acc.conversations.items()},
                tags={t.id: r.tag(t, counts.get(t.id, 0)) for t in acc.tags.values()},
                mailboxes={m.id: r.mailbox(m) for m in acc.mailboxes.values()},
                users={u.person.id: r.user(u) for u in acc.users.values() if u.listed},
                folders={m.id: r.folders(m) for m in acc.mailboxes.values()},
                deleted_ids=set(acc.deleted_ids),
                merged=dict(acc.merged),
                internal_domains=[acc.internal_domain],
                now=to_datetime(now),
                system_closer_emails=[SYSTEM_CLOSER_EMAIL],
                all_includes_spam=self.all_includes_spam,
            )
