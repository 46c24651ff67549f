"""Charts drawn on the server as inline SVG: no CDN, no JavaScript, nothing the Content-Security-Policy refuses.

Each chart is an `<svg role="img">` with a `<title>` and a `<desc>` (what a screen reader says), text labels
on its axes and bars, and a `<title>` per bar (the tooltip). Colours come from CSS classes
(`countermand/console/static/console/insights.css`), never from `style` attributes, which the CSP forbids.
The page prints the numbers behind every chart as a table as well.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH = 720
_ids = itertools.count(1)


@dataclass(frozen=True)
class Bar:
    """One bar of a horizontal bar chart: its label, its length, the text printed at its end."""

    label: str
    value: float
    text: str
    css: str = ""


def _nice_ceiling(value: float) -> int:
    """The smallest 2, 4, 6, 8 or 10 times a power of ten at or above `value`: an axis of counts that ends on
    a round number whose half (the middle grid line) is a whole count too."""
    if value <= 2:
        return 2
    magnitude = 10 ** math.floor(math.log10(value))
    return next(step * magnitude for step in (2, 4, 6, 8, 10) if value <= step * magnitude)


def _number(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def _open(title: str, desc: str, height: int, css: str, width: int = WIDTH) -> tuple[str, str]:
    n = next(_ids)
    head = (
        f'<svg class="chart {escape(css)}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="chart-title-{n} chart-desc-{n}" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="chart-title-{n}">{escape(title)}</title><desc id="chart-desc-{n}">{escape(desc)}</desc>'
    )
    return head, "</svg>"


def stacked_columns(
    *,
    title: str,
    desc: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, str]],
    values: Sequence[dict[str, int]],
    css: str = "",
) -> SafeString:
    """Columns (one per label, e.g. a day) stacked by series (key, name), bottom to top in `series` order."""
    height, left, right, top, bottom = 260, 48, 8, 12, 40
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    totals = [sum(v.get(key, 0) for key, _ in series) for v in values]
    ceiling = _nice_ceiling(max(totals, default=0))
    head, tail = _open(title, desc, height, css)
    parts = [head]
    for fraction in (0, 0.5, 1):
        y = top + plot_h * (1 - fraction)
        parts.append(
            f'<line class="chart-grid" x1="{left}" x2="{WIDTH - right}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="chart-axis" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{_number(ceiling * fraction)}</text>"
        )
    slot = plot_w / max(1, len(labels))
    bar_w = max(1.0, slot * 0.8)
    for i, (label, counts, total) in enumerate(zip(labels, values, totals, strict=True)):
        x = left + i * slot + (slot - bar_w) / 2
        y = top + plot_h
        tip = ", ".join(f"{counts.get(key, 0)} {name.lower()}" for key, name in series if counts.get(key))
        parts.append(f'<g class="chart-column"><title>{escape(label)}: {escape(tip or "none")}</title>')
        for key, _ in series:
            n = counts.get(key, 0)
            if not n:
                continue
            h = plot_h * n / ceiling
            y -= h
            parts.append(
                f'<rect class="chart-fill-{escape(key)}" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}"/>'
            )
        if not total:
            parts.append(
                f'<rect class="chart-empty" x="{x:.1f}" y="{top + plot_h - 1:.1f}" width="{bar_w:.1f}" height="1"/>'
            )
        parts.append("</g>")
    # Label the first, the middle and the last column: enough to read the range at a glance.
    for i in sorted({0, len(labels) // 2, len(labels) - 1} if labels else set()):
        x = left + i * slot + slot / 2
        anchor = "start" if i == 0 and len(labels) > 1 else "end" if i == len(labels) - 1 and i else "middle"
        parts.append(
            f'<text class="chart-axis" x="{x:.1f}" y="{height - bottom + 18}" text-anchor="{anchor}">'
            f"{escape(labels[i])}</text>"
        )
    parts.append(tail)
    return mark_safe("".join(parts))  # every text above is escaped


def horizontal_bars(*, title: str, desc: str, bars: Sequence[Bar], css: str = "", maximum: float = 0) -> SafeString:
    """One labelled bar per row, the label on the left and its text at the bar's end."""
    row, left, right, top = 28, 200, 110, 6
    height = top * 2 + row * max(1, len(bars))
    ceiling = maximum or max((b.value for b in bars), default=0) or 1
    plot_w = WIDTH - left - right
    head, tail = _open(title, desc, height, css)
    parts = [head]
    if not bars:
        parts.append(f'<text class="chart-axis" x="{left}" y="{top + 18}">No data in this range.</text>')
    for i, bar in enumerate(bars):
        y = top + i * row
        w = max(0.0, plot_w * bar.value / ceiling)
        label = bar.label if len(bar.label) <= 30 else bar.label[:29] + "…"
        parts.append(
            f'<g class="chart-bar"><title>{escape(bar.label)}: {escape(bar.text)}</title>'
            f'<text class="chart-label" x="{left - 8}" y="{y + 18}" text-anchor="end">{escape(label)}</text>'
            f'<rect class="chart-fill-{escape(bar.css or "bar")}" x="{left}" y="{y + 5}" width="{w:.1f}" '
            f'height="{row - 10}"/>'
            f'<text class="chart-value" x="{left + w + 6:.1f}" y="{y + 18}">{escape(bar.text)}</text></g>'
        )
    parts.append(tail)
    return mark_safe("".join(parts))  # every text above is escaped


def share_bar(*, title: str, share: float | None, text: str, css: str = "") -> SafeString:
    """A 0 to 100 % bar with its share filled and printed (e.g. the denial rate)."""
    # Half the others' width: two of them sit side by side, and their text keeps the same size.
    width, height, left, right = WIDTH // 2, 44, 8, 8
    plot_w = width - left - right
    head, tail = _open(title, text, height, css, width)
    filled = plot_w * (share or 0)
    return mark_safe(  # every text is escaped
        f'{head}<rect class="chart-track" x="{left}" y="8" width="{plot_w}" height="18"/>'
        f'<rect class="chart-fill-share" x="{left}" y="8" width="{filled:.1f}" height="18"/>'
        f'<text class="chart-axis" x="{left}" y="40">0 %</text>'
        f'<text class="chart-axis" x="{width - right}" y="40" text-anchor="end">100 %</text>'
        f'<text class="chart-value" x="{width / 2:.0f}" y="40" text-anchor="middle">{escape(text)}</text>{tail}'
    )


def duration_text(seconds: float) -> str:
    """A duration as a person reads it: 850 ms, 2.4 s, 3 min 5 s, 2.5 h."""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        minutes, rest = divmod(round(seconds), 60)
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    return f"{seconds / 3600:.1f} h"


def percent_text(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.1f} %"
