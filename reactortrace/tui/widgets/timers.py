"""Pending timers, soonest first, with a due-in countdown."""

from __future__ import annotations

from typing import Iterator

from rich.text import Text

from reactortrace.core import units
from reactortrace.tui.model import Filter, ViewModel
from reactortrace.tui.widgets.table import ModelTable, Row, right

LOOPING_MARK = "↻"


class TimersTable(ModelTable):
    """One row per pending DelayedCall; ↻ marks a LoopingCall."""

    COLUMNS = (
        ("due", "due in", 7),
        ("loop", LOOPING_MARK, 1),
        ("name", "callable", 0.55),
        ("site", "created at", 0.45),
        ("delay", "delay", 7),
        ("id", "id", 6),
    )
    NUMERIC = frozenset({"due", "delay", "id"})
    COMPACT_COLUMNS = (("due", "due in", 7), ("loop", LOOPING_MARK, 1), ("name", "callable", 1.0))

    def rows_for(self, model: ViewModel, flt: Filter) -> Iterator[Row]:
        for timer in model.snapshot.timers:  # the snapshot keeps them sorted by due time
            if not flt.shows_text(timer.name, timer.site):
                continue
            key = str(timer.timer)
            self.aim(key, ("timer", timer.timer))
            overdue = "bold red" if timer.due_in < 0 else ""
            yield (
                key,
                {
                    "due": right(units.duration(timer.due_in), overdue),
                    "loop": Text(LOOPING_MARK if timer.looping else "", style="bold cyan"),
                    "name": self.fit("name", timer.name),
                    "site": self.fit("site", timer.site),
                    "delay": right(units.duration(timer.delay)),
                    "id": right(key),
                },
            )
