"""A stacked bar chart of referrals per month by source, drawn as SVG on the server."""

from __future__ import annotations

from dataclasses import dataclass

from case_store.stats import SOURCES

COLOURS = {  # Okabe-Ito: distinguishable with colour-blindness; dark enough on white
    "victims_hub": "#0072B2",
    "police": "#D55E00",
    "partner_agency": "#009E73",
    "self": "#CC79A7",
}
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 640, 260, 40, 40, 10


@dataclass(frozen=True)
class Bar:
    """One source's part of one month's bar."""

    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str


@dataclass(frozen=True)
class Chart:
    """What the SVG template draws."""

    bars: list[Bar]
    labels: list[tuple[float, str]]
    ticks: list[tuple[float, int]]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    base: float = HEIGHT - BOTTOM


def build_chart(monthly: dict[str, dict[str, int]], names: dict[str, str]) -> Chart:
    """Lay out the bars, month labels and axis ticks."""
    months = list(monthly)
    peak = max((sum(counts.values()) for counts in monthly.values()), default=0) or 1
    plot_height = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT) / max(len(months), 1)
    bars: list[Bar] = []
    labels: list[tuple[float, str]] = []
    for index, month in enumerate(months):
        x, stacked = LEFT + index * slot + slot * 0.15, 0
        for source in SOURCES:
            count = monthly[month].get(source, 0)
            if count:
                height = count / peak * plot_height
                y = HEIGHT - BOTTOM - (stacked + count) / peak * plot_height
                title = f"{month}: {count} from {names[source]}"
                bars.append(Bar(x, y, slot * 0.7, height, COLOURS[source], title))
                stacked += count
        labels.append((LEFT + index * slot + slot / 2, month))
    step = max(1, -(-peak // 4))
    ticks = [
        (HEIGHT - BOTTOM - value / peak * plot_height, value) for value in range(0, peak + 1, step)
    ]
    return Chart(bars, labels, ticks)
