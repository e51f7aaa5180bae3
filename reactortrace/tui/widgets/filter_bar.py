"""The line above the footer: the name filter and the kinds the log shows."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Label

from reactortrace.tui.model import Filter


class FilterInput(Input):
    """The name filter: Enter keeps the text, Esc clears it; both leave the box."""

    BINDINGS = [Binding("escape", "clear_and_leave", "Clear filter", show=False)]

    class Left(Message):
        """The user is done with the filter box."""

    def action_clear_and_leave(self) -> None:
        self.value = ""
        self.post_message(self.Left())

    async def action_submit(self) -> None:
        await super().action_submit()
        self.post_message(self.Left())


class FilterBar(Widget):
    """``filter [text box]  kinds: ...``"""

    def compose(self) -> ComposeResult:
        yield Label("filter", id="filter-label")
        yield FilterInput(placeholder="press / to filter by name", id="name-filter")
        yield Label(id="kinds-label")

    def on_mount(self) -> None:
        self.query_one(FilterInput).cursor_blink = False

    def show(self, flt: Filter) -> None:
        """Show the kind filter in effect."""
        self.query_one("#kinds-label", Label).update(f"kinds: {flt.describe_kinds()} (k)")

    def focus_input(self) -> None:
        """Put the cursor in the text box."""
        self.query_one(FilterInput).focus()
