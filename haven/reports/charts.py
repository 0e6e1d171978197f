"""Bar charts drawn on the server as SVG: no script, no inline style, nothing fetched.

Geometry is worked out here; ``{% bar_chart %}`` (``templatetags/charts.py``) draws it with
presentation attributes only, which the content security policy allows. Every chart is
followed by the table of its figures, which is what screen readers and printouts rely on.
"""

from __future__ import annotations

from dataclasses import dataclass

from haven.reports.suppression import Count

WIDTH = 520
LABEL_WIDTH = 200
ROW = 30
BAR = 20
VALUE_ROOM = 110


@dataclass(frozen=True)
class Bar:
    label: str
    value: Count
    y: int
    width: int
    text_x: int


@dataclass(frozen=True)
class BarChart:
    title: str
    bars: list[Bar]
    height: int
    width: int = WIDTH
    label_width: int = LABEL_WIDTH
    bar_height: int = BAR


def bars(title: str, rows: list[tuple[str, Count]]) -> BarChart:
    """A horizontal bar per row, scaled to the largest shown count. A hidden count has no
    bar, only its "fewer than" label, so the picture gives away no more than the table."""
    room = WIDTH - LABEL_WIDTH - VALUE_ROOM
    largest = max((value.bar for _label, value in rows), default=0) or 1
    drawn = []
    for index, (label, value) in enumerate(rows):
        width = round(room * value.bar / largest)
        drawn.append(
            Bar(
                label=label if len(label) <= 26 else label[:25] + "…",
                value=value,
                y=index * ROW + 5,
                width=width,
                text_x=LABEL_WIDTH + width + 6,
            )
        )
    return BarChart(title=title, bars=drawn, height=len(rows) * ROW + 8)
