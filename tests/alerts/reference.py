"""The contract's `volume_anomalies` rule, computed independently in Python.

Input: the daily counts per mailbox (``mailbox_daily``, itself checked against
the sandbox's truth in tests/kpi). Quartiles are continuous (linear
interpolation between closest ranks, as ``percentile_cont``), done exactly with
fractions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction


@dataclass(frozen=True)
class Rule:
    baseline_weeks: int = 8
    iqr_multiplier: Fraction = Fraction(3, 2)
    min_delta: int = 10


@dataclass(frozen=True)
class Anomaly:
    mailbox_id: int
    date_day: date
    conversations_received: int
    baseline_q25: Fraction
    baseline_median: Fraction
    baseline_q75: Fraction
    lower_bound: Fraction
    upper_bound: Fraction
    direction: str
    deviation_percent: Decimal | None


def quantile(values: list[int], fraction: Fraction) -> Fraction:
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


def _percent(received: int, median: Fraction) -> Decimal | None:
    if median == 0:
        return None
    exact = 100 * (received - median) / median
    with localcontext() as ctx:
        ctx.prec = 50
        value = Decimal(exact.numerator) / Decimal(exact.denominator)
    return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def anomalies(daily: dict[tuple[int, date], int], rule: Rule = Rule()) -> list[Anomaly]:
    found = []
    for (mailbox_id, day), received in sorted(daily.items()):
        baseline = [daily.get((mailbox_id, day - timedelta(weeks=w)))
                    for w in range(1, rule.baseline_weeks + 1)]
        if any(count is None for count in baseline):
            continue  # no full baseline yet
        counts = [int(c) for c in baseline if c is not None]
        q25, median, q75 = (quantile(counts, Fraction(q, 4)) for q in (1, 2, 3))
        lower = q25 - rule.iqr_multiplier * (q75 - q25)
        upper = q75 + rule.iqr_multiplier * (q75 - q25)
        outside = received < lower or received > upper
        if outside and abs(received - median) >= rule.min_delta:
            found.append(Anomaly(mailbox_id, day, received, q25, median, q75, lower, upper,
                                 "spike" if received > upper else "drop",
                                 _percent(received, median)))
    return found
