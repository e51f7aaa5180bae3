"""Every key of the UI, from the one table in :mod:`reactortrace.tui.keys`."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from reactortrace.tui.keys import APP_KEYS, OTHER_KEYS, TABLES
from reactortrace.tui.widgets.header import DROPPED_EXPLAINED


def keys_table() -> Table:
    """A two-column table of keys, grouped as :data:`APP_KEYS` groups them."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    group = None
    rows = [(k.group, k.label, k.description) for k in APP_KEYS]
    rows += [(TABLES, label, text) for label, text in OTHER_KEYS]
    for row_group, label, description in rows:
        if row_group != group:
            if group is not None:
                table.add_row("", "")
            table.add_row(Text(row_group, style="bold underline"), "")
            group = row_group
        table.add_row(label, description)
    return table


class HelpScreen(ModalScreen[None]):
    """A box listing every key; Esc or ? closes it."""

    BINDINGS = [
        Binding("escape,question_mark,f1,backspace", "dismiss", "Close"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(Text("Keys", style="bold"), id="help-title")
            yield Static(keys_table(), id="help-keys")
            yield Static(Text("\nThe header", style="bold"), id="help-header-title")
            yield Static(Text(DROPPED_EXPLAINED), id="help-dropped")
