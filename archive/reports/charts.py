"""A report's charts drawn on the server as SVG: no script, no CDN, the same drawing inline in
the page and in the PDF (WeasyPrint draws inline SVG).

A line chart leaves a gap where a value is ``None`` (no data that month) rather than drawing
it as zero; a bar chart draws the series side by side in each category. The output depends on
the chart alone (no random ids), so the same report gives the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from xml.sax.saxutils import escape

from archive.reports.model import Chart

WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 36, 64
COLOURS = ("#2f6db3", "#d9822b", "#3a9a5b", "#b33f40", "#7a5bb3", "#8c8c8c")
FONT = "Noto Sans CJK SC, sans-serif"


def nice_ticks(high: float, count: int = 5) -> list[float]:
    """Round tick values from 0 up to at least ``high``: 0, 20, 40, ... not 0, 17.3, ..."""
    if high <= 0:
        return [0.0, 1.0]
    raw = high / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return [step * i for i in range(math.ceil(high / step - 1e-9) + 1)]


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _attr(text: str) -> str:
    return escape(text, {'"': "&quot;"})


def chart_svg(chart: Chart) -> str:
    """The chart as one ``<svg>`` element (UTF-8 text, well-formed XML)."""
    values = [float(v) for s in chart.series for v in s.values if v is not None]
    low = min([0.0, *values])
    ticks = nice_ticks(max([0.0, *values]) - low) if values else [0.0, 1.0]
    ticks = [t + low for t in ticks] if low < 0 else ticks
    top_value, bottom_value = ticks[-1], ticks[0]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def y(value: float) -> float:
        return TOP + plot_h - (value - bottom_value) / (top_value - bottom_value) * plot_h

    n = max(len(chart.categories), 1)
    slot = plot_w / n
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}"'
        f' width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{_attr(chart.title)}"'
        f' font-family="{FONT}" font-size="11">',
        f"<title>{escape(chart.title)}</title>",
        f'<text x="{WIDTH / 2:.1f}" y="16" text-anchor="middle" font-size="13"'
        f' font-weight="bold">{escape(chart.title)}</text>',
    ]
    if chart.unit:
        parts.append(f'<text x="8" y="{TOP - 8}" fill="#555">（{escape(chart.unit)}）</text>')
    for tick in ticks:
        ty = y(tick)
        parts.append(
            f'<line x1="{LEFT}" y1="{ty:.1f}" x2="{WIDTH - RIGHT}" y2="{ty:.1f}"'
            f' stroke="#ddd" stroke-width="1"/>'
            f'<text x="{LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end" fill="#333">'
            f"{_number(tick)}</text>"
        )
    parts.append(
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#333"/>'
        f'<line x1="{LEFT}" y1="{y(max(bottom_value, 0)):.1f}" x2="{WIDTH - RIGHT}"'
        f' y2="{y(max(bottom_value, 0)):.1f}" stroke="#333"/>'
    )
    # Every category labelled when they fit; otherwise every k-th, turned to save room.
    every = max(1, math.ceil(n / 16))
    turned = n > 8
    for i, category in enumerate(chart.categories):
        if i % every:
            continue
        cx = LEFT + slot * (i + 0.5)
        ly = TOP + plot_h + 14
        turn = f' transform="rotate(-40 {cx:.1f} {ly})"' if turned else ""
        anchor = "end" if turned else "middle"
        parts.append(
            f'<text x="{cx:.1f}" y="{ly}" text-anchor="{anchor}"{turn} fill="#333">'
            f"{escape(category)}</text>"
        )
    draw = _bars if chart.kind == "bar" else _lines
    parts.extend(draw(chart, slot, y, max(bottom_value, 0)))
    parts.extend(_legend(chart))
    parts.append("</svg>")
    return "".join(parts)


def _bars(chart: Chart, slot: float, y: Callable[[float], float], base: float) -> list[str]:
    count = max(len(chart.series), 1)
    width = slot * 0.8 / count
    out = []
    for k, series in enumerate(chart.series):
        colour = COLOURS[k % len(COLOURS)]
        for i, value in enumerate(series.values):
            if value is None:
                continue
            value = float(value)  # a Decimal average, say
            x = LEFT + slot * i + slot * 0.1 + width * k
            top, bottom = sorted((y(value), y(base)))
            out.append(
                f'<rect x="{x:.1f}" y="{top:.1f}" width="{width:.1f}"'
                f' height="{bottom - top:.1f}" fill="{colour}">'
                f"<title>{escape(chart.categories[i])} {escape(series.name)}："
                f"{_number(value)}{escape(chart.unit)}</title></rect>"
            )
    return out


def _lines(chart: Chart, slot: float, y: Callable[[float], float], base: float) -> list[str]:
    out = []
    for k, series in enumerate(chart.series):
        colour = COLOURS[k % len(COLOURS)]
        run: list[str] = []
        runs: list[list[str]] = []
        for i, value in enumerate(series.values):
            if value is None:  # a gap, not a zero
                if run:
                    runs.append(run)
                run = []
                continue
            value = float(value)
            cx, cy = LEFT + slot * (i + 0.5), y(value)
            run.append(f"{cx:.1f},{cy:.1f}")
            out.append(
                f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="3" fill="{colour}">'
                f"<title>{escape(chart.categories[i])} {escape(series.name)}："
                f"{_number(value)}{escape(chart.unit)}</title></circle>"
            )
        if run:
            runs.append(run)
        for points in runs:
            if len(points) > 1:
                out.append(
                    f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}"'
                    f' stroke-width="2"/>'
                )
    return out


def _legend(chart: Chart) -> list[str]:
    out = []
    x = LEFT
    for k, series in enumerate(chart.series):
        colour = COLOURS[k % len(COLOURS)]
        out.append(
            f'<rect x="{x}" y="{HEIGHT - 14}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{x + 14}" y="{HEIGHT - 5}" fill="#333">{escape(series.name)}</text>'
        )
        x += 24 + 13 * len(series.name)
    return out
