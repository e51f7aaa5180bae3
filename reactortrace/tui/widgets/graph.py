"""Loop utilization and events per second over time, as bar plots over a time axis.

One column is one second of the program's time (the model keeps one sample a
second), the newest on the right; the axis under the plots counts back from
"now". Redrawing only repaints the plots and readings: their sizes never
change, so no redraw makes Textual lay the screen out again.
"""

from __future__ import annotations

from typing import Any, Sequence

from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Static

from reactortrace.core import units
from reactortrace.tui.model import ViewModel

#: Eighths of a cell, from empty to full.
BARS = " ▁▂▃▄▅▆▇█"
#: Seconds between two labelled ticks: the smallest leaving TICK_ROOM columns.
TICK_STEPS = (10, 15, 30, 60, 120, 300, 600)
TICK_ROOM = 10


def ago(seconds: int) -> str:
    """A tick's label: ``-10s``, ``-1m``, ``-1m30s``."""
    minutes, rest = divmod(seconds, 60)
    if not minutes:
        return f"-{rest}s"
    return f"-{minutes}m{rest}s" if rest else f"-{minutes}m"


def axis(width: int, seconds_per_column: float = 1.0) -> str:
    """A time axis ``width`` cells wide, "now" at the right end: ``╵-30s ... now``."""
    if width <= 0:
        return ""
    cells = [" "] * width
    step = next((s for s in TICK_STEPS if s / seconds_per_column >= TICK_ROOM), TICK_STEPS[-1])
    end = max(0, width - len("now"))
    cells[end:] = list("now"[: width - end])
    back = step
    while True:
        column = width - 1 - round(back / seconds_per_column)
        label = "╵" + ago(back)
        if column < 0:
            break
        if column + len(label) < end:
            cells[column : column + len(label)] = list(label)
        back += step
    return "".join(cells)


class BarPlot:
    """The latest values as vertical bars, newest on the right, on a 0..top scale."""

    def __init__(
        self, values: Sequence[float], top: float, style: str, width: int, height: int
    ) -> None:
        self.values = values
        self.top = top if top > 0 else 1.0
        self.style = Style.parse(style)
        self.width = max(0, width)
        self.height = max(1, height)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width, height = self.width, self.height
        shown = list(self.values)[-width:] if width else []
        levels = [round(min(1.0, max(0.0, v / self.top)) * height * 8) for v in shown]
        levels = [0] * (width - len(levels)) + levels
        for row in range(height - 1, -1, -1):
            floor = row * 8
            yield Segment(
                "".join(BARS[min(8, max(0, level - floor))] for level in levels), self.style
            )
            if row:
                yield Segment.line()


class PlotArea(Widget):
    """Fills its region with a :class:`BarPlot`."""

    def __init__(self, style: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.plot_style = style
        self.values: Sequence[float] = ()
        self.top = 1.0

    def render(self) -> BarPlot:
        return BarPlot(self.values, self.top, self.plot_style, self.size.width, self.size.height)


class SeriesPlot(Widget):
    """One series: its name, current value and maximum on the left, the bars on the right."""

    #: Cells of the name and reading column (as styles.tcss sets it).
    DEFAULT_LABEL_WIDTH = 16

    def __init__(self, label: str, style: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.label = label
        self.plot_style = style
        self._shown: tuple[Any, ...] | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text(self.label, style="bold"), classes="series-label")
        yield PlotArea(self.plot_style)

    def set_values(self, values: Sequence[float], top: float, reading: str) -> None:
        """Show ``values`` on a 0..``top`` scale, with ``reading`` under the name."""
        plot = self.query_one(PlotArea)
        shown = (len(values), values[-1] if values else None, top, reading)
        if shown == self._shown:
            return  # the same second, the same numbers
        self._shown = shown
        plot.values, plot.top = values, top
        plot.refresh()
        label = Text(self.label, style="bold").append("\n" + reading, style="")
        self.query_one(".series-label", Static).update(label, layout=False)


class TimeAxis(Widget):
    """The plots' time axis: one column a second, counting back from "now"."""

    def render(self) -> Text:
        label = SeriesPlot.DEFAULT_LABEL_WIDTH
        return Text(" " * label + axis(self.size.width - label), style="dim")


class LoopGraph(Widget):
    """Utilization (0..100 %) above events per second (0..its recent maximum)."""

    def compose(self) -> ComposeResult:
        yield SeriesPlot("utilization", "green", id="graph-util")
        yield SeriesPlot("events/s", "cyan", id="graph-rate")
        yield TimeAxis(id="graph-axis")

    def show(self, model: ViewModel) -> None:
        """Redraw from the model's history."""
        util, rate = model.utilization, model.rate
        top_rate = max(rate, default=0.0)
        self.query_one("#graph-util", SeriesPlot).set_values(
            util,
            1.0,
            f"{units.percent(util[-1] if util else 0.0)} max {units.percent(max(util, default=0.0))}",
        )
        self.query_one("#graph-rate", SeriesPlot).set_values(
            rate, top_rate, f"{units.rate(rate[-1] if rate else 0.0)} max {units.rate(top_rate)}"
        )
