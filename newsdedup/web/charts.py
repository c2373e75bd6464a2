"""Geometry of the explorer's small server-rendered charts (the templates draw the SVG).

Plain data in, plain numbers out: no markup here, so every label the templates
print goes through Jinja's escaping.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from .catalog import day_of, day_str

MARGIN = 40  # px left and right of the plot: a date label is centred on its tick
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ](\d{2}):(\d{2})(?::(\d{2}))?")


def when(published: str | None) -> float | None:
    """Position in days: the day ordinal plus the time's fraction of the day, or plus one half (noon)
    when only the date is known; None when the date is unknown."""
    day = day_of(published)
    if day is None:
        return None
    m = _TIME.match(published or "")
    if not m:
        return day + 0.5
    return day + (int(m[1]) * 3600 + int(m[2]) * 60 + int(m[3] or 0)) / 86400.0


# ---------------------------------------------------------------------- spread mark (claims list)
@dataclass
class Spark:
    width: int
    height: int
    bars: list[tuple[float, float, int, str]]  # x, bar height, documents, day
    first_x: float | None
    label: str


def spark(days: Sequence[tuple[int, int]], undated: int, first_day: int | None, lo: int | None, hi: int | None,
          width: int = 140, height: int = 22) -> Spark:
    """Documents per day of one claim on the corpus's date axis ``lo``..``hi``; first seen marked."""
    bars = []
    span = max(1, (hi or 0) - (lo or 0))
    top = max((n for _, n in days), default=1)
    for day, n in days:
        x = 3 + (width - 6) * ((day - (lo or day)) / span if hi != lo else 0.5)
        h = 4 + (height - 8) * (math.log1p(n) / math.log1p(top) if top > 1 else 1.0)
        bars.append((round(x, 1), round(h, 1), n, day_str(day)))
    first_x = None
    if first_day is not None:
        first_x = round(3 + (width - 6) * ((first_day - (lo or first_day)) / span if hi != lo else 0.5), 1)
    n_docs = sum(n for _, n in days)
    if days:
        span_days = days[-1][0] - days[0][0] + 1
        label = (f"{n_docs} documents over {span_days} day{'s' if span_days != 1 else ''}, "
                 f"{day_str(days[0][0])} to {day_str(days[-1][0])}")
    else:
        label = "no dated documents"
    if undated:
        label += f"; {undated} without a date"
    return Spark(width, height, bars, first_x, label)


# ---------------------------------------------------------------------- timeline (claim page)
@dataclass
class Point:
    x: float
    doc_id: str
    published: str | None
    first: bool
    label: str


@dataclass
class Lane:
    outlet: str | None
    points: list[Point] = field(default_factory=list)
    undated: list[Point] = field(default_factory=list)
    first: bool = False


@dataclass
class Timeline:
    width: int
    lane_height: int
    lanes: list[Lane]
    ticks: list[tuple[float, str]]
    undated_x: float | None
    hidden_lanes: int
    lo: float | None
    hi: float | None


def timeline(members: Sequence[tuple[str, str | None, str | None]], first_doc: str | None, *, width: int = 1000,
             lane_height: int = 30, max_lanes: int = 40) -> Timeline:
    """Lanes of outlets (in order of their first appearance) with one point per member document at its
    publication time; members without a date sit in a column of their own at the right."""
    docs: dict[str, tuple[str | None, str | None]] = {}
    for doc_id, outlet, published in members:
        docs.setdefault(doc_id, (outlet, published))
    times = {d: when(p) for d, (_, p) in docs.items()}
    dated = [t for t in times.values() if t is not None]
    lo, hi = (min(dated), max(dated)) if dated else (None, None)
    has_undated = any(t is None for t in times.values())
    plot_w = width - (70 if has_undated else 12)
    undated_x = width - 35 if has_undated else None
    if lo is not None and hi is not None:
        lo, hi = math.floor(lo), math.floor(hi) + 1.0  # whole days

    def x_of(t: float) -> float:
        if lo is None or hi is None or hi == lo:
            return plot_w / 2
        return round(MARGIN + (plot_w - 2 * MARGIN) * (t - lo) / (hi - lo), 1)

    lanes: dict[str | None, Lane] = {}
    order = sorted(docs, key=lambda d: (times[d] is None, times[d] or 0.0, d != first_doc, d))
    for d in order:
        outlet, published = docs[d]
        lane = lanes.setdefault(outlet, Lane(outlet))
        t = times[d]
        first = d == first_doc
        lane.first = lane.first or first
        label = f"{outlet or '(unknown outlet)'}, {published or 'date unknown'}" + (" (first seen)" if first else "")
        if t is None:
            lane.undated.append(Point(undated_x or 0.0, d, published, first, label))
        else:
            lane.points.append(Point(x_of(t), d, published, first, label))
    all_lanes = list(lanes.values())
    ticks: list[tuple[float, str]] = []
    if lo is not None and hi is not None:
        days = int(hi - lo)
        step = max(1, math.ceil(days / 8))
        for k in range(0, days, step):
            day = int(lo) + k
            ticks.append((x_of(day + 0.5), dt.date.fromordinal(day).isoformat()))
    return Timeline(width, lane_height, all_lanes[:max_lanes], ticks, undated_x, max(0, len(all_lanes) - max_lanes),
                    lo, hi)


# ---------------------------------------------------------------------- heat map (outlets page)
def heat(value: float, top: float) -> str:
    """Cell colour for ``value`` of ``top``: white to a dark teal, by square root (small counts stay visible)."""
    if value <= 0 or top <= 0:
        return "#ffffff"
    f = math.sqrt(min(1.0, value / top))
    r, g, b = (round(255 + (v - 255) * f) for v in (0, 90, 110))
    return f"#{r:02x}{g:02x}{b:02x}"


def ink(value: float, top: float) -> str:
    """Text colour readable on :func:`heat`'s background."""
    return "#ffffff" if top > 0 and math.sqrt(min(1.0, value / top)) > 0.55 else "#1a1a1a"
