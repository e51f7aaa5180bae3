"""Open transports and listening ports with their traffic."""

from __future__ import annotations

from typing import Iterator

from reactortrace.core import units
from reactortrace.tui.model import Filter, ViewModel
from reactortrace.tui.widgets.table import ModelTable, Row, right


class ConnectionsTable(ModelTable):
    """One row per open connection, in the order they opened."""

    COLUMNS = (
        ("id", "id", 4),
        ("type", "type", 8),
        ("local", "local", 0.25),
        ("peer", "peer", 0.25),
        ("protocol", "protocol", 0.5),
        ("age", "age", 7),
        ("in", "in", 6),
        ("out", "out", 6),
        ("last", "last active", 11),
        ("wbuf", "wbuf", 6),
    )
    NARROW_DROP = ("local", "last", "type", "age")
    NUMERIC = frozenset({"id", "age", "in", "out", "last", "wbuf"})
    COMPACT_COLUMNS = (
        ("id", "id", 4),
        ("type", "type", 8),
        ("peer", "peer", 0.4),
        ("protocol", "protocol", 0.6),
        ("in", "in", 6),
        ("out", "out", 6),
    )

    def rows_for(self, model: ViewModel, flt: Filter) -> Iterator[Row]:
        now = model.snapshot.ts
        for conn in model.snapshot.connections:
            if not flt.shows_text(conn.protocol, conn.type, conn.local, conn.peer):
                continue
            key = str(conn.conn)
            self.aim(key, ("conn", conn.conn))
            idle = None if conn.last_activity is None else max(0, now - conn.last_activity)
            yield (
                key,
                {
                    "id": right(key),
                    "type": self.fit("type", conn.type),
                    "local": self.fit("local", conn.local),
                    "peer": self.fit("peer", conn.peer),
                    "protocol": self.fit("protocol", conn.protocol),
                    "age": right(units.duration(conn.age)),
                    "in": right(units.size(conn.bytes_in)),
                    "out": right(units.size(conn.bytes_out)),
                    "last": right("-" if idle is None else units.duration(idle) + " ago"),
                    "wbuf": right(
                        units.size(conn.write_buffer), "bold yellow" if conn.write_buffer else ""
                    ),
                },
            )
