"""The line above the footer: the search or name filter, and the kinds the log shows.

One text box serves both: ``/`` opens it to search (matches are highlighted,
nothing is hidden), ``\\`` to filter (rows without the text are hidden).
"""

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


SEARCH = "search"
FILTER = "filter"
PLACEHOLDERS = {
    SEARCH: "/ searches every view (] [ next and previous match), \\ filters",
    FILTER: "\\ filters every view by name, / searches",
}


class FilterBar(Widget):
    """``search [text box]  kinds: ...`` (or ``filter``)"""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.mode = SEARCH

    def compose(self) -> ComposeResult:
        yield Label(SEARCH, id="filter-label")
        yield FilterInput(placeholder=PLACEHOLDERS[SEARCH], id="name-filter")
        yield Label(id="kinds-label")

    def on_mount(self) -> None:
        self.query_one(FilterInput).cursor_blink = False

    def show(self, flt: Filter) -> None:
        """Show the kind filter in effect."""
        self.query_one("#kinds-label", Label).update(f"kinds: {flt.describe_kinds()} (k)")

    def focus_input(self, mode: str, flt: Filter) -> None:
        """Put the cursor in the text box, to search or to filter."""
        box = self.query_one(FilterInput)
        if mode != self.mode:
            self.mode = mode
            self.query_one("#filter-label", Label).update(mode)
            box.placeholder = PLACEHOLDERS[mode]
            with box.prevent(Input.Changed):
                box.value = flt.search if mode == SEARCH else flt.text
        box.focus()
