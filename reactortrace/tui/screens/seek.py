"""Ask for a time to go to in a replay."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from reactortrace.core import units


class SeekScreen(ModalScreen[int | None]):
    """Returns the time typed, in ns, or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, position: int, duration: int) -> None:
        super().__init__()
        self.position = position
        self.duration = duration

    def compose(self) -> ComposeResult:
        with Vertical(id="seek-box"):
            yield Static(
                f"Go to (now {units.clock(self.position)}, end {units.clock(self.duration)}):",
                id="seek-title",
            )
            yield Input(placeholder="12.5  350ms  1:02.5", id="seek-input")
            yield Static("", id="seek-error")

    def on_mount(self) -> None:
        self.query_one(Input).cursor_blink = False
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            self.dismiss(units.parse_duration(event.value, units.S))
        except ValueError as error:
            # Text, not markup: what was typed is in the message.
            self.query_one("#seek-error", Static).update(Text(str(error)))

    def action_cancel(self) -> None:
        self.dismiss(None)
