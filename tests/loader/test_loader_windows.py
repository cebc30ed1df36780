"""Window arithmetic, watermarks, date and duration parsing, the pacer: no I/O."""

from __future__ import annotations

import io
import threading
from datetime import datetime, timedelta, timezone
from itertools import pairwise

import pytest

from loader.config import DEFAULT_SINCE, parse_datetime, parse_duration, parse_streams
from loader.errors import BadDates, UnknownStream, UsageError
from loader.progress import Progress
from loader.ratelimit import Pacer, retry_after_seconds
from loader.stats import Counters
from loader.windows import ONE_SECOND, Window, WindowPlanner, run_span, watermark


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def test_durations():
    assert parse_duration("15m") == timedelta(minutes=15)
    assert parse_duration("1h30m") == timedelta(minutes=90)
    assert parse_duration("1w") == timedelta(days=7)
    assert parse_duration("0") == timedelta(0)
    for bad in ("", "15", "m", "1x", "1h 30m", "-1h"):
        with pytest.raises(UsageError):
            parse_duration(bad)


def test_dates_are_utc_at_second_precision():
    assert parse_datetime("2024-01-31", "--since") == utc(2024, 1, 31)
    assert parse_datetime("2024-01-31T08:00:00", "--since") == utc(2024, 1, 31, 8)  # naive=UTC
    assert parse_datetime("2024-01-31T08:00:00+02:00", "--since") == utc(2024, 1, 31, 6)
    assert parse_datetime("2024-01-31T08:00:00.900Z", "--since") == utc(2024, 1, 31, 8)
    for bad in ("yesterday-ish", "2024-02-30", "31/01/2024x"):
        with pytest.raises(BadDates):
            parse_datetime(bad, "--since")


def test_streams():
    assert parse_streams("tags, users,tags") == ("tags", "users")
    with pytest.raises(UnknownStream):
        parse_streams("tags,tickets")
    with pytest.raises(UnknownStream):
        parse_streams(" , ")


def test_window_split_is_gapless_and_disjoint():
    window = Window(utc(2024, 1, 1), utc(2024, 1, 1, 0, 0, 9))
    for parts in range(1, 14):
        pieces = window.split(parts)
        assert pieces[0].start == window.start and pieces[-1].end == window.end
        assert all(b.start == a.end + ONE_SECOND for a, b in pairwise(pieces))
        assert all(p.start <= p.end for p in pieces)
        assert len(pieces) == min(parts, 10)
    # The query reaches the next window's first second, so a modifiedAt kept with
    # fractions of a second (00:00:09.5) cannot fall between two windows.
    assert window.query() == "(modifiedAt:[2024-01-01T00:00:00Z TO 2024-01-01T00:00:10Z])"


def test_watermark_is_the_end_of_the_contiguous_prefix():
    day = timedelta(days=1)
    w = [(utc(2024, 1, d), utc(2024, 1, d) + day - ONE_SECOND) for d in range(1, 6)]
    assert watermark([]) is None
    assert watermark(w) == w[-1][1]
    assert watermark([w[2], w[0], w[1]]) == w[2][1]  # completed out of order
    assert watermark([w[0], w[1], w[3], w[4]]) == w[1][1]  # a failed window leaves a hole
    # A later run re-read with an overlap: overlapping windows extend the chain.
    overlap = (w[1][0] + timedelta(hours=5), w[4][1])
    assert watermark([w[0], w[1], overlap]) == w[4][1]


def test_run_span():
    now = datetime(2024, 6, 1, 12, 0, 30, 500000, tzinfo=timezone.utc)
    lag, overlap = timedelta(minutes=5), timedelta(minutes=15)
    first = run_span(now, since=None, until=None, mark=None, overlap=overlap, lag=lag)
    assert first == Window(DEFAULT_SINCE, utc(2024, 6, 1, 11, 55, 29))
    mark = utc(2024, 6, 1, 10)
    later = run_span(now, since=None, until=None, mark=mark, overlap=overlap, lag=lag)
    assert later.start == mark + ONE_SECOND - overlap
    bounded = run_span(now, since=utc(2024, 1, 1), until=utc(2024, 2, 1), mark=mark,
                       overlap=overlap, lag=lag)
    assert bounded == Window(utc(2024, 1, 1), utc(2024, 1, 31, 23, 59, 59))  # until exclusive
    assert run_span(now, since=None, until=None, mark=utc(2024, 6, 1, 11, 59), overlap=overlap,
                    lag=timedelta(hours=1)) is None


def _hand(planner: WindowPlanner, total: int, hint=None):
    """The next window, observed as announcing ``total``, and done with (committed)."""
    window = planner.next()
    planner.observe(window, total, hint)
    planner.done(window, committed=True)
    return window


def test_planner_grows_over_empty_spans_and_splits_by_density():
    span = Window(utc(2011, 1, 1), utc(2024, 12, 31, 23, 59, 59))
    planner = WindowPlanner(span, timedelta(days=30), target=100)
    first = _hand(planner, 0)
    assert first.seconds == 30 * 86400
    # Empty: the next window runs to the end of the span.
    second = planner.next()
    assert second == Window(first.end + ONE_SECOND, span.end)
    assert planner.too_big(second, 1000)
    # Its first item cannot have been modified before 2024: the pieces divide 2024,
    # the first reaching back to the window's start so nothing is left uncovered.
    hint = utc(2024, 1, 1)
    planner.observe(second, 1000, hint)
    pieces = planner.split(second, 1000, hint)
    planner.done(second, committed=False)
    assert len(pieces) == 10
    assert pieces[0].start == second.start and pieces[-1].end == span.end
    assert all(b.start == a.end + ONE_SECOND for a, b in pairwise(pieces))
    assert all(abs(p.seconds - pieces[1].seconds) <= 1 for p in pieces[1:])
    handed = [first]
    for piece in pieces:
        window = planner.next()
        assert window == piece  # the pieces go out first, in time order
        planner.observe(window, 100)
        planner.done(window, committed=True)
        handed.append(window)
    assert planner.next() is None  # the span is covered
    assert all(b.start == a.end + ONE_SECOND for a, b in pairwise(handed))


def test_planner_sends_the_head_alone():
    span = Window(utc(2024, 1, 1), utc(2024, 12, 31, 23, 59, 59))
    planner = WindowPlanner(span, timedelta(days=10), target=100)
    head = planner.next()
    assert planner.is_head(head)
    handed: list[Window] = []
    waiter = threading.Thread(target=lambda: handed.append(planner.next()))
    waiter.start()
    waiter.join(0.3)
    assert waiter.is_alive() and not handed  # nothing goes out while the head is in flight
    planner.observe(head, 50)
    planner.done(head, committed=True)
    waiter.join(5)
    assert handed and handed[0].start == head.end + ONE_SECOND
    # Closing wakes every waiting worker with nothing to do.
    planner.close()
    assert planner.next() is None


def test_planner_without_a_first_size_starts_with_the_whole_span():
    span = Window(utc(2011, 1, 1), utc(2024, 12, 31, 23, 59, 59))
    planner = WindowPlanner(span, None, target=500)
    assert _hand(planner, 300) == span
    assert planner.next() is None


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_pacer_spaces_requests_from_the_announced_budget():
    clock = FakeClock()
    counters = Counters()
    pacer = Pacer(counters, target=0.98, clock=clock, sleep=clock.sleep)
    pacer.acquire()
    assert clock.sleeps == []  # no budget known yet: no pacing
    pacer.observe({"X-RateLimit-Limit-Minute": "400", "X-RateLimit-Remaining-Minute": "399"})
    starts = []
    for _ in range(50):
        pacer.acquire()
        starts.append(clock.now)
    gaps = [b - a for a, b in pairwise(starts)]
    assert gaps == pytest.approx([60 / (400 * 0.98)] * 49)
    # A 429 pauses everyone for exactly Retry-After, then slots are spaced again.
    pacer.pause(7.0)
    before = clock.now
    pacer.acquire()
    assert clock.now == pytest.approx(before + 7.0)
    assert counters.throttle_sleeps == len(clock.sleeps)


def test_retry_after_headers():
    assert retry_after_seconds({"X-RateLimit-Retry-After": "12"}) == 12
    assert retry_after_seconds({"Retry-After": "3"}) == 3
    assert retry_after_seconds({}) is None
    date = "Wed, 21 Oct 2015 07:28:10 GMT"
    now = datetime(2015, 10, 21, 7, 28, 0, tzinfo=timezone.utc).timestamp()
    assert retry_after_seconds({"Retry-After": date}, now=now) == 10


def test_progress_bar_only_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    counters = Counters()
    quiet = io.StringIO()
    Progress("conversations", 100, counters, stream=quiet).advance(50, 10)
    assert quiet.getvalue() == ""
    term = Terminal()
    bar = Progress("conversations", 100, counters, stream=term)
    bar.advance(25, 1000)
    bar.close()
    last = term.getvalue().split("\r")[-1]
    assert "25.0%" in last and "1,000 rows" in last and "ETA" in last and last.endswith("\n")
