"""The event log: the last minutes of events in time order, nested dispatches indented.

It draws from the model's :class:`~reactortrace.tui.history.EventHistory`
line by line (Textual's line API): only the rows on screen are rendered, each
row once (cached until it changes), so a long history or a busy program costs
no more than the screenful shown. New events are appended; while the cursor is
on the last row the log follows them, otherwise the cursor stays on its event.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from reactortrace.core import events as ev
from reactortrace.core import units
from reactortrace.tui import describe
from reactortrace.tui.history import Entry
from reactortrace.tui.model import Subject, ViewModel, subjects_of
from reactortrace.tui.widgets.table import ColumnSpec, column_widths, cut

#: Spaces per level of nesting, and the mark before a nested name.
INDENT = 2
NESTED = "└ "
#: Rendered rows kept (a few screens' worth).
CACHE_ROWS = 1_000


class EventLog(ScrollView, can_focus=True):
    """One row per event, oldest at the top; Enter opens the event under the cursor."""

    COLUMNS: ClassVar[tuple[ColumnSpec, ...]] = (
        ("at", "at", 9),
        ("kind", "kind", 14),
        ("dur", "dur", 6),
        ("name", "name", 0.55),
        ("about", "about", 0.45),
    )
    NUMERIC = frozenset({"dur"})
    BINDINGS: ClassVar[list[Any]] = [
        Binding("up", "move(-1)", show=False),
        Binding("down", "move(1)", show=False),
        Binding("pageup", "page(-1)", show=False),
        Binding("pagedown", "page(1)", show=False),
        Binding("home", "move_to(0)", show=False),
        Binding("end", "move_to(-1)", show=False),
        Binding("enter", "select", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {"event-log--header", "event-log--cursor"}
    DEFAULT_CSS = """
    EventLog {
        background: $surface;
    }
    EventLog > .event-log--header {
        text-style: bold;
        color: $text-muted;
    }
    EventLog > .event-log--cursor {
        background: $block-cursor-blurred-background;
    }
    EventLog:focus > .event-log--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
    }
    """

    class Selected(Message):
        """Enter on a row: the event's subject (if any) and its fields."""

        def __init__(self, subject: Subject | None, fields: dict[str, Any]) -> None:
            super().__init__()
            self.subject = subject
            self.fields = fields

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._model: ViewModel | None = None
        self._rows: list[Entry] = []
        self._cursor: Entry | None = None  # None: on the last row, following
        self._shape: tuple[int, int, int] | None = None  # what was last drawn
        self._widths: dict[str, int] = {}
        self._cache: dict[tuple[int, int, str, int, bool], Strip] = {}

    # -- from the app ------------------------------------------------------

    def show(self, model: ViewModel) -> None:
        """Draw the model's history if it changed since the last call."""
        self._model = model
        rows = model.log.shown
        shape = (len(rows), model.log.reshaped, id(rows[-1]) if rows else 0)
        if shape == self._shape:
            return
        self._shape = shape
        self._rows = rows
        self.virtual_size = Size(self.size.width, len(rows) + 1)
        self._keep_cursor_in_view()
        self.refresh()

    @property
    def cursor_row(self) -> int:
        """Index of the row under the cursor (the last one while following)."""
        if self._cursor is None or self._model is None:
            return len(self._rows) - 1
        index = self._model.log.index_of(self._cursor)
        return min(len(self._rows) - 1, 0 if index is None else index)

    @property
    def following(self) -> bool:
        """Whether the cursor stays on the newest event as events arrive."""
        return self._cursor is None

    @property
    def selected(self) -> Entry | None:
        """The entry under the cursor."""
        row = self.cursor_row
        return self._rows[row] if 0 <= row < len(self._rows) else None

    # -- drawing -----------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        self._widths = column_widths(self.COLUMNS, self.size.width)
        self._cache.clear()
        self.virtual_size = Size(self.size.width, len(self._rows) + 1)
        self._keep_cursor_in_view()

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y == 0:
            return self._header(width)
        index = int(self.scroll_offset.y) + y - 1
        if not 0 <= index < len(self._rows):
            return Strip.blank(width, self.rich_style)
        entry = self._rows[index]
        on_cursor = index == self.cursor_row
        name = entry.name
        key = (id(entry), entry.depth, name, width, on_cursor)
        strip = self._cache.get(key)
        if strip is None:
            if len(self._cache) > CACHE_ROWS:
                self._cache.clear()
            strip = self._cache[key] = self._row(entry, name, width, on_cursor)
        return strip

    def _header(self, width: int) -> Strip:
        style = self.get_component_rich_style("event-log--header")
        cells = [Text(label, justify="right" if key in self.NUMERIC else "left")
                 for key, label, _ in self.COLUMNS]
        return self._strip(cells, width, style)

    def _row(self, entry: Entry, name: str, width: int, on_cursor: bool) -> Strip:
        base = self.get_component_rich_style("event-log--cursor") if on_cursor else None
        return self._strip(self.cells(entry, name), width, base)

    def cells(self, entry: Entry, name: str) -> list[Text]:
        """The row of ``entry``, a cell per column, named ``name``."""
        event = entry.event
        slow_ns = self._model.slow_ns if self._model is not None else 0
        slow = event.kind == ev.SLOW or (slow_ns and event.dur >= slow_ns)
        style = describe.SLOW_STYLE if slow else ""
        indent = " " * (INDENT * (entry.depth - 1)) + NESTED if entry.depth else ""
        room = max(1, self._widths.get("name", 8) - len(indent))
        note = entry.note
        about = note if note is not None else describe.about(event)
        return [
            Text(units.clock(event.ts), style="dim"),
            Text(event.kind, style=describe.kind_style(event.kind)),
            Text(units.duration(event.dur) if event.dur else "", style=style, justify="right"),
            Text(indent, style="dim").append(cut(name, room), style=style),
            Text(cut(about, self._widths.get("about", 8), keep_end=False),
                 style=style or "dim"),
        ]

    def _strip(self, cells: list[Text], width: int, base: Style | None) -> Strip:
        segments: list[Segment] = []
        for (key, _, _), cell in zip(self.COLUMNS, cells):
            size = self._widths.get(key, 8)
            if cell.justify == "right":
                cell.truncate(size, overflow="ellipsis")
                cell.pad_left(size - cell.cell_len)
            else:
                cell.truncate(size, overflow="ellipsis", pad=True)
            segments.append(Segment(" "))
            segments.extend(Text().append_text(cell).render(self.app.console))  # with its style
            segments.append(Segment(" "))
        strip = Strip(segments).adjust_cell_length(width)
        return strip.apply_style(self.rich_style if base is None else base)

    # -- the cursor --------------------------------------------------------

    def _keep_cursor_in_view(self) -> None:
        shown = max(1, self.size.height - 1)
        row, top = self.cursor_row, int(self.scroll_offset.y)
        if self.following or row >= top + shown:
            top = row - shown + 1
        elif row < top:
            top = row
        self.scroll_to(y=max(0, top), animate=False, immediate=True)

    def _go(self, row: int) -> None:
        if not self._rows:
            return
        row = max(0, min(len(self._rows) - 1, row))
        self._cursor = None if row == len(self._rows) - 1 else self._rows[row]
        self._keep_cursor_in_view()
        self.refresh()

    def action_move(self, step: int) -> None:
        self._go(self.cursor_row + step)

    def action_page(self, pages: int) -> None:
        self._go(self.cursor_row + pages * max(1, self.size.height - 2))

    def action_move_to(self, row: int) -> None:
        self._go(row if row >= 0 else len(self._rows) - 1)

    def on_click(self, event: events.Click) -> None:
        if event.y >= 1:
            self._go(int(self.scroll_offset.y) + event.y - 1)

    def action_select(self) -> None:
        entry = self.selected
        if entry is None:
            return
        subjects = subjects_of(entry.event)
        self.post_message(self.Selected(subjects[0] if subjects else None,
                                        describe.fields(entry.event)))
