"""A DataTable redrawn from the view model, keeping the user's place.

Every table of the UI is a :class:`ModelTable`: it turns the model into rows
with stable keys, and :meth:`ModelTable.set_rows` makes the table show them
with as little work as it can (changed cells only when the rows are the same),
keeping the cursor on the same row, or at the bottom when it was following it.
Columns have a fixed width or a share of the room left, recomputed when the
table is resized, so a table always fits its pane without scrolling sideways.
"""

from __future__ import annotations

from itertools import islice
from typing import Any, ClassVar, Iterable, Sequence, Union

from rich.text import Text
from textual import events
from textual.message import Message
from textual.widgets import DataTable

from reactortrace.tui.model import Filter, Subject, ViewModel

#: (key, label, width): an int is a fixed width, a float a share of the rest.
ColumnSpec = tuple[str, str, Union[int, float]]
#: A row: its key and its cells by column key.
Row = tuple[str, dict[str, Any]]
#: What Enter on a row opens: a subject and/or fields of its own (an event, a warning).
Target = tuple[Union[Subject, None], Union[dict[str, Any], None]]

#: Narrowest a shared column gets.
MIN_SHARED = 8
#: Cell padding on each side of a column, and the vertical scrollbar.
PADDING = 1
SCROLLBAR = 1


def cut(value: Any, limit: int, *, keep_end: bool = True) -> str:
    """``value`` as text in ``limit`` characters: names keep their end, prose its start."""
    text = "-" if value is None else str(value)
    if len(text) <= limit:
        return text
    if limit <= 1:
        return "…"[:limit]
    if keep_end:
        return "…" + text[-(limit - 1) :]
    head = text[: limit - 1]
    space = head.rfind(" ")
    if space >= limit // 2:  # prose is cut between words, never inside one
        head = head[:space].rstrip(" ,;:")
    return head + "…"


def as_text(cell: Any) -> Any:
    """A cell as the table should show it: a plain string becomes ``Text``.

    DataTable reads a ``str`` cell as Rich markup; names come from the trace,
    and ``[bold]`` or ``[/]`` in one must show as it is, not restyle or break the table.
    """
    return Text(cell) if isinstance(cell, str) else cell


def right(text: str, style: str = "") -> Text:
    """Right-aligned cell text, for numbers."""
    return Text(text, style=style, justify="right")


def column_widths(specs: Sequence[ColumnSpec], width: int) -> dict[str, int]:
    """Widths that fill ``width`` cells: fixed ones as given, the rest shared."""
    widths = {key: w for key, _, w in specs if isinstance(w, int)}
    shares = [(key, w) for key, _, w in specs if isinstance(w, float)]
    room = width - SCROLLBAR - sum(widths.values()) - 2 * PADDING * len(specs)
    total_share = sum(w for _, w in shares) or 1.0
    for key, share in shares:
        widths[key] = max(MIN_SHARED, int(room * share / total_share))
    if shares:  # rounding leftovers go to the first shared column
        spare = room - sum(widths[key] for key, _ in shares)
        widths[shares[0][0]] += max(0, spare)
    return widths


class ModelTable(DataTable):
    """A row-cursor table filled from a :class:`ViewModel` on every update."""

    COLUMNS: ClassVar[tuple[ColumnSpec, ...]] = ()
    #: Columns of the compact variant shown beside other panes (None: same as COLUMNS).
    COMPACT_COLUMNS: ClassVar[tuple[ColumnSpec, ...] | None] = None
    #: Rows shown at most (the first ones: soonest, hottest, newest), as the
    #: tables are redrawn several times a second; compact panes show fewer.
    MAX_ROWS: ClassVar[int] = 200
    COMPACT_MAX_ROWS: ClassVar[int] = 50
    #: Keep the cursor on the last row when it was there (logs).
    FOLLOW: ClassVar[bool] = False
    #: Columns given up, in this order, while a shared column would be narrower
    #: than MIN_SHARE (the detail screen still shows every field).
    NARROW_DROP: ClassVar[tuple[str, ...]] = ()
    MIN_SHARE: ClassVar[int] = 12
    #: Columns of numbers: their cells and headers are right-aligned.
    NUMERIC: ClassVar[frozenset[str]] = frozenset()

    class Shown(Message):
        """A table hidden at the last update got room on screen: it needs the model."""

    def __init__(self, *, compact: bool = False, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, cell_padding=PADDING, **kwargs)
        self.compact_view = compact
        self.widths: dict[str, int] = {}
        self.shown_columns: tuple[ColumnSpec, ...] = self.column_spec
        self._laid_out_for = -1
        self._keys: list[str] = []
        self._cells: dict[str, tuple[Any, ...]] = {}
        self._targets: dict[str, Target] = {}
        self._last: tuple[ViewModel, Filter] | None = None

    @property
    def max_rows(self) -> int:
        """How many rows this instance shows at most."""
        return self.COMPACT_MAX_ROWS if self.compact_view else self.MAX_ROWS

    @property
    def column_spec(self) -> tuple[ColumnSpec, ...]:
        """The columns this instance shows."""
        if self.compact_view and self.COMPACT_COLUMNS is not None:
            return self.COMPACT_COLUMNS
        return self.COLUMNS

    def on_mount(self) -> None:
        self._lay_out(self.size.width)

    def on_resize(self, event: events.Resize) -> None:
        width = self.size.width  # the event's size includes borders
        if width > 0 and width != self._laid_out_for:
            self._lay_out(width)
            self.redraw()
        if width > 0 and self._last is None:
            # Shown by a layout change (a wider terminal) after the app last drew.
            self.post_message(self.Shown())

    def _lay_out(self, width: int) -> None:
        """(Re)create the columns for a table ``width`` cells wide."""
        self._laid_out_for = width
        specs = self.column_spec
        for drop in (None, *self.NARROW_DROP):
            specs = tuple(spec for spec in specs if spec[0] != drop)
            widths = column_widths(specs, width)
            if all(widths[key] >= self.MIN_SHARE for key, _, w in specs if isinstance(w, float)):
                break
        self.shown_columns, self.widths = specs, widths
        self.clear(columns=True)
        self._keys, self._cells = [], {}
        for key, label, _ in specs:
            self.add_column(self.header(key, label), key=key, width=widths[key])
        self.columns_added()

    def header(self, key: str, label: str, style: str = "") -> Text:
        """A column's header text, aligned like its cells."""
        return Text(label, style=style, justify="right" if key in self.NUMERIC else "left")

    def columns_added(self) -> None:
        """Hook run once the columns exist (Textual calls every class's on_mount)."""

    def fit(self, key: str, value: Any, *, keep_end: bool = True) -> str:
        """``value`` cut to the width of column ``key``."""
        return cut(value, self.widths.get(key, MIN_SHARED), keep_end=keep_end)

    def show(self, model: ViewModel, flt: Filter) -> None:
        """Redraw from the model."""
        self._last = (model, flt)
        self._targets = {}
        columns = [key for key, _, _ in self.shown_columns]
        rows = [
            (key, tuple(as_text(cells[c]) for c in columns))
            for key, cells in islice(self.rows_for(model, flt), self.max_rows)
        ]
        self.set_rows(rows)

    def redraw(self) -> None:
        """Redraw from the model last shown (after a sort or a resize)."""
        if self._last is not None:
            self.show(*self._last)

    def rows_for(self, model: ViewModel, flt: Filter) -> Iterable[Row]:
        """The rows to show, in order, with cells for at least ``column_spec``.

        Only the first MAX_ROWS are taken, so a generator does no more work than
        it must. Implementations call :meth:`aim` for each row Enter can open.
        """
        raise NotImplementedError

    def aim(self, key: str, subject: Subject | None, extra: dict[str, Any] | None = None) -> None:
        """Say what Enter on row ``key`` opens."""
        self._targets[key] = (subject, extra)

    @property
    def selected_key(self) -> str | None:
        """The key of the row under the cursor."""
        if not self._keys or not 0 <= self.cursor_row < len(self._keys):
            return None
        return self._keys[self.cursor_row]

    @property
    def selected_target(self) -> Target | None:
        """What Enter on the row under the cursor opens."""
        key = self.selected_key
        return None if key is None else self._targets.get(key)

    def set_rows(self, rows: Sequence[tuple[str, tuple[Any, ...]]]) -> None:
        """Show exactly ``rows``, touching only what changed."""
        rows = _unique(rows)
        keys = [key for key, _ in rows]
        if keys == self._keys:
            self._update_cells(rows)
            return
        selected = self.selected_key
        following = self.FOLLOW and (not self._keys or self.cursor_row >= len(self._keys) - 1)
        scroll_y = self.scroll_y
        self.clear()
        for key, cells in rows:
            self.add_row(*cells, key=key)
        self._keys = keys
        self._cells = dict(rows)
        if not keys:
            return
        if following:
            self.move_cursor(row=len(keys) - 1, animate=False)
            return
        row = keys.index(selected) if selected in self._cells else 0
        self.scroll_to(y=scroll_y, animate=False, immediate=True)
        self.move_cursor(row=row, animate=False)

    def _update_cells(self, rows: Sequence[tuple[str, tuple[Any, ...]]]) -> None:
        column_keys = [key for key, _, _ in self.shown_columns]
        for key, cells in rows:
            old = self._cells.get(key)
            if old == cells:
                continue
            for index, value in enumerate(cells):
                if old is None or old[index] != value:
                    self.update_cell(key, column_keys[index], value)
            self._cells[key] = cells


def _unique(rows: Sequence[tuple[str, tuple[Any, ...]]]) -> Sequence[tuple[str, tuple[Any, ...]]]:
    """``rows`` without a second row of the same key (DataTable refuses one)."""
    seen: set[str] = set()
    kept = []
    for row in rows:
        if row[0] not in seen:
            seen.add(row[0])
            kept.append(row)
    return kept
