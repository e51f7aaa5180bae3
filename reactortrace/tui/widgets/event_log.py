"""The latest dispatches, coloured by kind, slow ones highlighted."""

from __future__ import annotations

from rich.text import Text

from reactortrace.core import events as ev
from reactortrace.core import units
from reactortrace.tui import describe
from reactortrace.tui.model import Filter, ViewModel
from reactortrace.tui.widgets.table import ModelTable, Row, right


class EventLog(ModelTable):
    """One row per event, newest at the bottom; follows new events while at the bottom."""

    COLUMNS = (
        ("at", "at", 9),
        ("kind", "kind", 14),
        ("dur", "dur", 6),
        ("name", "name", 0.55),
        ("about", "about", 0.45),
    )
    NUMERIC = frozenset({"dur"})
    FOLLOW = True

    def rows_for(self, model: ViewModel, flt: Filter) -> list[Row]:
        slow_ns = model.slow_ns
        rows: list[Row] = []
        for event in model.filtered_events(flt, self.max_rows):
            slow = event.kind == ev.SLOW or event.dur >= slow_ns
            style = describe.SLOW_STYLE if slow else ""
            key = str(event.seq)
            subjects = model.subjects_of(event)
            self.aim(key, subjects[0] if subjects else None, describe.fields(event))
            rows.append(
                (
                    key,
                    {
                        "at": Text(units.clock(event.ts), style="dim"),
                        "kind": Text(event.kind, style=describe.kind_style(event.kind)),
                        "dur": right(units.duration(event.dur) if event.dur else "", style),
                        "name": Text(self.fit("name", event.name), style=style),
                        "about": Text(
                            self.fit("about", describe.about(event, model.event_id(event)), keep_end=False),
                            style=style or "dim",
                        ),
                    },
                )
            )
        return rows
