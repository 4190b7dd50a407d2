"""Charts as inline SVG, drawn on the server from numbers: no chart JavaScript.

Pure functions: numbers and already-translated labels in, an SVG string out (or, with
nothing to draw, the sentence that says so). Every chart is an image with a <title> and
<desc> (role="img", aria-labelledby), so a screen reader gets a one-line summary while
the table beside the chart carries the figures. All text is escaped here, so templates
insert the result with `| safe`. The drawing is WIDTH user units wide with 16-unit text
and is shown at its natural size (CSS may only shrink it), so on a 360 px phone the
text stays at 16 px.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from html import escape

WIDTH = 296  # the inside of a card on a 360 px screen
FONT = 16
BAR = "#b3261e"  # the app's red
BAR_LIGHT = "#f2c9c6"
INK = "#1c1b1f"
MUTED = "#5f5b66"
LINE = "#d9d4dc"


def _text_width(text: str, size: int = FONT) -> float:
    """A rough width: CJK and other wide characters are a full em, others about half."""
    return sum(size if unicodedata.east_asian_width(char) in "WF" else size * 0.62 for char in text)


def _fit(text: str, room: float, size: int = FONT) -> str:
    """Cut a label to the room it has, ending with an ellipsis (the table has it whole)."""
    if _text_width(text, size) <= room:
        return text
    out = ""
    for char in text:
        if _text_width(out + char + "…", size) > room:
            break
        out += char
    return out + "…"


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _svg(chart_id: str, title: str, desc: str, height: float, body: list[str]) -> str:
    cid = escape(chart_id)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg" role="img" '
        f'width="{WIDTH}" height="{height:.0f}" viewBox="0 0 {WIDTH} {height:.0f}" '
        f'aria-labelledby="{cid}-title {cid}-desc" font-size="{FONT}" '
        f"font-family=\"system-ui, -apple-system, 'PingFang SC', 'Noto Sans CJK SC', "
        f"'Microsoft YaHei', sans-serif\">"
        f'<title id="{cid}-title">{escape(title)}</title>'
        f'<desc id="{cid}-desc">{escape(desc)}</desc>' + "".join(body) + "</svg>"
    )


def _empty(message: str) -> str:
    """Nothing to draw: the sentence saying so, as text that wraps on a narrow screen."""
    return f'<p class="chart-empty">{escape(message)}</p>' if message else ""


def bars(
    chart_id: str,
    title: str,
    rows: Sequence[tuple[str, float]],
    *,
    totals: Sequence[float] | None = None,
    indents: Sequence[int] | None = None,
    value_labels: Sequence[str] | None = None,
    empty: str = "",
) -> str:
    """Horizontal bars, one row each: the label on its own line (long names need the whole
    width on a phone), the bar below it with its value at the end. With `totals`, each bar
    is drawn over a light bar of its total (e.g. checked in over confirmed). `indents`
    shifts a row right by that many steps (tree depth)."""
    label_h, bar_h, gap = 20, 18, 10
    row_h = label_h + bar_h + gap
    if not rows:
        return _empty(empty)
    top = max([*(value for _, value in rows), *(totals or [])], default=0) or 1
    labels = list(value_labels) if value_labels else [_number(value) for _, value in rows]
    value_room = max(_text_width(label) for label in labels) + 12
    body: list[str] = []
    parts: list[str] = []
    for index, (label, value) in enumerate(rows):
        indent = 12 * min((indents[index] if indents else 0), 6)
        y = index * row_h
        room = WIDTH - indent - value_room
        body.append(
            f'<text x="{indent}" y="{y + 16}" fill="{INK}">{escape(_fit(label, WIDTH - indent))}'
            "</text>"
        )
        bar_y = y + label_h
        if totals is not None:
            width = room * (totals[index] / top)
            body.append(
                f'<rect x="{indent}" y="{bar_y}" width="{width:.1f}" height="{bar_h}" '
                f'fill="{BAR_LIGHT}" rx="3"/>'
            )
        width = room * (value / top)
        body.append(
            f'<rect x="{indent}" y="{bar_y}" width="{width:.1f}" height="{bar_h}" '
            f'fill="{BAR}" rx="3"/>'
        )
        end = indent + room * ((max(value, totals[index]) if totals else value) / top)
        body.append(
            f'<text x="{end + 6:.1f}" y="{bar_y + 15}" fill="{INK}" font-weight="700">'
            f"{escape(labels[index])}</text>"
        )
        parts.append(f"{label}: {labels[index]}")
    return _svg(chart_id, title, "; ".join(parts), len(rows) * row_h, body)


def columns(
    chart_id: str,
    title: str,
    points: Sequence[tuple[str, float]],
    *,
    value_label: str = "",
    empty: str = "",
) -> str:
    """Vertical columns over a time axis (the arrival curve: one column per 15 minutes).
    The tallest value is marked on the left; x labels are spaced so they never overlap."""
    if not points:
        return _empty(empty)
    top = max(value for _, value in points) or 1
    axis_w = _text_width(_number(top)) + 8
    plot_x, plot_top, plot_h = axis_w, 10, 140
    plot_w = WIDTH - plot_x
    base = plot_top + plot_h
    step = plot_w / len(points)
    gap = min(4.0, step * 0.2)
    label_w = max(_text_width(label) for label, _ in points) + 10
    every = max(1, -(-int(label_w) // max(1, int(step))))
    body = [
        f'<line x1="{plot_x}" y1="{base}" x2="{WIDTH}" y2="{base}" stroke="{MUTED}"/>',
        f'<line x1="{plot_x}" y1="{plot_top}" x2="{WIDTH}" y2="{plot_top}" stroke="{LINE}" '
        'stroke-dasharray="4 4"/>',
        f'<text x="{plot_x - 6}" y="{plot_top + 6}" text-anchor="end" fill="{MUTED}">'
        f"{escape(_number(top))}</text>",
        f'<text x="{plot_x - 6}" y="{base}" text-anchor="end" fill="{MUTED}">0</text>',
    ]
    for index, (label, value) in enumerate(points):
        x = plot_x + index * step
        height = plot_h * (value / top)
        if value:
            body.append(
                f'<rect x="{x + gap / 2:.1f}" y="{base - height:.1f}" '
                f'width="{max(1.0, step - gap):.1f}" height="{height:.1f}" fill="{BAR}"/>'
            )
        if index % every == 0:
            anchor_x = min(max(x, plot_x), WIDTH - label_w + 10)
            body.append(
                f'<text x="{anchor_x:.1f}" y="{base + 22}" fill="{MUTED}">{escape(label)}</text>'
            )
    desc = "; ".join(f"{label}: {_number(value)}{value_label}" for label, value in points)
    return _svg(chart_id, title, desc, base + 30, body)


def line(
    chart_id: str,
    title: str,
    points: Sequence[tuple[str, float | None]],
    *,
    percent: bool = True,
    empty: str = "",
) -> str:
    """A line over months (e.g. the no-show rate). None is a gap: no figure that month.
    With `percent`, values are fractions drawn on a 0–100 % axis."""
    known = [value for _, value in points if value is not None]
    if not points or not known:
        return _empty(empty)
    top = 1.0 if percent else (max(known) or 1)

    def show(value: float) -> str:
        return f"{value * 100:.0f}%" if percent else _number(value)

    axis_w = _text_width(show(top)) + 8
    plot_x, plot_top, plot_h = axis_w, 10, 140
    plot_w = WIDTH - plot_x - 8
    base = plot_top + plot_h
    step = plot_w / max(1, len(points) - 1) if len(points) > 1 else 0
    label_w = max(_text_width(label) for label, _ in points) + 10
    every = max(1, -(-int(label_w) // max(1, int(step)))) if step else 1
    body = [
        f'<line x1="{plot_x}" y1="{base}" x2="{WIDTH}" y2="{base}" stroke="{MUTED}"/>',
        f'<line x1="{plot_x}" y1="{plot_top}" x2="{WIDTH}" y2="{plot_top}" stroke="{LINE}" '
        'stroke-dasharray="4 4"/>',
        f'<text x="{plot_x - 6}" y="{plot_top + 6}" text-anchor="end" fill="{MUTED}">'
        f"{escape(show(top))}</text>",
        f'<text x="{plot_x - 6}" y="{base}" text-anchor="end" fill="{MUTED}">'
        f"{escape(show(0))}</text>",
    ]
    segments: list[list[tuple[float, float]]] = [[]]
    for index, (label, value) in enumerate(points):
        x = plot_x + 4 + index * step if len(points) > 1 else plot_x + plot_w / 2
        if value is None:
            segments.append([])
        else:
            y = base - plot_h * (min(value, top) / top)
            segments[-1].append((x, y))
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{BAR}"/>')
        if index % every == 0:
            anchor_x = min(max(x - 4, plot_x), WIDTH - label_w + 10)
            body.append(
                f'<text x="{anchor_x:.1f}" y="{base + 22}" fill="{MUTED}">{escape(label)}</text>'
            )
    for segment in segments:
        if len(segment) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in segment)
            body.append(f'<polyline points="{path}" fill="none" stroke="{BAR}" stroke-width="3"/>')
    desc = "; ".join(f"{label}: {'–' if v is None else show(v)}" for label, v in points)
    return _svg(chart_id, title, desc, base + 30, body)
