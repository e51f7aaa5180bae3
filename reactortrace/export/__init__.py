"""Trace writers, one module per format; ``write_trace`` picks by name."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from ..errors import UsageError

FORMATS = ("json", "jsonl", "chrome")


def format_for(path: str, format: str | None = None) -> str:
    """The format named, or the one the file extension implies."""
    if format is not None:
        if format not in FORMATS:
            raise UsageError(f"unknown trace format {format!r} (choose from {', '.join(FORMATS)})")
        return format
    ext = os.path.splitext(path)[1].lower()
    if ext == ".jsonl":
        return "jsonl"
    if path.endswith(".chrome.json") or ext == ".perfetto":
        return "chrome"
    return "json"


def write_trace(
    path: str,
    meta: dict[str, Any],
    events: Iterable[dict[str, Any]],
    snapshot: dict[str, Any] | None,
    dropped: int,
    format: str | None = None,
) -> None:
    """Write a whole trace to ``path`` in ``format``."""
    fmt = format_for(path, format)
    from ..core import tracefile

    if fmt == "json":
        tracefile.write_json(path, meta, events, snapshot, dropped)
    elif fmt == "jsonl":
        writer = tracefile.JsonlWriter(path, meta)
        batch: list[dict[str, Any]] = []
        for event in events:
            batch.append(event)
            if len(batch) >= 10_000:
                writer.write_events(batch)
                batch = []
        writer.write_events(batch)
        writer.finish(snapshot, dropped)
    else:
        raise UsageError("the chrome format is not available yet")
