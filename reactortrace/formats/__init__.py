"""Trace files: read and validate any of them, and one writer per format.

A :class:`~reactortrace.core.trace.Trace` is what every writer takes and what
:func:`load` returns, whether it comes from a live tracer (``tracer.trace()``)
or from a file. ``json`` and ``jsonl`` are reactortrace's own trace file
(:mod:`.spec`), ``chrome`` the Chrome Trace Event format for Perfetto; the
text report of ``reactortrace summary`` is :mod:`.summary`.
"""

from __future__ import annotations

import os

from ..core.gcpause import gc_paused
from ..core.trace import Trace
from ..errors import UsageError
from .reader import load

FORMATS = ("json", "jsonl", "chrome")
#: The file name ending each format is recognized by (and written with).
EXTENSIONS = {"json": ".json", "jsonl": ".jsonl", "chrome": ".chrome.json"}

__all__ = ["EXTENSIONS", "FORMATS", "format_for", "load", "write"]


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
    target = os.fspath(path)
    fmt = format_for(target, format)
    # Millions of short-lived objects would otherwise set off collections
    # that rescan them all, for nothing: they hold no cycles.
    with gc_paused():
        if fmt == "json":
            from .jsonfile import write_json

            write_json(trace, target)
        elif fmt == "jsonl":
            from .jsonl import write_jsonl

            write_jsonl(trace, target)
        else:
            from .chrome import write_chrome

            write_chrome(trace, target)
