"""Open transports and listening ports with their traffic; closed ones stay a moment."""

from __future__ import annotations

from typing import Any, Iterator

from reactortrace.core import units
from reactortrace.core.snapshot import ConnectionInfo
from reactortrace.tui.ids import conn_id
from reactortrace.tui.model import Filter, ViewModel
from reactortrace.tui.widgets.table import DIM, ModelTable, Row, right


def address(conn: ConnectionInfo) -> str | None:
    """Where the other end is: the peer, or for a listening port the address it
    listens on (two ports of one factory differ there)."""
    if conn.peer:
        return conn.peer
    if conn.type.endswith("listen") and conn.local:
        return f"listening {conn.local}"
    return conn.local


class ConnectionsTable(ModelTable):
    """One row per open connection, in the order they opened, then the ones just
    closed, dimmed."""

    COLUMNS = (
        ("id", "id", 4),
        ("type", "type", 8),
        ("peer", "peer", 4),
        ("protocol", "protocol", 0.6),
        ("local", "local", 0.4),
        ("age", "age", 7),
        ("in", "in", 6),
        ("out", "out", 6),
        ("last", "last active", 11),
        ("wbuf", "wbuf", 6),
    )
    NARROW_DROP = ("local", "last", "age", "wbuf")
    NUMERIC = frozenset({"age", "in", "out", "last", "wbuf"})
    COMPACT_COLUMNS = (
        ("id", "id", 4),
        ("type", "type", 8),
        ("peer", "peer", 4),
        ("protocol", "protocol", 1.0),
        ("in", "in", 6),
        ("out", "out", 6),
    )

    def rows_for(self, model: ViewModel, flt: Filter) -> Iterator[Row]:
        now = model.snapshot.ts
        for conn in model.snapshot.connections:
            if model.shows_conn(conn) and self._shows(conn, flt):
                yield self._row(conn, now - conn.last_activity
                                if conn.last_activity is not None else None, False)
        for conn, closed in reversed(model.gone_conns.values()):
            if model.shows_conn(conn) and self._shows(conn, flt):
                yield self._row(conn, now - closed, True)

    @staticmethod
    def _shows(conn: ConnectionInfo, flt: Filter) -> bool:
        return flt.shows_text(conn.protocol, conn.type, conn.local, conn.peer)

    def _row(self, conn: ConnectionInfo, idle: int | None, closed: bool) -> Row:
        key = conn_id(conn.conn)
        self.aim(key, ("conn", conn.conn))
        cells: dict[str, Any] = {
            "id": key,
            "type": conn.type,
            "local": conn.local,
            "peer": address(conn),
            "protocol": conn.protocol,
            "age": right(units.duration(conn.age), value=conn.age),
            "in": right(units.size(conn.bytes_in), value=conn.bytes_in),
            "out": right(units.size(conn.bytes_out), value=conn.bytes_out),
            "wbuf": right(
                units.size(conn.write_buffer), "bold yellow" if conn.write_buffer else "",
                conn.write_buffer,
            ),
        }
        if closed:
            cells["last"] = right(f"closed {units.duration(max(0, idle or 0))} ago",
                                  value=idle)
            cells[DIM] = True
        else:
            idle = None if idle is None else max(0, idle)
            cells["last"] = right("-" if idle is None else units.duration(idle) + " ago",
                                  value=idle)
        return (key, cells)
