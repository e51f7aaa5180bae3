"""What a trace writer process is told of the program's interned objects,
and how the messages between them are framed.

Imported by both sides: the program (:mod:`.capture`) and the writer
process (:mod:`.capture_writer`), which starts sooner for importing little.
"""

from __future__ import annotations

import struct
import types
from typing import Any, NamedTuple

from ..core.names import class_name, definition_site, key_name

FRAME = struct.Struct("<I")
"""The length prefix of every message between a program and its writer."""


class Facts(NamedTuple):
    """What the writer needs to know of one interned object, found once."""

    name: str
    cls: str | None
    #: (file, first line, {offset: line}) for a code object.
    code: tuple[str, int, dict[int, int]] | None
    internal: bool
    definition: str | None
    #: The object itself when it is plain data (a thread's name).
    raw: Any


def facts_of(obj: Any) -> Facts:
    """The :class:`Facts` of an interned object."""
    from .sites import internal_code

    code = None
    internal = False
    if isinstance(obj, types.CodeType):
        lines = {}
        for start, end, line in obj.co_lines():
            if line is not None:
                for at in range(start, end, 2):
                    lines[at] = line
        code = (obj.co_filename, obj.co_firstlineno, lines)
        internal = internal_code(obj)
    try:
        cls = class_name(obj)
    except Exception:  # noqa: BLE001 - only a class's name is ever asked for
        cls = None
    raw = obj if obj is None or isinstance(obj, (str, int, float)) else None
    return Facts(key_name(obj), cls, code, internal, definition_site(obj), raw)
