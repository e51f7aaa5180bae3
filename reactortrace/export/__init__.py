"""Trace writers, one module per format; ``write_trace`` picks by name.

``json`` and ``jsonl`` are reactortrace's own trace file
(:mod:`reactortrace.core.tracefile`), ``chrome`` the Chrome Trace Event format
(:mod:`reactortrace.export.chrome`). Streaming JSON Lines while a program runs
is :class:`reactortrace.export.stream.StreamWriter`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any

from ..core.events import Event
from ..core.snapshot import Snapshot
from ..errors import UsageError

FORMATS = ("json", "jsonl", "chrome")


def format_for(path: str, format: str | None = None) -> str:
    """The format named, or the one the file extension implies."""
    if format is not None:
        if format not in FORMATS:
            raise UsageError(f"unknown trace format {format!r} (choose from {', '.join(FORMATS)})")
        return format
    lowered = path.lower()
    ext = os.path.splitext(lowered)[1]
    if ext == ".jsonl":
        return "jsonl"
    if lowered.endswith(".chrome.json") or ext == ".perfetto":
        return "chrome"
    return "json"


def write_trace(
    path: str,
    meta: dict[str, Any],
    events: Iterable[dict[str, Any] | Event],
    snapshot: dict[str, Any] | Snapshot | None,
    dropped: int,
    format: str | None = None,
) -> None:
    """Write a whole trace to ``path`` in ``format`` (from the extension if None).

    ``events`` may be :class:`Event` objects (fastest) or their dict form.
    The file replaces ``path`` only once it is complete.
    """
    fmt = format_for(path, format)
    from ..core import tracefile

    # Millions of short-lived objects would otherwise set off collections
    # that rescan them all, for nothing: they hold no cycles.
    with tracefile._gc_paused():
        if fmt == "json":
            tracefile.write_json(path, meta, events, snapshot, dropped)
        elif fmt == "jsonl":
            tracefile.write_jsonl(path, meta, plain(events), snapshot, dropped)
        else:
            from .chrome import write_chrome

            write_chrome(path, meta, events, snapshot, dropped)


def plain(events: Iterable[dict[str, Any] | Event]) -> Iterator[dict[str, Any]]:
    """Events as dicts, one at a time: orjson writes dicts faster than dataclasses."""
    return (event.to_dict() if type(event) is Event else event for event in events)
