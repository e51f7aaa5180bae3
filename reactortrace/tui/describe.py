"""How an event reads in one line: its colour and what it was about.

Pure functions over :class:`Event` (Rich style strings, no Textual), shared by
the event log and the detail screen.
"""

from __future__ import annotations

import linecache
from typing import Any

from reactortrace.core import events as ev
from reactortrace.core import units
from reactortrace.core.diagnose import Warning
from reactortrace.core.events import Event

KIND_STYLES: dict[str, str] = {
    ev.TIMER: "bold yellow",
    ev.TIMER_SCHEDULE: "yellow",
    ev.TIMER_CANCEL: "dark_orange3",
    ev.TIMER_RESET: "yellow",
    ev.IO_READ: "cyan",
    ev.IO_WRITE: "bright_cyan",
    ev.CONN_OPEN: "bright_green",
    ev.CONN_CLOSE: "green",
    ev.CONN_PAUSE: "dark_orange",
    ev.CONN_RESUME: "green",
    ev.CONN_HALFCLOSE: "dark_orange3",
    ev.THREAD: "magenta",
    ev.DEFERRED: "bright_blue",
    ev.DEFERRED_NEW: "blue",
    ev.DEFERRED_FIRED: "blue",
    ev.DEFERRED_ERROR: "bold red",
    ev.DEFERRED_HANDLED: "green",
    ev.SYSTEM: "white",
    ev.ITERATION: "bright_black",
    ev.SLOW: "bold white on red",
    ev.WARNING: "bold dark_orange",
}
#: Style of a dispatch that took at least the slow threshold.
SLOW_STYLE = "bold red"


def kind_style(kind: str) -> str:
    """The colour of one kind of event."""
    return KIND_STYLES.get(kind, "")


def about(event: Event, ident: str | None = None) -> str:
    """A short account of the event's own fields: connection, timer, outcome.

    ``ident``: the short id the views give its timer or connection (``t17``, ``c4``).
    """
    args = event.args
    kind = event.kind
    conn = ident or f"c{args.get('conn')}"
    if kind in (ev.IO_READ, ev.IO_WRITE):
        parts = [conn]
        if args.get("bytes") is not None:
            parts.append(units.size(args["bytes"]))
        if args.get("buffered"):
            parts.append(f"buffered {units.size(args['buffered'])}")
        return _with_error(" ".join(parts), args)
    if kind == ev.CONN_OPEN:
        peer = args.get("peer") or args.get("local")
        return f"{conn} {args.get('type') or ''} {peer or ''}".rstrip()
    if kind == ev.CONN_CLOSE:
        return f"{conn} {args.get('reason') or ''}".rstrip()
    if kind in (ev.CONN_PAUSE, ev.CONN_RESUME):
        what = "producer paused" if kind == ev.CONN_PAUSE else "producer resumed"
        return f"{conn} {what}, buffered {units.size(args.get('buffered'))}"
    if kind == ev.CONN_HALFCLOSE:
        return f"{conn} half-closed ({args.get('side') or '?'} side)"
    if kind == ev.DEFERRED_NEW:
        waits = f", waits on {args['waits']}" if args.get("waits") else ""
        return f"made at {args.get('site') or '?'}{waits}"
    if kind == ev.DEFERRED_ERROR:
        return f"unhandled {args.get('failure') or 'failure'} at {args.get('site') or '?'}"
    if kind in (ev.DEFERRED_FIRED, ev.DEFERRED_HANDLED):
        return "fired" if kind == ev.DEFERRED_FIRED else "error handled"
    if kind.startswith("timer"):
        return _with_error(_timer_about(event, ident or f"timer {args.get('timer')}"), args)
    if kind == ev.THREAD:
        text = f"{args.get('source') or 'thread'}"
        if args.get("wait") is not None:
            text += f" waited {units.duration(args['wait'])}"
        return _with_error(text, args)
    if kind == ev.DEFERRED:
        text = "errback" if args.get("errback") else "callback"
        if args.get("outcome") == "failure":
            text += f" failed {args.get('failure') or ''}".rstrip()
        return text
    if kind == ev.ITERATION:
        wait = args.get("wait") or 0
        return f"busy {units.duration(max(0, event.dur - wait))} wait {units.duration(wait)}"
    if kind == ev.SYSTEM:
        return str(args.get("phase") or "")
    if kind == ev.SLOW:
        blocked = units.duration(args.get("blocked") or event.dur)
        return f"{args.get('dispatch') or ''} blocked {blocked}"
    if kind == ev.WARNING:
        return f"{args.get('code') or ''}: {args.get('message') or ''}"
    return ""


def _timer_about(event: Event, ident: str) -> str:
    args = event.args
    text = ident
    if args.get("looping"):
        text += " ↻"
    if event.kind == ev.TIMER and args.get("late") is not None:
        text += f" late {units.duration(args['late'])}"
    elif args.get("delay") is not None:
        text += f" in {units.duration(args['delay'])}"
    return text


def _with_error(text: str, args: dict[str, Any]) -> str:
    error = args.get("error")
    return f"{text} ! {error}" if error else text


def fields(event: Event) -> dict[str, Any]:
    """Every field of an event, for the detail screen."""
    out: dict[str, Any] = {
        "seq": event.seq,
        "kind": event.kind,
        "name": event.name,
        "at": units.clock(event.ts),
        "duration": units.duration(event.dur),
    }
    for key, value in event.args.items():
        if value is None:
            value = "-"
        elif key == "stack" and isinstance(value, (list, tuple)):
            value = "\n".join(str(frame) for frame in value)
        elif isinstance(value, int) and key in ("delay", "late", "wait", "blocked"):
            value = units.duration(value)
        elif isinstance(value, int) and key == "due":
            value = units.clock(value)
        out[key] = value
    return out


SUBJECT_WORDS = {"timer": "timer", "conn": "conn", "deferred": "Deferred"}


def warning_subject(warning: Warning, ident: str | None = None) -> str:
    """What a warning is about, as the other views name it: ``timer t12 app.tick``
    (``ident``: the short id the views give its timer or connection)."""
    about = warning.about
    name = warning.name or ""
    if about in ("timer", "conn") and isinstance(warning.subject, int):
        ident = ident or f"#{warning.subject}"
        return f"{SUBJECT_WORDS[about]} {ident} {name}".rstrip()
    if about == "deferred":
        return f"a Deferred ({name})" if name and name != "Deferred" else "a Deferred"
    return name or "-"


def source_line(where: str | None) -> str | None:
    """The text of the line at ``file:line``, if the file can be read here."""
    if not where:
        return None
    path, _, line = where.rpartition(":")
    if not line.isdigit():
        return None
    text = linecache.getline(path, int(line)).strip()
    return text or None


def warning_fields(warning: Warning, ident: str | None = None) -> dict[str, str]:
    """A warning in words for the detail screen: no raw ids, nanoseconds or None."""
    out = {
        "warning": warning.code,
        "what": warning.message,
        "about": warning_subject(warning, ident),
    }
    if warning.where:
        out["where"] = units.short_path(warning.where)
        code = source_line(warning.where)
        if code:
            out["line"] = code
    else:
        out["where"] = "not known (no line of user code was recorded)"
    if warning.ts is not None:
        out["found at"] = f"{units.clock(warning.ts)} since start"
    if warning.duration is not None:
        out["blocked for"] = units.duration(warning.duration, spaced=True)
    return out


def stack_lines(stack: tuple[str, ...]) -> list[str]:
    """A ``file:line function`` stack with paths as users read them, outermost first."""
    lines = []
    for frame in stack:
        where, _, function = frame.partition(" ")
        lines.append(f"{units.short_path(where)} {function}".rstrip())
    return lines
