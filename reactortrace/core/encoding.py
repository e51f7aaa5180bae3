"""JSON encoding shared by trace files and the live stream (orjson, with a fallback)."""

from __future__ import annotations

import functools
from typing import Any

import msgspec
import orjson


def _fallback(value: Any) -> Any:
    """Serialize what orjson does not know: events (msgspec structs) as their
    fields, anything else (paths, enums, ...) as text."""
    if isinstance(value, msgspec.Struct):
        return msgspec.structs.asdict(value)
    return str(value)


#: ``dumps(value) -> bytes``: events and dataclasses (snapshots) included.
dumps = functools.partial(orjson.dumps, default=_fallback)
#: ``encode(value) -> bytes`` for lists of events: msgspec writes its own
#: structs as they are, several times as fast as ``dumps`` of their dicts,
#: and the same bytes.
encode = msgspec.json.Encoder(enc_hook=_fallback).encode
loads = orjson.loads
#: What ``dumps`` or ``encode`` raise for a value they cannot write.
EncodeError: tuple[type[Exception], ...] = (orjson.JSONEncodeError, msgspec.EncodeError)
DecodeError = orjson.JSONDecodeError
