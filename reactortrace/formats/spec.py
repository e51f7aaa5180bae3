"""What a reactortrace trace file is: its format name, its version, its JSON Schema.

Two layouts hold the same data:

* JSON (``.json``), one object::

    {"format": "reactortrace", "version": 1, "meta": {...}, "dropped": N,
     "events": [{"seq", "ts", "dur", "kind", "name", "args"}, ...],
     "snapshot": {...} | null}

* JSON Lines (``.jsonl``), for long runs and crash safety: a meta line
  ``{"format": "reactortrace", "version": 1, "type": "meta", "meta": {...}}``,
  one ``{"type": "event", ...event}`` line per event, then optionally
  ``{"type": "snapshot", "snapshot": {...}}`` and ``{"type": "end", "dropped": N}``
  last. Without the end line the run was cut short: the complete lines load.
"""

from __future__ import annotations

from typing import Any

from ..core.encoding import loads

FORMAT = "reactortrace"
VERSION = 1
SUPPORTED_VERSIONS: tuple[int, ...] = (1,)
SCHEMA_FILE = "trace-v1.schema.json"


def schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the JSON trace file, version 1."""
    from importlib import resources  # here: writing a trace never needs it

    resource = resources.files("reactortrace.formats").joinpath(SCHEMA_FILE)
    result: dict[str, Any] = loads(resource.read_bytes())
    return result
