"""Hot callables: how often and how long each ran (in all, and itself: less the
dispatches it ran), sortable by any column."""

from __future__ import annotations

from typing import Any, ClassVar, Iterator

from textual.binding import Binding, BindingType
from textual.widgets import DataTable

from reactortrace.core import units
from reactortrace.core.snapshot import CallableStats
from reactortrace.tui.model import Filter, ViewModel
from reactortrace.tui.widgets.table import ModelTable, Row, right

#: Column key -> how rows sort on it (text columns ascending, numbers descending).
SORT_KEYS: dict[str, Any] = {
    "name": lambda s: s.name,
    "kind": lambda s: s.kind,
    "count": lambda s: s.count,
    "total": lambda s: s.total,
    "self": lambda s: s.self_time,
    "mean": lambda s: s.mean,
    "max": lambda s: s.max,
    "p95": lambda s: s.p95,
    "errors": lambda s: s.errors,
}
TEXT_COLUMNS = frozenset({"name", "kind"})


class CallablesTable(ModelTable):
    """One row per (callable, kind); ``s`` or a header click picks the sort column."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "next_sort", "Sort", show=True),
        Binding("S", "reverse_sort", "Reverse", show=False),
    ]
    COLUMNS = (
        ("name", "callable", 1.0),
        ("kind", "kind", 14),
        ("count", "count", 7),
        ("total", "total", 7),
        ("self", "self", 7),
        ("mean", "mean", 7),
        ("max", "max", 7),
        ("p95", "p95", 7),
        ("errors", "errors", 8),
    )
    NARROW_DROP = ("mean", "kind", "errors")
    MIN_SHARE = 24
    NUMERIC = frozenset({"count", "total", "self", "mean", "max", "p95", "errors"})
    COMPACT_COLUMNS = (
        ("name", "callable", 1.0),
        ("count", "count", 7),
        ("total", "total", 7),
        ("max", "max", 7),
    )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sort_column = "total"
        self.sort_reverse = True

    def columns_added(self) -> None:
        self._label_columns()

    def rows_for(self, model: ViewModel, flt: Filter) -> Iterator[Row]:
        stats = [s for s in model.snapshot.callables if flt.shows_text(s.name, s.kind)]
        stats.sort(key=lambda s: s.name)  # ties keep a stable, readable order
        stats.sort(key=SORT_KEYS[self.sort_column], reverse=self.sort_reverse)
        return map(self._row, stats)

    def _row(self, stats: CallableStats) -> Row:
        key = f"{stats.kind}\0{stats.name}"
        self.aim(key, ("callable", stats.name))
        return (
            key,
            {
                "name": self.fit("name", stats.name),
                "kind": stats.kind,
                "count": right(str(stats.count)),
                "total": right(units.duration(stats.total)),
                "self": right(units.duration(stats.self_time)),
                "mean": right(units.duration(stats.mean)),
                "max": right(units.duration(stats.max)),
                "p95": right(units.duration(stats.p95)),
                "errors": right(str(stats.errors), "bold red" if stats.errors else "dim"),
            },
        )

    def sort_by(self, column: str, reverse: bool | None = None) -> None:
        """Sort on ``column``; numbers biggest first unless ``reverse`` says otherwise."""
        if reverse is None:
            reverse = column not in TEXT_COLUMNS
        self.sort_column = column
        self.sort_reverse = reverse
        self._label_columns()
        self.redraw()

    def action_next_sort(self) -> None:
        keys = [key for key, _, _ in self.shown_columns]
        index = keys.index(self.sort_column) if self.sort_column in keys else -1
        self.sort_by(keys[(index + 1) % len(keys)])

    def action_reverse_sort(self) -> None:
        self.sort_by(self.sort_column, not self.sort_reverse)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        column = event.column_key.value or ""
        if column == self.sort_column:
            self.sort_by(column, not self.sort_reverse)
        else:
            self.sort_by(column)

    def _label_columns(self) -> None:
        for key, label, _ in self.shown_columns:
            column = self.columns.get(key)  # type: ignore[call-overload]
            if column is None:
                continue
            if key == self.sort_column:
                arrow = "▼" if self.sort_reverse else "▲"
                column.label = self.header(key, f"{label} {arrow}", "bold")
            else:
                column.label = self.header(key, label)
        self._require_update_dimensions = True
        self.refresh()
