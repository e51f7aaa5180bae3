"""Where a replay is: play state, speed, position / duration and a progress bar."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widget import Widget

from reactortrace.core import units
from reactortrace.core.replay import ReplayControls
from reactortrace.tui.model import ViewModel


def speed_label(speed: float) -> str:
    """``1x``, ``0.25x``, ``64x``."""
    return f"{speed:g}x"


class ReplayBar(Widget):
    """One line under the header, shown for replayed traces only."""

    def __init__(self, feed: ReplayControls, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.feed = feed
        self._model: ViewModel | None = None

    def show(self, model: ViewModel) -> None:
        """Redraw from the model."""
        self._model = model
        self.refresh()

    def render(self) -> Text:
        model = self._model
        position = model.position if model else 0
        duration = model.duration if model else 0
        line = Text(" ")
        if self.feed.playing:
            line.append("▶ play ", style="bold green")
        else:
            line.append("❚❚ pause", style="bold yellow")
        line.append(f" {speed_label(self.feed.speed):>5} ", style="bold")
        line.append(f" {units.clock(position)} / {units.clock(duration)} ")
        width = max(0, self.size.width - line.cell_len - 1)
        done = round(width * position / duration) if duration else 0
        line.append("━" * done, style="cyan")
        line.append("─" * (width - done), style="bright_black")
        return line
