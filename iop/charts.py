"""Trend charts drawn on the server as SVG geometry.

No JavaScript library and nothing the Content-Security-Policy forbids: the template
draws lines and circles with SVG presentation attributes (``stroke``, ``fill``),
which are attributes, not inline CSS. The numbers are always in a table beside the
chart, so the chart is decoration for sighted readers, not the only record.
"""

from dataclasses import dataclass, field
from datetime import date

from iop import when

WIDTH, HEIGHT = 360, 170
LEFT, RIGHT, TOP, BOTTOM = 30, 10, 10, 24
# Colour-blind-safe colours (Okabe-Ito) for up to three series.
COLOURS = ("#0072B2", "#D55E00", "#009E73")


@dataclass
class Series:
    key: str
    label: str
    values: list[tuple[date, int]]
    colour: str = COLOURS[0]
    points: list[dict] = field(default_factory=list)
    path: str = ""


@dataclass
class Trend:
    width: int
    height: int
    series: list[Series]
    grid: list[dict]  # {"y": px, "label": text} for each threshold
    x_labels: list[dict]  # {"x": px, "label": text, "anchor": SVG text-anchor}
    plot_left: int = LEFT
    plot_right: int = WIDTH - RIGHT
    plot_bottom: int = HEIGHT - BOTTOM


def trend(series: list[Series], *, max_value: int, thresholds=()) -> Trend | None:
    """Place each series' (date, value) points in the plot; None when nothing to draw."""
    days = sorted({day for s in series for day, _value in s.values})
    if not days:
        return None
    first, last = days[0], days[-1]
    span = (last - first).days
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day: date) -> float:
        if span == 0:
            return LEFT + plot_w / 2
        return round(LEFT + plot_w * (day - first).days / span, 1)

    def y(value: int) -> float:
        value = max(0, min(value, max_value))
        return round(TOP + plot_h * (1 - value / max_value), 1)

    for index, s in enumerate(series):
        s.colour = COLOURS[index % len(COLOURS)]
        s.points = [
            {"x": x(day), "y": y(value), "label": f"{s.label} {when.day_short(day)}: {value}"}
            for day, value in s.values
        ]
        s.path = " ".join(f"{p['x']},{p['y']}" for p in s.points)
    grid = [{"y": y(value), "label": str(value)} for value in (0, *thresholds, max_value)]
    # The first date reads from its point rightwards, the last leftwards: neither is cut.
    x_labels = [{"x": x(first), "label": when.day(first), "anchor": "start" if span else "middle"}]
    if span:
        x_labels.append({"x": x(last), "label": when.day(last), "anchor": "end"})
    return Trend(WIDTH, HEIGHT, series, grid, x_labels)
