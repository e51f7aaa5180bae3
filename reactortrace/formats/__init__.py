"""Trace files: read and validate any of them, and one writer per format.

A :class:`~reactortrace.core.trace.Trace` is what every writer takes and what
:func:`load` returns, whether it comes from a live tracer (``tracer.trace()``)
or from a file. ``json`` and ``jsonl`` are reactortrace's own trace file
(:mod:`.spec`), ``chrome`` the Chrome Trace Event format for Perfetto; the
text report of ``reactortrace summary`` is :mod:`.summary`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..core.gcpause import gc_paused
from ..errors import UsageError

if TYPE_CHECKING:
    from ..core.events import Event
    from ..core.snapshot import Snapshot
    from ..core.trace import Trace
    from .reader import load

FORMATS = ("json", "jsonl", "chrome")
#: The file name ending each format is recognized by (and written with).
EXTENSIONS = {"json": ".json", "jsonl": ".jsonl", "chrome": ".chrome.json"}
#: Formats that keep the final snapshot (Chrome's has no place for it).
WITH_SNAPSHOT = frozenset({"json", "jsonl"})

__all__ = ["EXTENSIONS", "FORMATS", "WITH_SNAPSHOT", "format_for", "load", "write",
           "write_parts"]


def __getattr__(name: str) -> Any:
    """``load`` is imported when first asked for: ``reactortrace run`` (which
    only needs the format names) starts without the reader and its types."""
    if name == "load":
        from .reader import load

        return load
    raise AttributeError(name)


def format_for(path: str, format: str | None = None) -> str:
    """The format named, or the one the file extension implies."""
    if format is not None:
        if format not in FORMATS:
            raise UsageError(f"unknown trace format {format!r} (choose from {', '.join(FORMATS)})")
        return format
    lowered = path.lower()
    if lowered.endswith(EXTENSIONS["jsonl"]):
        return "jsonl"
    if lowered.endswith((EXTENSIONS["chrome"], ".perfetto")):
        return "chrome"
    return "json"


def write(trace: Trace, path: str | os.PathLike[str], format: str | None = None) -> None:
    """Write ``trace`` to ``path`` in ``format`` (from the extension if None).

    The file replaces ``path`` only once it is complete.
    """
    write_parts(path, trace.meta, trace.events, lambda: trace.snapshot, trace.dropped, format)


def write_parts(
    path: str | os.PathLike[str],
    meta: dict[str, Any],
    events: Iterable[Event],
    snapshot: Callable[[], Snapshot | None],
    dropped: int,
    format: str | None = None,
) -> int:
    """Write a trace given in parts: ``events`` are read once, in order (JSON
    and JSON Lines write them a chunk at a time as they come, so a live
    tracer's ring is resolved straight into the file), and ``snapshot()`` is
    called after the last, by the formats :data:`WITH_SNAPSHOT` only.
    Returns the number of events written.
    """
    target = os.fspath(path)
    fmt = format_for(target, format)
    # Millions of short-lived objects would otherwise set off collections
    # that rescan them all, for nothing: they hold no cycles.
    with gc_paused():
        from .jsonfile import Parts, write_json_parts

        if fmt == "json":
            return write_json_parts(target, Parts(meta, events, snapshot, dropped))
        if fmt == "jsonl":
            from .jsonl import write_jsonl_parts

            return write_jsonl_parts(target, Parts(meta, events, snapshot, dropped))
        from ..core.trace import Trace
        from .chrome import write_chrome

        trace = Trace(meta=meta, events=list(events), dropped=dropped)
        write_chrome(trace, target)
        return len(trace.events)
