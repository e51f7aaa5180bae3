"""Warnings the tracer raised about the program (slow callbacks, leaks, ...)."""

from __future__ import annotations

from typing import Iterator

from rich.text import Text

from reactortrace.core import units
from reactortrace.core.diagnose import Warning
from reactortrace.core.units import short_path
from reactortrace.tui.model import Filter, Subject, ViewModel
from reactortrace.tui.widgets.table import ModelTable, Row


def subject_of(warning: Warning) -> Subject | None:
    """The timer, connection or callable a warning's detail screen follows."""
    about = warning.about
    if about in ("timer", "conn") and isinstance(warning.subject, int):
        return (about, warning.subject)
    if about == "callable" and warning.name:
        return ("callable", warning.name)
    return None


class WarningsTable(ModelTable):
    """One row per warning in the snapshot, newest last."""

    COLUMNS = (
        ("at", "at", 9),
        ("code", "code", 16),
        ("name", "about", 0.2),
        ("message", "message", 0.6),
        ("where", "where", 0.2),
    )
    NARROW_DROP = ("name", "where")
    COMPACT_COLUMNS = (("at", "at", 9), ("code", "code", 16), ("message", "message", 1.0))
    FOLLOW = True

    def rows_for(self, model: ViewModel, flt: Filter) -> Iterator[Row]:
        for index, warning in enumerate(model.snapshot.warnings):
            get = warning.get
            if not flt.shows_text(get("code"), get("message"), get("name"), get("where")):
                continue
            key = f"{index}:{get('ts')}:{get('code')}"
            self.aim(key, subject_of(Warning.of(warning)), dict(warning))
            ts = get("ts")
            yield (
                key,
                {
                    "at": Text(units.clock(ts) if isinstance(ts, int) else "-", style="dim"),
                    "code": Text(
                        self.fit("code", get("code"), keep_end=False), style="bold dark_orange"
                    ),
                    "name": self.fit("name", get("name")),
                    "message": self.fit("message", get("message"), keep_end=False),
                    "where": self.fit("where", short_path(get("where"))),
                },
            )
