"""The weekly report's charts as PNG images, drawn offline by matplotlib.

PNG rather than SVG: e-mail clients show inline PNG parts (``cid:``) but most
strip SVG, and one rendering then serves the HTML file (as ``data:`` URIs) and
the e-mail alike. Each function draws on its own ``Figure`` with the Agg canvas,
never pyplot, so nothing is shared between calls and no display is needed.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

WIDTH, HEIGHT, DPI = 8.0, 3.2, 110
RECEIVED, CLOSED, ACCENT = "#2f6fb2", "#4caf7a", "#d9822b"
WEEKDAY_LABELS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _figure(height: float = HEIGHT) -> tuple[Figure, object]:
    figure = Figure(figsize=(WIDTH, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="y", color="#dddddd", linewidth=0.6)
    axes.set_axisbelow(True)
    return figure, axes


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    # No timestamp or version in the file: the same figures give the same bytes.
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _week_labels(weeks: Sequence[date]) -> list[str]:
    return [f"{w:%d %b}" for w in weeks]


def received_and_closed(weeks: Sequence[date], received: Sequence[int],
                        closed: Sequence[int]) -> bytes:
    """Grouped bars per week: conversations received and closed."""
    figure, axes = _figure()
    positions = range(len(weeks))
    axes.bar([p - 0.2 for p in positions], received, width=0.4, color=RECEIVED, label="received")
    axes.bar([p + 0.2 for p in positions], closed, width=0.4, color=CLOSED, label="closed")
    axes.set_xticks(list(positions), _week_labels(weeks), fontsize=8)
    axes.set_ylabel("conversations")
    axes.legend(frameon=False, loc="upper left", ncols=2)
    return _png(figure)


def first_response_medians(weeks: Sequence[date],
                           series: dict[str, Sequence[Decimal | float | None]]) -> bytes:
    """One line per series (the account, the busiest mailboxes) of weekly medians, in hours."""
    figure, axes = _figure()
    positions = list(range(len(weeks)))
    for index, (label, values) in enumerate(series.items()):
        hours = [None if v is None else float(v) / 60 for v in values]
        points = [(p, h) for p, h in zip(positions, hours, strict=True) if h is not None]
        if not points:
            continue
        xs, ys = zip(*points, strict=True)
        axes.plot(xs, ys, marker="o", markersize=3, label=label,
                  linewidth=2.4 if index == 0 else 1.2, color="#222222" if index == 0 else None)
    axes.set_xticks(positions, _week_labels(weeks), fontsize=8)
    axes.set_ylabel("median first response (h)")
    axes.set_ylim(bottom=0)
    axes.legend(frameon=False, fontsize=8, loc="upper left")
    return _png(figure)


def backlog(days: Sequence[date], open_counts: Sequence[int],
            pending_counts: Sequence[int]) -> bytes:
    """Open conversations at each day's end, with the pending part shaded."""
    figure, axes = _figure()
    axes.fill_between(days, open_counts, color=RECEIVED, alpha=0.25, step="post")
    axes.plot(days, open_counts, color=RECEIVED, drawstyle="steps-post",
              label="open (active + pending)")
    axes.plot(days, pending_counts, color=ACCENT, drawstyle="steps-post", label="pending")
    axes.set_ylabel("conversations at day end")
    axes.set_ylim(bottom=0)
    axes.legend(frameon=False, loc="upper left", ncols=2)
    figure.autofmt_xdate()
    return _png(figure)


def arrival_heatmap(cells: Sequence[Sequence[int]]) -> bytes:
    """Conversations received per ISO weekday (rows, Monday first) and hour (columns)."""
    figure = Figure(figsize=(WIDTH, 3.0), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    image = axes.imshow(cells, aspect="auto", cmap="Blues", interpolation="nearest")
    axes.set_yticks(range(7), WEEKDAY_LABELS, fontsize=8)
    axes.set_xticks(range(0, 24, 2), [f"{h:02d}h" for h in range(0, 24, 2)], fontsize=8)
    figure.colorbar(image, ax=axes, label="conversations", shrink=0.9)
    return _png(figure)
