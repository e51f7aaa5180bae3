"""The event log: the last minutes of events in time order, nested dispatches indented.

It draws from the model's :class:`~reactortrace.tui.history.EventHistory`
line by line (Textual's line API): only the rows on screen are rendered, each
row once (cached until it changes), so a long history or a busy program costs
no more than the screenful shown. New events are appended; while the cursor is
on the last row the log follows them, otherwise the cursor stays on its event.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, ClassVar

from rich.cells import cell_len
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
from reactortrace.tui.model import Subject, ViewModel
from reactortrace.tui.widgets.table import SCROLLBAR, ColumnSpec, column_widths, cut

#: Spaces per level of nesting, and the mark before a nested name.
INDENT = 2
NESTED = "└ "
#: Rendered rows kept (a few screens' worth).
CACHE_ROWS = 1_000


@lru_cache(maxsize=256)
def _parsed(style: str | Style) -> Style:
    return style if isinstance(style, Style) else Style.parse(style) if style else Style.null()


def _parts(cell: Text) -> list[tuple[str, str | Style]]:
    """A cell's text in (text, style) pieces: the part before its spans, then each span
    (the cells made here have consecutive spans, none overlapping)."""
    plain, spans = cell.plain, cell.spans
    if not spans:
        return [(plain, cell.style)]
    parts = [(plain[: spans[0].start], cell.style)] if spans[0].start else []
    parts += [(plain[span.start : span.end], span.style) for span in spans]
    return parts


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
        self._styles: dict[str, Style] | None = None

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
        self._set_rows(len(rows))
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
        # column_widths leaves a cell for a scrollbar: the content width has none.
        # Fixed columns take their width; name and about share the rest by their parts.
        width = self._content_width + SCROLLBAR
        natural = {key: w if isinstance(w, int) else width for key, _, w in self.COLUMNS}
        self._widths = column_widths(self.COLUMNS, natural, width)
        self._cache.clear()
        self._set_rows(len(self._rows))
        self._keep_cursor_in_view()

    @property
    def _content_width(self) -> int:
        """Cells a row has: the width less the scrollbar's."""
        return self.scrollable_content_region.width

    def _set_rows(self, rows: int) -> None:
        """Make the scrollable height ``rows`` (and the header) without a layout.

        Setting ``virtual_size`` would lay the whole screen out again, on every
        new event; only the scrollbar depends on it, so it alone is updated
        (a scrollbar appearing still changes the layout, once).
        """
        size = Size(self._content_width, rows + 1)
        if size != self.virtual_size:
            self.set_reactive(EventLog.virtual_size, size)
            self._scroll_update(size)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None
        self._cache.clear()

    def on_focus(self) -> None:
        self.notify_style_update()  # the cursor's colour
        self.refresh()

    def on_blur(self) -> None:
        self.on_focus()

    def _style(self, which: str) -> Style:
        """The widget's own style ("") or a component's, computed once per style change."""
        styles = self._styles
        if styles is None:
            styles = self._styles = {
                "": self.rich_style,
                "header": self.get_component_rich_style("event-log--header"),
                "cursor": self.get_component_rich_style("event-log--cursor"),
            }
        return styles[which]

    def render_line(self, y: int) -> Strip:
        width = self._content_width
        if y == 0:
            return self._header(width)
        index = int(self.scroll_offset.y) + y - 1
        if not 0 <= index < len(self._rows):
            return Strip.blank(width, self._style(""))
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
        cells = [Text(label, justify="right" if key in self.NUMERIC else "left")
                 for key, label, _ in self.COLUMNS]
        return self._strip(cells, width, self._style("header"))

    def _row(self, entry: Entry, name: str, width: int, on_cursor: bool) -> Strip:
        return self._strip(self.cells(entry, name), width, self._style("cursor" if on_cursor
                                                                       else ""))

    def cells(self, entry: Entry, name: str) -> list[Text]:
        """The row of ``entry``, a cell per column, named ``name``."""
        event = entry.event
        slow_ns = self._model.slow_ns if self._model is not None else 0
        slow = event.kind == ev.SLOW or (slow_ns and event.dur >= slow_ns)
        style = describe.SLOW_STYLE if slow else ""
        indent = " " * (INDENT * (entry.depth - 1)) + NESTED if entry.depth else ""
        room = max(1, self._widths.get("name", 8) - len(indent))
        note = entry.note
        ident = self._model.event_id(event) if self._model is not None else None
        about = note if note is not None else describe.about(event, ident)
        return [
            Text(units.clock(event.ts), style="dim"),
            Text(event.kind, style=describe.kind_style(event.kind)),
            Text(units.duration(event.dur) if event.dur else "", style=style, justify="right"),
            Text(indent, style="dim").append(cut(name, room), style=style),
            Text(cut(about, self._widths.get("about", 8), keep_end=False),
                 style=style or "dim"),
        ]

    def _strip(self, cells: list[Text], width: int, base: Style) -> Strip:
        """One line: each cell cut or padded to its column, a space either side.

        Segments are made here, not by Rich's renderer: a busy log draws a
        screenful of new rows on every poll."""
        segments: list[Segment] = []
        for (key, _, _), cell in zip(self.COLUMNS, cells):
            size = self._widths.get(key, 8)
            parts = _parts(cell)
            room = size - cell_len(cell.plain)
            if room < 0:
                parts, room = [(cut(cell.plain, size, keep_end=False), parts[-1][1])], 0
            segments.append(Segment(" " + " " * room if cell.justify == "right" and room > 0
                                    else " "))
            for part, part_style in parts:
                segments.append(Segment(part, _parsed(part_style)))
            segments.append(Segment(" " * (room + 1) if cell.justify != "right" and room > 0
                                    else " "))
        return Strip(segments).adjust_cell_length(width).apply_style(base)

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
        model = self._model
        subjects = model.subjects_of(entry.event) if model is not None else []
        self.post_message(self.Selected(subjects[0] if subjects else None,
                                        describe.fields(entry.event)))
