"""Hot callables: how often and how long each ran (in all, and itself: less the
dispatches it ran), sortable by any column."""

from __future__ import annotations

from typing import Any, ClassVar, Iterator

from textual.binding import Binding, BindingType

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


class CallablesTable(ModelTable):
    """One row per (callable, kind), the busiest first; every callable is sorted
    (not only those shown) on the table's sort column."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("s", "next_sort", "Sort", show=True)]
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
        ("kind", "kind", 9),  # io.read and io.write of one protocol are two rows
        ("count", "count", 7),
        ("total", "total", 7),
        ("max", "max", 7),
    )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sort_column = "total"
        self.sort_reverse = True

    def rows_for(self, model: ViewModel, flt: Filter) -> Iterator[Row]:
        stats = [s for s in model.snapshot.callables if flt.shows_text(s.name, s.kind)]
        stats.sort(key=lambda s: s.name)  # ties keep a stable, readable order
        by = SORT_KEYS.get(self.sort_column or "total", SORT_KEYS["total"])
        stats.sort(key=by, reverse=self.sort_reverse)
        return map(self._row, stats)

    def _row(self, stats: CallableStats) -> Row:
        key = f"{stats.kind}\0{stats.name}"
        self.aim(key, ("callable", stats.name))
        return (
            key,
            {
                "name": stats.name,
                "kind": stats.kind,
                "count": right(str(stats.count), value=stats.count),
                "total": right(units.duration(stats.total), value=stats.total),
                "self": right(units.duration(stats.self_time), value=stats.self_time),
                "mean": right(units.duration(stats.mean), value=stats.mean),
                "max": right(units.duration(stats.max), value=stats.max),
                "p95": right(units.duration(stats.p95), value=stats.p95),
                "errors": right(str(stats.errors), "bold red" if stats.errors else "dim",
                                stats.errors),
            },
        )
