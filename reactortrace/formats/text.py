"""The text report of ``reactortrace summary``: a summary (see :mod:`.summary`) as Rich tables."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..core.diagnose import Warning
from ..core.units import duration, short_path, size


def _took(ns: int) -> str:
    return duration(ns, spaced=True)


def _bytes(n: int) -> str:
    return size(n, spaced=True)


def render(summary: dict[str, Any], console: Console) -> None:
    """Print ``summary`` as Rich tables."""
    info = summary["trace"]
    dropped = f", {info['dropped']} dropped" if info["dropped"] else ""
    console.print(
        Text.assemble(
            (str(info["program"] or info["path"] or "trace"), "bold"),
            f"  {info['reactor'] or 'unknown reactor'}  ",
            f"{info['events']} events{dropped} over {_took(info['duration'])}",
        )
    )
    for part, why in (info.get("recording_off") or {}).items():
        console.print(Text(f"{part} recording was off ({why}): the trace lacks what it records",
                           style="bold red"))
    if info.get("written_early"):
        console.print(Text(f"This trace was {info['written_early']}.", style="bold yellow"))
    omitted = summary["omitted"]
    _warnings(summary["warnings"], console)
    _slowest(summary["slowest"], omitted["slowest"], console)
    _callables(summary["callables"], omitted["callables"], console)
    _timers(summary["timers"], omitted["timers"], console)
    _connections(summary["connections"], omitted["connections"], console)
    _deferreds(summary.get("deferreds"), console)


def _table(title: str, more: int, *columns: tuple[str, str]) -> Table:
    """A table with columns (header, justify); ``more`` rows not shown are said."""
    caption = f"{more} more not shown (--top)" if more else None
    table = Table(title=title, title_justify="left", title_style="bold", caption=caption,
                  caption_justify="left", box=box.SIMPLE_HEAD, expand=False)
    for header, justify in columns:
        # Names and paths wrap rather than lose their ends: they are what to look for;
        # numbers (right-justified) stay on one line.
        number = justify == "right"
        table.add_column(
            header, justify=justify, overflow="fold", no_wrap=number  # type: ignore[arg-type]
        )
    return table


def _row(table: Table, *cells: str | Text) -> None:
    """Add a row whose text is shown as it is: names from a trace are never Rich markup."""
    table.add_row(*(Text(cell) if isinstance(cell, str) else cell for cell in cells))


def _warnings(rows: list[dict[str, Any]], console: Console) -> None:
    if not rows:
        console.print(Text("No warnings.", style="green"))
        return
    table = _table(f"Warnings ({len(rows)})", 0, ("code", "left"), ("message", "left"),
                   ("where", "left"))
    for w in map(Warning.of, rows):  # read as the TUI reads them
        _row(table, Text(w.code, style="bold dark_orange"), w.message, short_path(w.where))
    console.print(table)


def _slowest(rows: list[dict[str, Any]], more: int, console: Console) -> None:
    if not rows:
        return
    table = _table("Slowest dispatches", more, ("#", "right"), ("duration", "right"),
                   ("kind", "left"), ("callable", "left"), ("blocking line", "left"))
    for number, row in enumerate(rows, 1):
        line = short_path(row["site"])
        if row["site"] and row["function"]:
            line += f" in {row['function']}"
        elif not row["site"] and row.get("made_at"):
            line = f"- (timer made at {short_path(row['made_at'])})"
        _row(table, str(number), _took(row["dur"]), str(row["kind"] or "-"),
                      row["name"], line)
    console.print(table)
    same: dict[tuple[str, ...], list[int]] = {}  # a stack seen again is shown once
    for number, row in enumerate(rows, 1):
        if row["stack"]:
            same.setdefault(tuple(row["stack"]), []).append(number)
    for stack, numbers in same.items():
        name = rows[numbers[0] - 1]["name"]
        which = ", ".join(f"#{n}" for n in numbers)
        times = f" ({len(numbers)} times)" if len(numbers) > 1 else ""
        console.print(Text(f"Stack of {which}, {name}{times}, outermost first:", style="bold"))
        for frame in stack:
            where, _, function = frame.partition(" ")
            console.print(Text(f"  {short_path(where)} {function}".rstrip()), overflow="fold")
    if any(row["stack"] for row in rows):
        console.print()


def _callables(rows: list[dict[str, Any]], more: int, console: Console) -> None:
    if not rows:
        return
    table = _table("Hottest callables", more, ("callable", "left"), ("kind", "left"),
                   ("count", "right"), ("total", "right"), ("self", "right"), ("mean", "right"),
                   ("max", "right"), ("p95", "right"), ("errors", "right"))
    for row in rows:
        _row(table, row["name"], row["kind"], str(row["count"]),
                      *(_took(row[k]) for k in ("total", "self", "mean", "max", "p95")),
                      str(row["errors"] or ""))
    console.print(table)


def _timers(rows: list[dict[str, Any]], more: int, console: Console) -> None:
    if not rows:
        return
    table = _table("Timer lateness by creation site", more, ("site", "left"), ("callable", "left"),
                   ("count", "right"), ("p50", "right"), ("p95", "right"), ("max", "right"),
                   ("missed ticks", "right"))
    for row in rows:
        missed = str(row["missed"]) if row["looping"] else ""
        _row(table, short_path(row["site"]), row["name"], str(row["count"]),
                      *(_took(row[k]) for k in ("p50", "p95", "max")), missed)
    console.print(table)


def _connections(rows: list[dict[str, Any]], more: int, console: Console) -> None:
    if not rows:
        return
    table = _table("Connections", more, ("id", "right"), ("type", "left"), ("protocol", "left"),
                   ("addresses", "left"), ("in", "right"), ("out", "right"),
                   ("lifetime", "right"), ("paused", "right"), ("state", "left"))
    for row in rows:
        reason = str(row["reason"] or "").rsplit(".", 1)[-1]
        state = "open" if row["closed"] is None else f"closed {reason}".rstrip()
        paused = f"{row['pauses']}/{row['resumes']}" if row["pauses"] or row["resumes"] else ""
        addresses = row["local"] or "-"
        if row["peer"]:
            addresses += f" <-> {row['peer']}"
        _row(table, str(row["conn"]), row["type"], row["protocol"], addresses,
                      _bytes(row["bytes_in"]), _bytes(row["bytes_out"]),
                      _took(row["lifetime"]), paused, state)
    console.print(table)


def _deferreds(pending: dict[str, Any] | None, console: Console) -> None:
    if not pending or not pending["total"]:
        return
    more = f"{pending['omitted']} more not shown" if pending["omitted"] else None
    table = _table(f"Deferreds pending at the end ({pending['total']}), oldest first", 0,
                   ("#", "right"), ("age", "right"), ("Deferred", "left"), ("at", "left"),
                   ("waits on", "left"), ("fired in the end by", "left"))
    table.caption = more
    for row in pending["oldest"]:
        name = row["name"] if row["kind"] == "deferred" else f"{row['name']} ({row['kind']})"
        age = "?" if row["age"] is None else _took(row["age"])
        style = "bold red" if row["deadlock"] else ""
        table.add_row(Text(f"#{row['id']}", style=style), age, name,
                      row["suspended_at"] or row["made_at"] or "-", row["detail"],
                      Text(row["fired_by"], style=style))
    console.print(table)
    for cycle in pending["deadlocks"]:
        ids = " → ".join(f"#{m}" for m in (*cycle, cycle[0]))
        console.print(Text(f"Deadlock: {ids} wait on each other; nothing can fire them.",
                           style="bold red"))
