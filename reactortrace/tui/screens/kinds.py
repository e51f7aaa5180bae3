"""Choose which kinds of events the log shows; applies as you toggle."""

from __future__ import annotations

from typing import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import SelectionList, Static

from reactortrace.core.events import KINDS
from reactortrace.tui.describe import kind_style
from reactortrace.tui.model import DEFAULT_KINDS


class KindsScreen(ModalScreen[frozenset[str]]):
    """A checklist of kinds; ``on_change`` hears every change, the set is returned on close."""

    BINDINGS = [
        Binding("escape,backspace,k", "close", "Done"),
        Binding("a", "choose(True)", "All"),
        Binding("i", "choose(False)", "All but iteration"),
    ]

    def __init__(
        self, chosen: frozenset[str], on_change: Callable[[frozenset[str]], None]
    ) -> None:
        super().__init__()
        self.chosen = chosen
        self.on_change = on_change

    def compose(self) -> ComposeResult:
        with Vertical(id="kinds-box"):
            yield Static("Kinds shown in the log (space toggles, Esc closes)", id="kinds-title")
            yield SelectionList[str](
                *[
                    (f"[{kind_style(kind)}]{kind}[/]", kind, kind in self.chosen)
                    for kind in KINDS
                ],
                id="kinds-list",
            )

    def on_mount(self) -> None:
        self.query_one(SelectionList).focus()

    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged) -> None:
        self.chosen = frozenset(event.selection_list.selected)
        self.on_change(self.chosen)

    def action_choose(self, every: bool) -> None:
        kinds = frozenset(KINDS) if every else DEFAULT_KINDS
        selection = self.query_one(SelectionList)
        selection.deselect_all()
        for kind in kinds:
            selection.select(kind)

    def action_close(self) -> None:
        self.dismiss(self.chosen)
