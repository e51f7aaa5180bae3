"""Find the line of user code that asked for something (a timer, a cancel)."""

from __future__ import annotations

import asyncio
import os
from types import CodeType, FrameType

import twisted

_TWISTED_DIR = os.path.dirname(twisted.__file__) + os.sep
_OUR_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
# ...but the bundled demo is a user program like any other.
_DEMO_DIR = os.path.join(_OUR_DIR, "demo", "")
# asyncio runs the asyncio reactor's callbacks: its frames are plumbing too.
_ASYNCIO_DIR = os.path.dirname(asyncio.__file__) + os.sep


def site_of(frame: FrameType | None, limit: int = 12) -> tuple[CodeType | None, int | None]:
    """The (code, instruction offset) of the nearest frame outside Twisted,
    starting at ``frame`` and walking out.

    Offsets (``f_lasti``) are cheap to read; ``reactortrace.core.names.site``
    turns them into line numbers later. When every frame within ``limit`` is
    Twisted's own, the nearest one is returned.
    """
    first = frame
    for _ in range(limit):
        if frame is None:
            break
        if not internal_code(frame.f_code):
            return frame.f_code, frame.f_lasti
        frame = frame.f_back
    if first is None:
        return None, None
    return first.f_code, first.f_lasti


_internal: dict[int, tuple[CodeType, bool]] = {}


def internal_code(code: CodeType) -> bool:
    """Whether ``code`` belongs to Twisted or reactortrace (cached by identity)."""
    entry = _internal.get(id(code))
    if entry is not None and entry[0] is code:
        return entry[1]
    filename = code.co_filename
    inside = (
        filename.startswith((_TWISTED_DIR, _OUR_DIR, _ASYNCIO_DIR, "<frozen "))
        and not filename.startswith(_DEMO_DIR)
    )
    _internal[id(code)] = (code, inside)
    return inside
