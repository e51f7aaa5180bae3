"""JSON encoding shared by trace files and the live stream (orjson, with a fallback)."""

from __future__ import annotations

import functools
from typing import Any

import msgspec
import orjson


def _fallback(value: Any) -> Any:
    """Serialize what orjson does not know (paths, enums, ...) as text."""
    return str(value)


#: ``dumps(value) -> bytes``: dataclasses (events, snapshots) included.
dumps = functools.partial(orjson.dumps, default=_fallback)
#: ``encode(value) -> bytes`` for lists of events: msgspec writes the
#: dataclasses as they are, about three times as fast as ``dumps`` of their
#: dicts, and the same bytes.
encode = msgspec.json.Encoder(enc_hook=_fallback).encode
loads = orjson.loads
#: What ``dumps`` or ``encode`` raise for a value they cannot write.
EncodeError: tuple[type[Exception], ...] = (orjson.JSONEncodeError, msgspec.EncodeError)
DecodeError = orjson.JSONDecodeError
