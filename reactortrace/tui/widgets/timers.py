"""Pending timers, soonest first, with a due-in countdown; fired ones stay a moment."""

from __future__ import annotations

import os
from typing import Any, Iterator

from rich.text import Text

from reactortrace.core import units
from reactortrace.core.snapshot import TimerInfo
from reactortrace.tui.model import Filter, ViewModel
from reactortrace.tui.widgets.table import DIM, ModelTable, Row, right

LOOPING_MARK = "↻"


class TimersTable(ModelTable):
    """One row per pending DelayedCall (a LoopingCall one row across its ticks,
    marked ↻), then the one-shot timers that just fired, dimmed."""

    COLUMNS = (
        ("id", "id", 4),
        ("due", "due in", 7),
        ("loop", LOOPING_MARK, 1),
        ("name", "callable", 0.55),
        ("site", "created at", 0.45),
        ("delay", "delay", 7),
    )
    NUMERIC = frozenset({"due", "delay"})
    NARROW_DROP = ("site",)
    COMPACT_COLUMNS = (
        ("id", "id", 4),
        ("due", "due in", 7),
        ("loop", LOOPING_MARK, 1),
        ("name", "callable", 1.0),
    )

    def rows_for(self, model: ViewModel, flt: Filter) -> Iterator[Row]:
        now = model.snapshot.ts
        cwd = os.getcwd()
        for timer in model.snapshot.timers:  # the snapshot keeps them sorted by due time
            if model.shows_timer(timer) and flt.shows_text(timer.name, timer.site):
                yield self._row(model, timer, None, cwd)
        for timer, fired in reversed(model.gone_timers.values()):
            if model.shows_timer(timer) and flt.shows_text(timer.name, timer.site):
                yield self._row(model, timer, now - fired, cwd)

    def _row(
        self, model: ViewModel, timer: TimerInfo, fired_ago: int | None, cwd: str
    ) -> Row:
        short = model.timer_id(timer)
        self.aim(short, ("timer", timer.timer))
        cells: dict[str, Any] = {
            "id": short,
            "loop": Text(LOOPING_MARK if timer.looping else "", style="bold cyan"),
            "name": timer.name,
            "site": units.short_path(timer.site, cwd) if timer.site else None,
            "delay": right(units.duration(timer.delay), value=timer.delay),
        }
        if fired_ago is None:
            overdue = "bold red" if timer.due_in < 0 else ""
            cells["due"] = right(units.duration(timer.due_in), overdue, timer.due_in)
        else:
            cells["due"] = right("fired", value=-fired_ago)
            cells[DIM] = True
        return (short, cells)
