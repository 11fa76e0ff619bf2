"""Charts as inline SVG, drawn on the server: no JavaScript, nothing for the Content-Security-Policy to block.

Each function returns one `<svg>` element as a string, every value printed beside its bar or point, and
every text HTML-escaped (method names and usernames come from users). No Django here; views mark the
result safe.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#3b6ea5", "#d9822b", "#4a9d5b", "#b8474b", "#7a5ba6", "#8c6d46", "#c46aa1", "#6b6b6b")
# Text takes the page's text colour (currentColor), so it stays legible in light and dark mode.
FONT = 'font-family="system-ui, sans-serif" font-size="11" fill="currentColor"'
SMALL_FONT = 'font-family="system-ui, sans-serif" font-size="9" fill="currentColor"'


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]


def _fmt(value: float | None, fmt: str) -> str:
    return "n/a" if value is None else format(value, fmt)


def _svg(width: int, height: int, title: str, body: list[str], *, css_class: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {escape(css_class)}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def bar_chart(
    bars: Sequence[tuple[str, float | None]],
    *,
    title: str,
    value_format: str = ".2f",
    max_value: float | None = None,
    width: int = 520,
    bar_height: int = 18,
) -> str:
    """Return horizontal bars, one per (label, value), with the value written after each bar.

    A None value is drawn as an empty bar marked "n/a" (undefined, e.g. an F1 without correct items).
    """
    label_width, value_width, gap = 150, 60, 6
    top = 22
    height = top + len(bars) * (bar_height + gap) + 4
    scale_max = max_value if max_value is not None else max([v for _, v in bars if v is not None] + [0.0])
    usable = width - label_width - value_width
    body = [f'<text x="0" y="14" {FONT} font-weight="bold">{escape(title)}</text>']
    for index, (label, value) in enumerate(bars):
        y = top + index * (bar_height + gap)
        length = 0.0 if not value or not scale_max else max(1.0, usable * min(value, scale_max) / scale_max)
        color = PALETTE[index % len(PALETTE)]
        body.append(
            f'<g class="bar" data-label="{escape(label)}" data-value="{_fmt(value, value_format)}">'
            f'<text x="{label_width - 6}" y="{y + bar_height - 5}" text-anchor="end" {FONT}>{escape(label)}</text>'
            f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar_height}" fill="{color}"/>'
            f'<text x="{label_width + length + 4:.1f}" y="{y + bar_height - 5}" {FONT}>'
            f"{_fmt(value, value_format)}</text></g>"
        )
    return _svg(width, height, title, body, css_class="bar-chart")


def column_chart(
    columns: Sequence[tuple[str, int]],
    *,
    title: str,
    column_width: int = 60,
    height: int = 200,
    highlight_last: bool = False,
) -> str:
    """Return vertical columns (a histogram), each count written above its column, labels below.

    With `highlight_last`, the last column (e.g. "all correct") is drawn in another colour.
    """
    width = max(column_width * len(columns), 240)
    top, bottom = 34, 34
    plot_height = height - top - bottom
    slot = width / max(len(columns), 1)
    peak = max([count for _, count in columns] + [1])
    body = [f'<text x="0" y="14" {FONT} font-weight="bold">{escape(title)}</text>']
    for index, (label, count) in enumerate(columns):
        bar = plot_height * count / peak
        x = index * slot + 3
        y = top + plot_height - bar
        color = PALETTE[1] if highlight_last and index == len(columns) - 1 else PALETTE[0]
        body.append(
            f'<g class="column" data-label="{escape(label)}" data-value="{count}">'
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot - 6:.1f}" height="{bar:.1f}" fill="{color}"/>'
            f'<text x="{x + (slot - 6) / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle" {FONT}>{count}</text>'
            f'<text x="{x + (slot - 6) / 2:.1f}" y="{height - bottom + 14}" text-anchor="middle" '
            f"{SMALL_FONT}>{escape(label)}</text></g>"
        )
    return _svg(width, height, title, body, css_class="column-chart")


def line_chart(
    labels: Sequence[str], series: Sequence[Series], *, title: str, width: int = 520, height: int = 220
) -> str:
    """Return one polyline per series over shared x labels (e.g. days), with each series' last value written.

    A single x label (one day of data) is one point per series in the middle, under one label.
    """
    left, right, top, bottom = 40, 90, 24, 30
    plot_width, plot_height = width - left - right, height - top - bottom
    peak = max([value for s in series for value in s.values] + [1.0])
    step = plot_width / max(len(labels) - 1, 1)
    start = left + plot_width / 2 if len(labels) == 1 else left
    body = [
        f'<text x="0" y="14" {FONT} font-weight="bold">{escape(title)}</text>',
        f'<line x1="{left}" y1="{top + plot_height}" x2="{left + plot_width}" y2="{top + plot_height}" '
        'class="axis" stroke="#8a93a5"/>',
        f'<text x="{left - 4}" y="{top + 8}" text-anchor="end" {FONT}>{peak:g}</text>',
    ]
    if len(labels) == 1:
        body.append(f'<text x="{start:.1f}" y="{height - 8}" text-anchor="middle" {FONT}>{escape(labels[0])}</text>')
    elif labels:
        body.append(f'<text x="{left}" y="{height - 8}" {FONT}>{escape(labels[0])}</text>')
        body.append(
            f'<text x="{left + plot_width}" y="{height - 8}" text-anchor="end" {FONT}>{escape(labels[-1])}</text>'
        )
    for index, current in enumerate(series):
        color = PALETTE[index % len(PALETTE)]
        points = [
            (start + i * step, top + plot_height - plot_height * value / peak) for i, value in enumerate(current.values)
        ]
        if not points:
            continue
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        last_x, last_y = points[-1]
        body.append(
            f'<g class="series" data-label="{escape(current.name)}" data-value="{current.values[-1]:g}">'
            f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>'
            f'<circle cx="{last_x:.1f}" cy="{last_y:.1f}" r="3" fill="{color}"/>'
            f'<text x="{last_x + 6:.1f}" y="{last_y + 4:.1f}" {FONT}>'
            f"{escape(current.name)} {current.values[-1]:g}</text></g>"
        )
    return _svg(width, height, title, body, css_class="line-chart")


@dataclass(frozen=True)
class _Plot:
    """Where a curve chart's plot area sits and how many x positions it has."""

    left: float
    top: float
    width: float
    height: float
    columns: int

    def x(self, index: int) -> float:
        if self.columns == 1:
            return self.left + self.width / 2
        return self.left + index * self.width / (self.columns - 1)

    def y(self, value: float) -> float:
        return self.top + self.height * (1 - min(max(value, 0.0), 1.0))


_DASH = ' stroke-dasharray="4 3"'


def curve_chart(
    x_labels: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    x_title: str = "",
    width: int = 520,
    dashed: Sequence[str] = (),
) -> str:
    """Return values in [0, 1] over shared x labels (e.g. N = 1, 2, 4): every x label, a point per value.

    Each point carries its value (`data-value` and a tooltip); a legend under the plot names each series
    with its last value, so long names never run off the chart. Series named in `dashed` are references.
    """
    plot = _Plot(left=44, top=24, width=width - 60, height=170, columns=max(len(x_labels), 1))
    legend_top = plot.top + plot.height + 44
    body = [f'<text x="0" y="14" {FONT} font-weight="bold">{escape(title)}</text>']
    for tick in (0.0, 0.5, 1.0):
        y = plot.y(tick)
        body.append(
            f'<line x1="{plot.left}" y1="{y:.1f}" x2="{plot.left + plot.width}" y2="{y:.1f}" class="axis" '
            f'stroke="#8a93a5" stroke-width="{1 if tick == 0 else 0.5}"/>'
            f'<text x="{plot.left - 4}" y="{y + 4:.1f}" text-anchor="end" {FONT}>{tick:.1f}</text>'
        )
    below = plot.top + plot.height
    for index, label in enumerate(x_labels):
        body.append(
            f'<text x="{plot.x(index):.1f}" y="{below + 14}" text-anchor="middle" {FONT}>{escape(label)}</text>'
        )
    if x_title:
        middle = plot.left + plot.width / 2
        body.append(
            f'<text x="{middle:.1f}" y="{below + 28}" text-anchor="middle" {SMALL_FONT}>{escape(x_title)}</text>'
        )
    for index, current in enumerate(series):
        color, dash = PALETTE[index % len(PALETTE)], _DASH if current.name in dashed else ""
        body.append(_curve(current, plot, color, dash))
        y = legend_top + 16 * index
        last = _fmt(current.values[-1] if current.values else None, ".3f")
        body.append(
            f'<g class="legend"><line x1="{plot.left}" y1="{y - 4}" x2="{plot.left + 18}" y2="{y - 4}" '
            f'stroke="{color}" stroke-width="2"{dash}/>'
            f'<text x="{plot.left + 24}" y="{y}" {FONT}>{escape(current.name)} {last}</text></g>'
        )
    return _svg(width, int(legend_top) + 16 * len(series), title, body, css_class="curve-chart")


def _curve(current: Series, plot: _Plot, color: str, dash: str) -> str:
    """Return one series: its polyline and a point per value, each with its value."""
    points = [(plot.x(index), plot.y(value), value) for index, value in enumerate(current.values)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
    marks = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}" data-value="{value:.3f}">'
        f"<title>{escape(current.name)}: {value:.3f}</title></circle>"
        for x, y, value in points
    )
    values = ",".join(f"{value:.3f}" for _, _, value in points)
    return (
        f'<g class="series" data-label="{escape(current.name)}" data-values="{values}">'
        f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"{dash}/>{marks}</g>'
    )
