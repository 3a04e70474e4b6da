"""Checkups and labs as small server-rendered SVG charts (no script: the CSP allows none inline).

One chart per measure: a real time axis (x proportional to the day), the reference range shaded,
each value a point, abnormal points drawn larger and marked `data-abnormal="true"`, and a text
alternative (`<title>`, `<desc>` and `aria-label`) listing every value. Units come from
consent.units, never as the source spelled them. The tables stay below the charts on the page.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from markupsafe import Markup, escape

from consent.units import unit_for, unit_label
from consent.vocabulary import CATEGORY_LABELS, PART_HEADINGS
from consent.wareki import japanese_date

# Which checkup measures get a chart, in page order (issue 33: HbA1c, blood pressure, LDL, eGFR, BMI...).
CHECKUP_MEASURES = ("hba1c", "sbp", "dbp", "ldl", "egfr", "bmi", "tg", "hdl", "fpg")
LAB_MEASURES = ("eGFR", "CRE", "HbA1c", "K", "AST", "ALT")

WIDTH, HEIGHT = 300, 110
LEFT, RIGHT, TOP, BOTTOM = 34, 8, 8, 20


@dataclass(frozen=True)
class Point:
    day: date
    value: float
    abnormal: bool


@dataclass(frozen=True)
class Chart:
    measure: str
    title: str  # 「HbA1c（NGSP）（%）」
    unit: str
    source: str  # 「特定健診」 or 「検査」 (from the vocabulary)
    points: tuple[Point, ...]  # oldest first
    low: float | None  # the reference range (None: open on that side)
    high: float | None

    @property
    def text(self) -> str:
        """The text alternative: every value with its day, abnormal ones said so."""
        values = "、".join(f"{japanese_date(p.day)} {p.value:g}{'（範囲外）' if p.abnormal else ''}"
                           for p in self.points)
        return f"{self.title}の推移（{self.source}）：{values}。基準範囲 {range_text(self.low, self.high)}"

    @property
    def svg(self) -> Markup:
        return Markup(render_svg(self))


def range_text(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"{low:g}〜{high:g}"
    if low is not None:
        return f"{low:g}以上"
    if high is not None:
        return f"{high:g}未満"
    return "なし"


_RANGE = re.compile(r"^\s*([\d.]+)\s*[〜~－-]\s*([\d.]+)\s*$")
_BOUND = re.compile(r"^\s*([\d.]+)\s*(未満|以下|以上|超)\s*$")


def parse_reference(text: str | None) -> tuple[float | None, float | None]:
    """「5.6未満」 → (None, 5.6); 「60以上」 → (60, None); 「0.65〜1.07」 → (0.65, 1.07); other → (None, None)."""
    if not text:
        return None, None
    if m := _RANGE.match(text):
        return float(m.group(1)), float(m.group(2))
    if m := _BOUND.match(text):
        value = float(m.group(1))
        return (None, value) if m.group(2) in ("未満", "以下") else (value, None)
    return None, None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None  # 尿蛋白 「（−）」 is not charted


def checkup_charts(records: Iterable[Any] | None) -> list[Chart]:
    """One chart per charted 特定健診 measure with at least one numeric value: one point per year."""
    by_code: dict[str, list[Point]] = {}
    meta: dict[str, Any] = {}
    for record in sorted(records or (), key=lambda r: r.examined_on):
        for item in record.items:
            value = _number(item.value)
            if item.code not in CHECKUP_MEASURES or value is None:
                continue
            by_code.setdefault(item.code, []).append(Point(record.examined_on, value, bool(item.abnormal)))
            meta[item.code] = item  # the newest item's name and reference
    out = []
    for code in CHECKUP_MEASURES:
        if code not in by_code:
            continue
        item = meta[code]
        unit = unit_for(code) or unit_label(item.unit)
        low, high = parse_reference(item.reference)
        out.append(Chart(code, f"{item.name}（{unit}）" if unit else item.name, unit, CATEGORY_LABELS["checkup"],
                         tuple(by_code[code]), low, high))
    return out


def lab_charts(labs: Sequence[Any] | None) -> list[Chart]:
    """One chart per charted 検査 item (labs arrive newest first)."""
    by_code: dict[str, list[Any]] = {}
    for lab in labs or ():
        if lab.code in LAB_MEASURES and _number(lab.value) is not None:
            by_code.setdefault(lab.code, []).append(lab)
    out = []
    for code in LAB_MEASURES:
        rows = sorted(by_code.get(code, ()), key=lambda lab: lab.tested_on)
        if not rows:
            continue
        newest = rows[-1]
        unit = unit_for(code) or unit_label(newest.unit)
        points = tuple(Point(r.tested_on, float(r.value), bool(r.flag)) for r in rows)
        out.append(Chart(code, f"{newest.name}（{unit}）" if unit else newest.name, unit, PART_HEADINGS["labs"], points,
                         newest.low, newest.high))
    return out


def _fmt(x: float) -> str:
    return f"{x:.1f}"


def x_ticks(first: date, last: date) -> list[tuple[date, str]]:
    """The time axis' labels: each year boundary inside it (January 1st where it falls, at most about
    four). A span with fewer than two boundaries (labs of a few months) gets month starts too,
    quarterly when there are more than four, or the axis would read 「2026」 alone."""
    years = range(first.year + 1, last.year + 1)
    step = max(1, len(years) // 4 + (1 if len(years) % 4 else 0)) if len(years) > 4 else 1
    ticks = [(date(year, 1, 1), str(year)) for year in list(years)[::step]]
    if len(years) >= 2:
        return ticks
    months = []
    year, month = first.year, first.month
    while True:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        if date(year, month, 1) > last:
            break
        if month != 1:  # January 1st is the year's label
            months.append(date(year, month, 1))
    if len(months) > 4:
        months = [m for m in months if m.month in (4, 7, 10)]
    return sorted(ticks + [(m, f"{m.month}月") for m in months])


def render_svg(chart: Chart) -> str:
    """The chart as inline SVG markup (escaped text, numbers formatted here)."""
    points = chart.points
    values = [p.value for p in points] + [v for v in (chart.low, chart.high) if v is not None]
    lo, hi = min(values), max(values)
    pad = (hi - lo) * 0.1 or max(abs(hi) * 0.1, 1.0)
    lo, hi = lo - pad, hi + pad
    first, last = points[0].day.toordinal(), points[-1].day.toordinal()
    if first == last:
        first, last = first - 180, last + 180  # one point: half a year either side, point centred
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day: date) -> float:
        return LEFT + (day.toordinal() - first) / (last - first) * plot_w

    def y(value: float) -> float:
        return TOP + (hi - value) / (hi - lo) * plot_h

    label = escape(chart.text)
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{label}" '
             f'data-measure="{escape(chart.measure)}" xmlns="http://www.w3.org/2000/svg">',
             f"<title>{escape(chart.title)}</title><desc>{label}</desc>"]
    if chart.low is not None or chart.high is not None:
        band_top = y(min(chart.high, hi)) if chart.high is not None else TOP
        band_bottom = y(max(chart.low, lo)) if chart.low is not None else TOP + plot_h
        parts.append(f'<rect class="range" x="{LEFT}" y="{_fmt(band_top)}" width="{plot_w}" '
                     f'height="{_fmt(max(band_bottom - band_top, 0))}"/>')
    parts.append(f'<line class="axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}"/>')
    # Y labels: the lowest and highest value shown.
    low_value, high_value = min(p.value for p in points), max(p.value for p in points)
    # Both unless they would overlap (then the highest alone).
    labels = (low_value, high_value) if y(low_value) - y(high_value) >= 11 else (high_value,)
    for value in labels:
        parts.append(f'<text class="tick" x="{LEFT - 4}" y="{_fmt(y(value) + 3)}" text-anchor="end">{value:g}</text>')
    for day, text in x_ticks(date.fromordinal(first), date.fromordinal(last)):
        tick = x(day)
        parts.append(f'<line class="grid" x1="{_fmt(tick)}" y1="{TOP}" x2="{_fmt(tick)}" y2="{TOP + plot_h}"/>'
                     f'<text class="tick" x="{_fmt(tick)}" y="{HEIGHT - 6}" text-anchor="middle">{text}</text>')
    if len(points) > 1:
        path = " ".join(f"{_fmt(x(p.day))},{_fmt(y(p.value))}" for p in points)
        parts.append(f'<polyline class="line" points="{path}"/>')
    for p in points:
        cls = "point abnormal" if p.abnormal else "point"
        radius = 4.5 if p.abnormal else 3
        flag = ' data-abnormal="true"' if p.abnormal else ""
        note = "（範囲外）" if p.abnormal else ""
        parts.append(f'<circle class="{cls}" cx="{_fmt(x(p.day))}" cy="{_fmt(y(p.value))}" r="{radius}" '
                     f'data-day="{p.day.isoformat()}" data-value="{p.value:g}"{flag}>'
                     f"<title>{escape(japanese_date(p.day))} {p.value:g}{note}</title></circle>")
    parts.append("</svg>")
    return "".join(parts)
