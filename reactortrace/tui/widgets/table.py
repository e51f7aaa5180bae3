"""A DataTable redrawn from the view model, keeping the user's place.

Every table of the UI is a :class:`ModelTable`: it turns the model into rows
with stable keys, and :meth:`ModelTable.set_rows` makes the table show them
with as little work as it can (changed cells only when the rows are the same),
keeping the cursor on the same row, or at the bottom when it was following it.

Columns are sized to their content. Key columns (ids, types, addresses, due
times) are never cut; the name and prose columns share what room is left and
are cut with an ellipsis (names keep their end, prose its start). A table in
a side pane says how wide it would like to be (:class:`ModelTable.Wants`) so
the pane beside it can give way.

Any table sorts on any column (``s``, ``S`` or a click on a header), searches
(the search text is highlighted; ``]`` and ``[`` go to the next and previous
row that holds it) and follows a row (``f``: the cursor stays on it across
updates).
"""

from __future__ import annotations

from itertools import islice
from typing import Any, ClassVar, Iterable, Sequence, Union

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import Reactive
from textual.widgets import DataTable

from reactortrace.tui.model import Filter, Subject, ViewModel

#: (key, label, width): an int marks a key column sized to its content (never
#: cut), a float a column that shares the room left with the others (cut first).
ColumnSpec = tuple[str, str, Union[int, float]]
#: A row: its key and its cells by column key (and DIM: True for a row gone by).
Row = tuple[str, dict[str, Any]]
#: What Enter on a row opens: a subject and/or fields of its own (an event, a warning).
Target = tuple[Union[Subject, None], Union[dict[str, Any], None]]

#: Narrowest a shared column gets, and the most of it a table asks room for.
MIN_SHARED = 8
WANT_SHARED = 30
#: Cell padding on each side of a column, the vertical scrollbar and a pane's border.
PADDING = 1
SCROLLBAR = 1
BORDER = 2
#: A row's cell key saying it is shown dimmed (a closed connection, a fired timer).
DIM = "_dim"
SEARCH_STYLE = "bold black on yellow"


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


def cut_text(text: Text, limit: int, *, keep_end: bool = True) -> Text:
    """Styled ``text`` in ``limit`` cells, cut like :func:`cut`."""
    if text.cell_len <= limit:
        return text
    plain = text.plain
    kept = cut(plain, limit, keep_end=keep_end)
    if keep_end:
        out = Text("…", style=text.style, justify=text.justify)
        out.append_text(text[len(plain) - (len(kept) - 1):])
        return out
    out = text[: len(kept) - 1]
    out.append("…")
    return out


def as_text(cell: Any) -> Text:
    """A cell as the table should show it: plain strings and None become ``Text``.

    DataTable reads a ``str`` cell as Rich markup; names come from the trace,
    and ``[bold]`` or ``[/]`` in one must show as it is, not restyle or break the table.
    """
    if isinstance(cell, Text):
        return cell
    return Text("-" if cell is None else str(cell))


class Value(Text):
    """Cell text that sorts by a value of its own (a duration by its nanoseconds)."""

    sort_value: Any = None


def right(text: str, style: str = "", value: Any = None) -> Text:
    """Right-aligned cell text, for numbers; ``value`` is what it sorts by."""
    cell = Value(text, style=style, justify="right")
    cell.sort_value = value
    return cell


def sort_value(cell: Any) -> tuple[int, Any]:
    """How a cell sorts: numbers (given or read) before text, text without case."""
    value = getattr(cell, "sort_value", None)
    if isinstance(value, (int, float)):
        return (0, value)
    plain = cell.plain if isinstance(cell, Text) else ("" if cell is None else str(cell))
    return (1, plain.lower())


def column_widths(
    specs: Sequence[ColumnSpec], natural: dict[str, int], width: int
) -> dict[str, int]:
    """Widths within ``width`` cells: key columns as wide as their content,
    shared ones as wide as theirs when there is room, else a fair part of it."""
    widths = {key: max(1, natural.get(key, 1)) for key, _, w in specs if isinstance(w, int)}
    shares = {key: w for key, _, w in specs if isinstance(w, float)}
    room = width - SCROLLBAR - sum(widths.values()) - 2 * PADDING * len(specs)
    if not shares:
        return widths
    wanted = {key: max(1, natural.get(key, 1)) for key in shares}
    if sum(wanted.values()) <= room:
        widths.update(wanted)  # the spare goes to the biggest shared column
        widest = max(shares, key=lambda key: shares[key])
        widths[widest] += room - sum(wanted.values())
        return widths
    # Too little room: narrow columns take what they need, the rest share fairly.
    left = dict(shares)
    while left:
        total = sum(left.values())
        fits = [k for k in left if wanted[k] <= room * left[k] / total]
        if not fits:
            break
        for key in fits:
            widths[key] = wanted[key]
            room -= wanted[key]
            del left[key]
    total = sum(left.values()) or 1.0
    for key, share in left.items():
        widths[key] = max(MIN_SHARED, int(room * share / total))
    if left:  # rounding leftovers go to the first shared column
        first = next(iter(left))
        widths[first] += max(0, room - sum(widths[key] for key in left))
    return widths


class ModelTable(DataTable):
    """A row-cursor table filled from a :class:`ViewModel` on every update."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("home", "scroll_top", "First row", show=False),
        Binding("end", "scroll_bottom", "Last row", show=False),
        Binding("s", "next_sort", "Sort", show=False),
        Binding("S", "reverse_sort", "Reverse sort", show=False),
        Binding("f", "follow", "Follow row", show=False),
        Binding("right_square_bracket,f3", "next_match", "Next match", show=False),
        Binding("left_square_bracket,shift+f3", "previous_match", "Previous match", show=False),
    ]
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
    #: Columns of prose, cut at their end (names keep their end instead).
    PROSE: ClassVar[frozenset[str]] = frozenset()

    #: DataTable sets it whenever rows come or go. As the layout reactive
    #: Widget makes it, that would lay the whole screen out again several
    #: times a second; a table's own size is its pane's, so only its
    #: scrollbars depend on it (a scrollbar appearing still lays out, once).
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    def watch_virtual_size(self, size: Size) -> None:
        self._scroll_update(size)

    class Shown(Message):
        """A table hidden at the last update got room on screen: it needs the model."""

    class Wants(Message):
        """The width (with borders) at which the key columns of the table show
        whole, and its shared ones up to WANT_SHARED."""

        def __init__(self, table: "ModelTable", width: int) -> None:
            super().__init__()
            self.table = table
            self.width = width

    def __init__(self, *, compact: bool = False, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, cell_padding=PADDING, **kwargs)
        self.compact_view = compact
        self.widths: dict[str, int] = {}
        self.shown_columns: tuple[ColumnSpec, ...] = self.column_spec
        #: Content widths seen (they only grow, so columns do not jitter).
        self.natural: dict[str, int] = {}
        self.sort_column: str | None = None
        self.sort_reverse = False
        #: The key of the row the cursor follows across updates (``f``).
        self.followed: str | None = None
        self.wanted_width = 0
        self._laid_out_for = -1
        self._keys: list[str] = []
        #: The row under the cursor when the columns were last laid out again
        #: (which empties the table), to put the cursor back on.
        self._chosen: str | None = None
        self._cells: dict[str, tuple[Any, ...]] = {}
        self._matches: list[str] = []
        self._prose = set(self.PROSE)
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

    def _plan(self, width: int) -> tuple[tuple[ColumnSpec, ...], dict[str, int]]:
        """The columns to show at ``width`` and their widths."""
        specs = self.column_spec
        natural = {key: max(cell_len(label), self.natural.get(key, 0)) for key, label, _ in specs}
        widths = column_widths(specs, natural, width)
        for drop in self.NARROW_DROP:
            squeezed = any(
                widths[key] < min(natural[key], self.MIN_SHARE)
                for key, _, w in specs if isinstance(w, float)
            )
            if not squeezed:
                break
            specs = tuple(spec for spec in specs if spec[0] != drop)
            widths = column_widths(specs, natural, width)
        return specs, widths

    def _lay_out(self, width: int) -> None:
        """(Re)create the columns for a table ``width`` cells wide."""
        if self._keys:  # else: not shown since the last time, or never
            at_end = self.cursor_row >= len(self._keys) - 1
            self._chosen = None if self.FOLLOW and at_end else self.selected_key
        self._laid_out_for = width
        self.shown_columns, self.widths = self._plan(width)
        self.clear(columns=True)
        self._keys, self._cells = [], {}
        for key, label, _ in self.shown_columns:
            self.add_column(self.header(key, label), key=key, width=self.widths[key])
        self.columns_added()
        self._label_sort()

    def header(self, key: str, label: str, style: str = "") -> Text:
        """A column's header text, aligned like its cells."""
        return Text(label, style=style, justify="right" if key in self.NUMERIC else "left")

    def columns_added(self) -> None:
        """Hook run once the columns exist (Textual calls every class's on_mount)."""

    def fit(self, key: str, value: Any, *, keep_end: bool = True) -> str:
        """``value`` as the text of column ``key`` (the table cuts it to the column's
        width when it shows it: names keep their end, prose, ``keep_end=False``, its start)."""
        if not keep_end:
            self._prose.add(key)
        return "-" if value is None else str(value)

    def show(self, model: ViewModel, flt: Filter) -> None:
        """Redraw from the model."""
        self._last = (model, flt)
        self._targets = {}
        rows = list(islice(self.rows_for(model, flt), self.max_rows))
        column = self.sort_column
        if column is not None:
            rows.sort(key=lambda row: sort_value(row[1].get(column)), reverse=self.sort_reverse)
        self._measure(rows)
        needle = flt.search.lower()
        self._matches = []
        shown = []
        for key, cells in rows:
            texts = self._cells_of(cells, needle)
            if needle and any(needle in text.plain.lower() for text in texts):
                self._matches.append(key)
            shown.append((key, texts))
        self.set_rows(shown)

    def _cells_of(self, cells: dict[str, Any], needle: str) -> tuple[Text, ...]:
        """A row's cells cut to their columns, dimmed if it is gone, the search lit."""
        out = []
        dim = cells.get(DIM)
        widths = self.widths
        for key, _, _ in self.shown_columns:
            text = as_text(cells.get(key))
            limit = widths.get(key, MIN_SHARED)
            if text.cell_len > limit:
                text = cut_text(text, limit, keep_end=key not in self._prose)
            if dim:
                text = text.copy()
                text.stylize("dim")
            if needle and needle in text.plain.lower():
                text = text.copy()
                text.highlight_words([needle], SEARCH_STYLE, case_sensitive=False)
            out.append(text)
        return tuple(out)

    def _measure(self, rows: Sequence[Row]) -> None:
        """Take the rows' content widths; lay the columns out again if one grew."""
        natural = self.natural
        grew = False
        for key, _, _ in self.column_spec:
            widest = 0
            for _, cells in rows:
                cell = cells.get(key)
                width = cell.cell_len if isinstance(cell, Text) else len(str(cell))
                if width > widest:
                    widest = width
            if widest > natural.get(key, 0):
                natural[key] = widest
                grew = True
        if not grew:
            return
        specs = self.column_spec
        wanted = SCROLLBAR + BORDER
        for key, label, share in specs:
            width = max(cell_len(label), natural.get(key, 0))
            wanted += 2 * PADDING + (width if isinstance(share, int) else min(width, WANT_SHARED))
        if wanted != self.wanted_width:
            self.wanted_width = wanted
            self.post_message(self.Wants(self, wanted))
        if self._laid_out_for > 0 and self._plan(self._laid_out_for) != (
            self.shown_columns, self.widths
        ):
            self._lay_out(self._laid_out_for)

    def redraw(self) -> None:
        """Redraw from the model last shown (after a sort or a resize)."""
        if self._last is not None:
            self.show(*self._last)

    def rows_for(self, model: ViewModel, flt: Filter) -> Iterable[Row]:
        """The rows to show, in order, with cells for at least ``column_spec``.

        Only the first MAX_ROWS are taken, so a generator does no more work than
        it must. Implementations call :meth:`aim` for each row Enter can open.
        Cells are whole: the table cuts them to their columns.
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
            self._keep_followed()
            return
        selected = self.followed or self.selected_key or self._chosen
        following = self.FOLLOW and self._chosen is None and (
            not self._keys or self.cursor_row >= len(self._keys) - 1)
        scroll_y = self.scroll_y
        self.clear()
        for key, cells in rows:
            self.add_row(*cells, key=key)
        self._keys = keys
        self._cells = dict(rows)
        if not keys:
            return
        self._chosen = None
        if self.followed in self._cells:
            self._keep_followed()
            return
        if following:
            self.move_cursor(row=len(keys) - 1, animate=False)
            return
        row = keys.index(selected) if selected in self._cells else 0
        self.scroll_to(y=scroll_y, animate=False, immediate=True)
        self.move_cursor(row=row, animate=False)

    def _keep_followed(self) -> None:
        """Keep the cursor, and the view, on the followed row."""
        key = self.followed
        if key is None or key not in self._cells:
            return
        row = self._keys.index(key)
        if row != self.cursor_row:
            self.move_cursor(row=row, animate=False, scroll=True)

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

    # -- sorting, searching, following ----------------------------------------

    def sort_by(self, column: str, reverse: bool | None = None) -> None:
        """Sort on ``column``; numbers biggest first unless ``reverse`` says otherwise."""
        if reverse is None:
            reverse = column in self.NUMERIC
        self.sort_column = column
        self.sort_reverse = reverse
        self._label_sort()
        self.redraw()

    def action_next_sort(self) -> None:
        """Sort on the next column (the first after the last)."""
        keys = [key for key, _, _ in self.shown_columns]
        index = keys.index(self.sort_column) if self.sort_column in keys else -1
        self.sort_by(keys[(index + 1) % len(keys)])

    def action_reverse_sort(self) -> None:
        """Turn the sort order round."""
        if self.sort_column is None:
            self.action_next_sort()
        assert self.sort_column is not None
        self.sort_by(self.sort_column, not self.sort_reverse)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        column = str(event.column_key.value or "")
        if column == self.sort_column:
            self.sort_by(column, not self.sort_reverse)
        else:
            self.sort_by(column)

    def _label_sort(self) -> None:
        """Mark the sort column's header with the direction of the sort."""
        for key, label, _ in self.shown_columns:
            column = self.columns.get(key)  # type: ignore[call-overload]
            if column is None:
                continue
            if key == self.sort_column:
                arrow = "▼" if self.sort_reverse else "▲"
                column.label = self.header(key, f"{label}{arrow}", "bold")
            else:
                column.label = self.header(key, self.column_label(key, label))
        self._require_update_dimensions = True
        self.refresh()

    def column_label(self, key: str, label: str) -> str:
        """The header of an unsorted column (tables with modes name them here)."""
        return label

    def action_follow(self) -> None:
        """Follow the row under the cursor across updates, or stop following."""
        key = self.selected_key
        self.followed = None if key is None or key == self.followed else key
        if self.followed is not None:
            self.notify("Following this row (f again to stop)", timeout=2)

    def action_next_match(self) -> None:
        """Go to the next row holding the search text."""
        self._go_to_match(1)

    def action_previous_match(self) -> None:
        """Go to the previous row holding the search text."""
        self._go_to_match(-1)

    def _go_to_match(self, step: int) -> None:
        if not self._matches:
            return
        rows = [self._keys.index(key) for key in self._matches]
        here = self.cursor_row
        ahead = [row for row in rows if (row - here) * step > 0]
        if ahead:
            target = min(ahead) if step > 0 else max(ahead)
        else:  # wrap round
            target = min(rows) if step > 0 else max(rows)
        self.followed = None
        self.move_cursor(row=target, animate=False, scroll=True)


def _unique(rows: Sequence[tuple[str, tuple[Any, ...]]]) -> Sequence[tuple[str, tuple[Any, ...]]]:
    """``rows`` without a second row of the same key (DataTable refuses one)."""
    seen: set[str] = set()
    kept = []
    for row in rows:
        if row[0] not in seen:
            seen.add(row[0])
            kept.append(row)
    return kept
