"""``reactortrace summary TRACE``: what a recorded run did, and what went wrong.

The trace's events are fed again through :class:`~reactortrace.core.state.LoopState`
with the thresholds given on the command line, so the findings are the ones
the live TUI showed (or would show with those thresholds). The terminal gets
Rich tables; ``--json`` prints the same data as one JSON document, with these
keys (times and durations are integers in ns, ``ts`` since trace start)::

    {
      "trace": {"path", "program", "reactor", "complete", "events", "dropped",
                "duration"},
      "thresholds": {"slow_ms", "late_ms", "pending_s", "idle_s"},
      "warnings": [{"code", "message", "where", "subject", "name", "ts"}],
      "slowest": [{"name", "kind", "ts", "dur", "site", "function", "stack"}],
      "callables": [{"name", "kind", "count", "total", "mean", "max", "p95",
                     "errors"}],
      "timers": [{"site", "name", "looping", "interval", "count", "p50", "p95",
                  "max", "mean", "missed"}],
      "connections": [{"conn", "type", "protocol", "local", "peer", "opened",
                       "closed", "lifetime", "bytes_in", "bytes_out", "pauses",
                       "resumes", "peak_buffer", "reason"}],
      "omitted": {"slowest", "callables", "timers", "connections"}
    }

``warnings`` are every finding, oldest first (see :mod:`reactortrace.core.diagnose`
for the codes). ``slowest``: the longest dispatches, with the stack the watchdog
saw (outermost first) when it saw them. ``callables``: busiest first by total
time. ``timers``: lateness per creation site, latest first; ``missed`` counts
LoopingCall ticks skipped. ``connections``: every connection and port seen
(not the reactor's wakers), most bytes first; ``closed`` is null for those
still open. Lists hold at most ``--top`` entries; ``omitted`` counts the rest.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

import orjson
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .core.diagnose import Thresholds, format_duration, format_size
from .core.state import LoopState
from .core.trace import Trace
from .core.tracefile import load

DEFAULT_TOP = 10
#: Columns of the tables when stdout is not a terminal (and COLUMNS is unset).
PIPE_WIDTH = 140


def summarize(
    trace: Trace, thresholds: Thresholds | None = None, top: int = DEFAULT_TOP
) -> dict[str, Any]:
    """The summary of ``trace`` as the JSON document described above."""
    thresholds = thresholds or Thresholds()
    state = LoopState(thresholds=thresholds)
    state.dropped = trace.dropped
    state.feed(trace.events)
    end = max(state.last_end, trace.snapshot.ts if trace.snapshot is not None else 0)
    snapshot = state.snapshot(end)
    diagnostics = state.diagnostics
    warnings = list(snapshot.warnings)
    if trace.dropped and trace.snapshot is not None:
        # Events fell out of the ring: keep what the live run found in them.
        seen = {(w.get("code"), w.get("where"), w.get("subject")) for w in warnings}
        warnings += [
            w for w in trace.snapshot.warnings
            if (w.get("code"), w.get("where"), w.get("subject")) not in seen
        ]
    lists = {
        "slowest": diagnostics.slowest(),
        "callables": [_callable(c) for c in snapshot.callables],
        "timers": diagnostics.lateness(),
        "connections": state.connection_history(end),
    }
    meta = trace.meta
    return {
        "trace": {
            "path": trace.path,
            "program": meta.get("program"),
            "reactor": meta.get("reactor"),
            "complete": trace.complete,
            "events": len(trace.events),
            "dropped": trace.dropped,
            "duration": end,
        },
        "thresholds": thresholds.to_dict(),
        "warnings": warnings,
        **{key: rows[:top] for key, rows in lists.items()},
        "omitted": {key: max(0, len(rows) - top) for key, rows in lists.items()},
    }


def _callable(stats: Any) -> dict[str, Any]:
    return {
        "name": stats.name,
        "kind": stats.kind,
        "count": stats.count,
        "total": stats.total,
        "mean": stats.mean,
        "max": stats.max,
        "p95": stats.p95,
        "errors": stats.errors,
    }


# -- the terminal -----------------------------------------------------------------


def render(summary: dict[str, Any], console: Console) -> None:
    """Print ``summary`` as Rich tables."""
    info = summary["trace"]
    dropped = f", {info['dropped']} dropped" if info["dropped"] else ""
    console.print(
        Text.assemble(
            (str(info["program"] or info["path"] or "trace"), "bold"),
            f"  {info['reactor'] or 'unknown reactor'}  ",
            f"{info['events']} events{dropped} over {format_duration(info['duration'])}",
        )
    )
    omitted = summary["omitted"]
    _warnings(summary["warnings"], console)
    _slowest(summary["slowest"], omitted["slowest"], console)
    _callables(summary["callables"], omitted["callables"], console)
    _timers(summary["timers"], omitted["timers"], console)
    _connections(summary["connections"], omitted["connections"], console)


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


def _warnings(warnings: list[dict[str, Any]], console: Console) -> None:
    if not warnings:
        console.print(Text("No warnings.", style="green"))
        return
    table = _table(f"Warnings ({len(warnings)})", 0, ("code", "left"), ("message", "left"),
                   ("where", "left"))
    for w in warnings:
        table.add_row(Text(str(w.get("code")), style="bold dark_orange"),
                      str(w.get("message") or ""), str(w.get("where") or "-"))
    console.print(table)


def _slowest(rows: list[dict[str, Any]], more: int, console: Console) -> None:
    if not rows:
        return
    table = _table("Slowest dispatches", more, ("#", "right"), ("duration", "right"),
                   ("kind", "left"), ("callable", "left"), ("blocking line", "left"))
    for number, row in enumerate(rows, 1):
        line = row["site"] or "-"
        if row["function"]:
            line += f" in {row['function']}"
        table.add_row(str(number), format_duration(row["dur"]), str(row["kind"] or "-"),
                      row["name"], line)
    console.print(table)
    for number, row in enumerate(rows, 1):
        if row["stack"]:
            title = f"Stack of #{number}, {row['name']}, outermost first:"
            console.print(Text(title, style="bold"))
            for frame in row["stack"]:
                console.print(Text("  " + frame), overflow="fold")
    if any(row["stack"] for row in rows):
        console.print()


def _callables(rows: list[dict[str, Any]], more: int, console: Console) -> None:
    if not rows:
        return
    table = _table("Hottest callables", more, ("callable", "left"), ("kind", "left"),
                   ("count", "right"), ("total", "right"), ("mean", "right"), ("max", "right"),
                   ("p95", "right"), ("errors", "right"))
    for row in rows:
        table.add_row(row["name"], row["kind"], str(row["count"]),
                      *(format_duration(row[k]) for k in ("total", "mean", "max", "p95")),
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
        table.add_row(row["site"], row["name"], str(row["count"]),
                      *(format_duration(row[k]) for k in ("p50", "p95", "max")), missed)
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
        table.add_row(str(row["conn"]), row["type"], row["protocol"], addresses,
                      format_size(row["bytes_in"]), format_size(row["bytes_out"]),
                      format_duration(row["lifetime"]), paused, state)
    console.print(table)


# -- the command ------------------------------------------------------------------


def cmd_summary(argv: Sequence[str]) -> int:
    """``reactortrace summary TRACE [--json] [--top N] [--slow MS] [--late MS]
    [--pending S] [--idle S]``."""
    from .cli import PROG, _Parser

    parser = _Parser(
        prog=f"{PROG} summary",
        description="Tables of a recorded trace: warnings, slowest dispatches with their "
        "stacks, hottest callables, timer lateness by site, connections.",
        epilog="Thresholds are numbers in the unit shown, or carry their own: 50ms, 0.5s, 2m.",
    )
    parser.add_argument("trace", help="a .json or .jsonl trace")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--top", type=_positive, default=DEFAULT_TOP, metavar="N",
                        help=f"rows per table (default {DEFAULT_TOP})")
    add_threshold_options(parser)
    args = parser.parse_args(argv)
    thresholds = thresholds_from(args)
    trace = load(args.trace)
    if not trace.complete:
        sys.stderr.write(
            f"reactortrace: {args.trace} was cut short (its program did not finish writing it); "
            f"this summary covers the {len(trace.events)} events it holds\n"
        )
    summary = summarize(trace, thresholds, args.top)
    if args.json:
        document = orjson.dumps(summary, option=orjson.OPT_INDENT_2, default=str)
        sys.stdout.write(document.decode() + "\n")
    else:
        render(summary, _console())
    return 0


def _console() -> Console:
    """Rich on stdout; wider than 80 columns when written to a file or a pipe."""
    console = Console()
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(width=PIPE_WIDTH)
    return console


def add_threshold_options(parser: Any) -> None:
    """``--slow MS --late MS --pending S --idle S`` (values may carry a unit: 50ms, 2s)."""
    defaults = Thresholds()
    for option, unit, what, default in (
        ("--slow", "MS", "dispatches this long are slow", defaults.slow_ms),
        ("--late", "MS", "timers this late are late", defaults.late_ms),
        ("--pending", "S", "Deferreds unfired, or half-closes, this long", defaults.pending_s),
        ("--idle", "S", "connections without data this long are idle", defaults.idle_s),
    ):
        parser.add_argument(option, metavar=unit, help=f"{what} (default {default:g})")


def thresholds_from(args: Any) -> Thresholds:
    """The thresholds given by :func:`add_threshold_options` options."""
    return Thresholds.from_options({name: getattr(args, name) for name in Thresholds.OPTIONS})


def _positive(text: str) -> int:
    from .errors import UsageError

    try:
        value = int(text)
    except ValueError:
        raise UsageError(f"--top wants a whole number, not {text!r}") from None
    if value < 1:
        raise UsageError(f"--top must be at least 1, not {value}")
    return value
