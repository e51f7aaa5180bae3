"""Two lines on top: what program this is and how its loop is doing."""

from __future__ import annotations

import os
from typing import Any

from rich.text import Text
from textual.widget import Widget

from reactortrace.core import units
from reactortrace.core.diagnose.codes import RECORDING_OFF
from reactortrace.core.feed import ENDED, LIVE, PAUSED, REPLAY
from reactortrace.tui.model import ViewModel
from reactortrace.tui.widgets.blocked import SILENT_AFTER

STATE_BADGES: dict[str, tuple[str, str]] = {
    LIVE: ("● LIVE", "bold black on green"),
    PAUSED: ("❚❚ PAUSED", "bold black on yellow"),
    REPLAY: ("▶ REPLAY", "bold black on cyan"),
    ENDED: ("■ ENDED", "bold white on red"),
}
BLOCKED_BADGE = ("▲ BLOCKED", "bold white on red")
#: What the header's "dropped" figures mean (its tooltip, and the help screen).
DROPPED_EXPLAINED = (
    "dropped N: events the program recorded no room for (its ring was full), so no "
    "file or viewer has them.\n"
    "+M viewer: events this viewer's event log did not get because they came faster "
    "than it shows them; the log shows a sample of them. Counts, rates, timers, "
    "connections and warnings are made from every record the program sent and stay "
    "exact."
)
SILENT_BADGE = ("▲ NO UPDATE", "bold black on dark_orange")


def program_name(meta: dict[str, Any]) -> str:
    """The program a trace is about, as short as it can be said."""
    argv = meta.get("argv") or ["?"]
    program = str(meta.get("program") or argv[0])
    return os.path.basename(program) or program


def reactor_name(meta: dict[str, Any]) -> str:
    """The reactor class without its module."""
    reactor = str(meta.get("reactor") or "?")
    return reactor.rsplit(".", 1)[-1]


class StatusHeader(Widget):
    """Program, pid, reactor, state; uptime, rate, utilization, lag, drops, warnings."""

    def __init__(self, meta: dict[str, Any], heading: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.meta = meta
        self.heading = heading
        self._model: ViewModel | None = None
        self._shown: tuple[object, ...] = ()
        self.tooltip = DROPPED_EXPLAINED

    def show(self, model: ViewModel) -> None:
        """Redraw from the model, if what the header says may have changed."""
        shown = (id(model.snapshot), model.state, model.viewer_dropped,
                 model.silent >= SILENT_AFTER)
        if model is self._model and shown == self._shown:
            return
        self._model, self._shown = model, shown
        self.refresh()

    def render(self) -> Text:
        model = self._model
        first = self._identity()
        if model is None:
            return first
        badge, style = STATE_BADGES.get(model.state, (model.state.upper(), "reverse"))
        if model.state == LIVE and model.silent >= SILENT_AFTER:
            badge, style = SILENT_BADGE
        elif model.snapshot.blocked is not None and model.state == LIVE:
            badge, style = BLOCKED_BADGE
        pad = self.size.width - first.cell_len - len(badge) - 1
        first.append(" " * max(1, pad))
        first.append(f" {badge}", style=style)
        return Text("\n").join([first, self._numbers(model)])

    def _identity(self) -> Text:
        meta = self.meta
        line = Text()
        line.append(" reactortrace ", style="bold reverse")
        line.append(f" {self.heading or program_name(meta)}", style="bold")
        if meta.get("pid") is not None:
            line.append(f"  pid {meta['pid']}", style="dim")
        line.append(f"  {reactor_name(meta)}", style="cyan")
        return line

    def _numbers(self, model: ViewModel) -> Text:
        loop = model.snapshot.loop
        dropped = model.snapshot.dropped
        line = Text(" ")
        line.append("up ", style="dim").append(units.clock(loop.uptime))
        line.append("  ev/s ", style="dim").append(units.rate(loop.events_per_second))
        busy = "bold red" if loop.utilization >= 0.9 else ""
        line.append("  util ", style="dim").append(units.percent(loop.utilization), style=busy)
        line.append("  lag ", style="dim").append(units.duration(loop.lag))
        line.append("  dropped ", style="dim")
        line.append(str(dropped), style="bold red" if dropped else "")
        if model.viewer_dropped:
            line.append(f"+{model.viewer_dropped} viewer", style="bold red")
        warnings = len(model.snapshot.warnings)
        line.append("  warnings ", style="dim")
        line.append(str(warnings), style="bold dark_orange" if warnings else "")
        off = recording_off(model.snapshot.warnings)
        if off:
            line.append("  recording off: ", style="bold red")
            line.append(", ".join(off), style="bold red")
        return line


def recording_off(warnings: Any) -> list[str]:
    """The parts of the recording that turned themselves off, from the warnings."""
    return sorted({str(w.get("subject")) for w in warnings if w.get("code") == RECORDING_OFF})
