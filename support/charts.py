"""Server-rendered SVG charts for support's overview: no JavaScript, no chart library.

A chart is a column of small panels, one per series (an outcome, an organisation), each a bar
per day on its own scale under its label, total and peak, so it reads without
colour and without the legend a multi-line chart would need. A part of a bar can be marked (E03
within an organisation's failures) with a hatched pattern, and days flagged as spikes carry a
written label. The ``<svg>`` is ``role="img"`` with ``aria-labelledby`` its ``<title>`` and
``<desc>``; the page puts the same numbers in a table beside it.

Colours come from the page's stylesheet (``static/css/support.css``: classes on the shapes), so
the drawing holds no colour of its own."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from html import escape

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

# In user units; the drawing scales to its container (support.css caps it near 1:1 at desktop),
# so a narrow width keeps the text legible on a phone.
WIDTH = 480
LABEL_ROW = 20  # the panel's label, total and peak, above its bars
BAR_AREA = 44  # the bars, with room above the highest for its value
PANEL_HEIGHT = LABEL_ROW + BAR_AREA + 14  # and under the axis, room for the spike marks
TOP = 4
AXIS = 22  # room for the first and last day under the last panel


@dataclass
class Panel:
    label: str
    values: Sequence[int]
    marked: Sequence[int] | None = None  # a part of each bar, drawn hatched
    spikes: Sequence[bool] = field(default_factory=list)


def _number(n: int) -> str:
    return f"{n:,}"


def _text(x: float, y: float, text: str, *, cls: str, anchor: str = "start") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" class="{cls}" text-anchor="{anchor}">{escape(text)}</text>'
    )


def small_multiples(
    *,
    chart_id: str,
    title: str,
    desc: str,
    days: Sequence[date],
    panels: Sequence[Panel],
    marked_label: str = "",
) -> SafeString:
    """One ``<svg>``: a panel per entry of ``panels``, a bar per day (``days``, oldest first).
    Each bar carries ``data-day`` and ``data-value`` (and ``data-marked``), which the tests
    compare with the table's numbers."""
    height = TOP + PANEL_HEIGHT * len(panels) + AXIS
    plot = WIDTH
    step = plot / max(len(days), 1)
    bar = max(step - 2, 1)
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{chart_id}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{title_id} {desc_id}" preserveAspectRatio="xMinYMin meet">',
        f'<title id="{title_id}">{escape(title)}</title>',
        f'<desc id="{desc_id}">{escape(desc)}</desc>',
        "<defs>"
        f'<pattern id="{chart_id}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)">'
        '<rect width="6" height="6" class="chart__hatch-bg"/>'
        '<line x1="0" y1="0" x2="0" y2="6" class="chart__hatch-line"/></pattern></defs>',
    ]
    for p, panel in enumerate(panels):
        y0 = TOP + p * PANEL_HEIGHT
        base = y0 + LABEL_ROW + BAR_AREA
        peak = max(panel.values, default=0)
        total = sum(panel.values)
        parts.append(f'<g class="chart__panel" data-label="{escape(panel.label)}">')
        summary = _("total %(total)s, peak %(peak)s") % {
            "total": _number(total),
            "peak": _number(peak),
        }
        parts.append(
            f'<text x="0" y="{y0 + 14}" class="chart__label">{escape(panel.label)}'
            f'<tspan class="chart__note"> · {escape(summary)}</tspan></text>'
        )
        parts.append(f'<line x1="0" y1="{base}" x2="{WIDTH}" y2="{base}" class="chart__axis"/>')
        for i, day in enumerate(days):
            value = panel.values[i]
            x = i * step + 1
            h = (value / peak) * (BAR_AREA - 14) if peak else 0
            marked = panel.marked[i] if panel.marked is not None else None
            extra = f' data-marked="{marked}"' if marked is not None else ""
            parts.append(
                f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'class="chart__bar" data-day="{day.isoformat()}" data-value="{value}"{extra}/>'
            )
            if marked and peak:
                mh = (marked / peak) * (BAR_AREA - 14)
                parts.append(
                    f'<rect x="{x:.1f}" y="{base - mh:.1f}" width="{bar:.1f}" height="{mh:.1f}" '
                    f'class="chart__marked" fill="url(#{chart_id}-hatch)"/>'
                )
            if value and value == peak:
                parts.append(
                    _text(
                        x + bar / 2,
                        base - h - 2,
                        _number(value),
                        cls="chart__value",
                        anchor="middle",
                    )
                )
            if panel.spikes and panel.spikes[i]:
                parts.append(
                    _text(x + bar / 2, base + 12, "▲", cls="chart__spike", anchor="middle")
                )
        parts.append("</g>")
    y = TOP + PANEL_HEIGHT * len(panels) + 12
    if days:
        parts.append(_text(0, y, days[0].strftime("%Y-%m-%d"), cls="chart__note"))
        parts.append(
            _text(WIDTH, y, days[-1].strftime("%Y-%m-%d"), cls="chart__note", anchor="end")
        )
    if marked_label:
        parts.append(_text(WIDTH / 2, y, marked_label, cls="chart__note", anchor="middle"))
    parts.append("</svg>")
    # Every text in it went through escape(); the rest is this module's own markup.
    return mark_safe("".join(parts))  # noqa: S308
