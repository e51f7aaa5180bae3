"""JSON encoding shared by trace files and the live stream (orjson, with a fallback)."""

from __future__ import annotations

import functools
from typing import Any

import orjson


def _fallback(value: Any) -> Any:
    """Serialize what orjson does not know (paths, enums, ...) as text."""
    return str(value)


#: ``dumps(value) -> bytes``: dataclasses (events, snapshots) included.
dumps = functools.partial(orjson.dumps, default=_fallback)
loads = orjson.loads
EncodeError = orjson.JSONEncodeError
DecodeError = orjson.JSONDecodeError
