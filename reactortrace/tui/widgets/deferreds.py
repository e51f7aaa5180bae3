"""Pending Deferreds: what each waits on, as a table by age or an awaited-by tree.

``s`` turns the age order round (oldest first, newest first); ``v`` switches
between the table and the tree (each Deferred under the one waiting on it, down
to the timer, thread job or connection that will fire it, like ``python -m
asyncio pstree``). The filter (``/``) keeps the Deferreds whose name, sites or
wait hold its text. Deferreds in a cycle are marked as a deadlock.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, ClassVar, Iterator

from rich.text import Text
from textual.binding import Binding, BindingType

from reactortrace.core import units
from reactortrace.core.awaiting import sorted_infos, tree
from reactortrace.core.snapshot import DeferredInfo, PendingDeferreds
from reactortrace.tui.ids import deferred_id
from reactortrace.tui.model import Filter, Subject, ViewModel
from reactortrace.tui.widgets.table import ModelTable, Row, right

DEADLOCK_MARK = "⚠"
KIND_MARKS = {"inlineCallbacks": "gen", "coroutine": "coro", "DeferredList": "list",
              "deferred": ""}
SOURCE_STYLES = {"timer": "cyan", "thread": "magenta", "connection": "green",
                 "nothing": "dim", "deferred": ""}
#: Rows shown at most (the table draws only what is on screen; this bounds the
#: work of each poll, and a snapshot lists a few hundred Deferreds at most).
MAX_LINES = 500


def where(info: DeferredInfo) -> str | None:
    """The line that matters most: where it is suspended, else where it was made."""
    return info.suspended_at or info.made_at


def subject_of(info: DeferredInfo) -> Subject | None:
    """What Enter opens beside the Deferred's own fields: its timer or connection."""
    if info.timer is not None:
        return ("timer", info.timer)
    if info.conn is not None:
        return ("conn", info.conn)
    return None


def fields_of(info: DeferredInfo) -> dict[str, Any]:
    """The Deferred's fields for the detail screen, in human units."""
    values = asdict(info)
    values["age"] = "before recording" if info.age is None else units.duration(info.age)
    values["waits_on"] = ", ".join(deferred_id(i) for i in info.waits_on) or "-"
    values["awaits"] = "\n".join(info.awaits) or "-"
    return {k: ("-" if v is None else v) for k, v in values.items()}


class DeferredsTable(ModelTable):
    """One row per pending Deferred (or one line of the awaited-by tree)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "toggle_order", "Oldest/newest", show=True),
        Binding("v", "toggle_tree", "Tree/table", show=True),
    ]
    COLUMNS = (
        ("age", "age", 7),
        ("id", "id", 4),
        ("name", "Deferred", 0.3),
        ("where", "at", 0.22),
        ("waits", "waits on", 0.24),
        ("fired", "fired in the end by", 0.24),
    )
    NUMERIC = frozenset({"age", "id"})
    PROSE = frozenset({"waits", "fired", "name"})
    NARROW_DROP = ("fired", "where")
    MIN_SHARE = 14
    MAX_ROWS = MAX_LINES

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.newest_first = False
        self.tree_view = False
        self._model = ViewModel()

    def rows_for(self, model: ViewModel, flt: Filter) -> Iterator[Row]:
        self._model = model
        pending = model.snapshot.deferreds
        if pending is None:
            yield self._note("off", "No Deferreds view (run with --deferred-view)")
            return
        notes = list(self._notes(pending))
        room = self.max_rows - len(notes) - 1
        body = self._tree_rows(pending, flt) if self.tree_view else (
            self._row(str(info.id), info, self.fit("name", _named(info)))
            for info in sorted_infos(pending, flt.text, self.newest_first)
        )
        shown = 0
        for row in body:
            if shown == room:
                notes.insert(0, self._note("cut", f"… more rows than shown here ({room}): "
                                                  "filter with / to narrow"))
                break
            shown += 1
            yield row
        yield from notes

    def _row(self, key: str, info: DeferredInfo, name: Any, waits: Any = None) -> Row:
        self.aim(key, subject_of(info), fields_of(info))
        detail, fired_by = self._short_ids(info.detail, info), self._short_ids(info.fired_by, info)
        mark = Text(f"{DEADLOCK_MARK} " if info.deadlock and not self.tree_view else "",
                    style="bold red")
        return (key, {
            "age": right("?" if info.age is None else units.duration(info.age)),
            "id": right(deferred_id(info.id), "bold red" if info.deadlock else "", info.id),
            "name": mark + (name if isinstance(name, Text) else Text(name)),
            "where": self.fit("where", where(info)),
            "waits": waits if waits is not None else Text(
                self.fit("waits", detail, keep_end=False),
                style=SOURCE_STYLES.get(info.source, "")),
            "fired": Text(self.fit("fired", fired_by, keep_end=False),
                          style="bold red" if info.deadlock else ""),
        })

    def _short_ids(self, text: str, info: DeferredInfo) -> str:
        """``text`` with the timer it names by the id the Timers view gives it."""
        short = None if info.timer is None else self._model.ids.known(info.timer)
        return text if short is None else text.replace(f"timer {info.timer}", f"timer {short}")

    def _tree_rows(self, pending: PendingDeferreds, flt: Filter) -> Iterator[Row]:
        for n, line in enumerate(tree(pending, flt.text, MAX_LINES)):
            key = f"t{n}"
            if line.info is None:
                yield self._note(key, line.prefix + line.text, "cyan")
                continue
            label = Text(line.prefix, style="dim")
            if line.info.deadlock:
                label.append(f"{DEADLOCK_MARK} ", style="bold red")
            label.append(_named(line.info), style="dim" if line.repeat else "")
            if line.repeat:
                label.append(f" {line.text}", style="dim italic")
            yield self._row(key, line.info, _fitted(label, self.widths.get("name", 8)))

    def _notes(self, pending: PendingDeferreds) -> Iterator[Row]:
        if pending.omitted:
            yield self._note("omitted", f"… {pending.omitted} more pending, not listed "
                                        f"({pending.total} in all)")
        if pending.unscanned:
            yield self._note("unscanned", f"… {pending.unscanned} Deferreds not looked at "
                                          "(too many to walk in one snapshot)")
        if pending.deadlocks:
            cycles = "; ".join("→".join(deferred_id(m) for m in (*c, c[0])) for c in pending.deadlocks)
            yield self._note("deadlocks", f"{DEADLOCK_MARK} deadlock {cycles}", "bold red")

    def _note(self, key: str, text: str, style: str = "dim italic") -> Row:
        self.aim(key, None, None)
        blank = Text("")
        return (key, {"age": blank, "id": blank,
                      "name": Text(self.fit("name", text, keep_end=False), style=style),
                      "where": blank, "waits": blank, "fired": blank})

    def action_toggle_order(self) -> None:
        self.newest_first = not self.newest_first
        self._label_sort()
        self.redraw()

    def action_toggle_tree(self) -> None:
        self.tree_view = not self.tree_view
        self._label_sort()
        self.redraw()

    def column_label(self, key: str, label: str) -> str:
        if key == "age":
            return f"age {'▲' if self.newest_first else '▼'}"
        if key == "name" and self.tree_view:
            return "Deferred ▸ what it waits on"
        return label


def _named(info: DeferredInfo) -> str:
    kind = KIND_MARKS.get(info.kind, info.kind)
    return f"{info.name} ({kind})" if kind else info.name


def _fitted(text: Text, width: int) -> Text:
    """``text`` cut to ``width`` cells, keeping its start (the tree's branches)."""
    if text.cell_len > width:
        text = text.copy()
        text.truncate(max(1, width - 1))
        text.append("…")
    return text
