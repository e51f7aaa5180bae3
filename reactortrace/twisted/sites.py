"""Find the line of user code that asked for something (a timer, a cancel)."""

from __future__ import annotations

import os
import sys
from types import CodeType, FrameType

import twisted

_TWISTED_DIR = os.path.dirname(twisted.__file__) + os.sep
_OUR_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_getframe = sys._getframe


def caller_site(depth: int = 2, limit: int = 12) -> tuple[CodeType | None, int | None]:
    """The (code, line) of the nearest caller outside Twisted and reactortrace.

    ``depth`` counts from this function's caller's caller. When every frame
    within ``limit`` is Twisted's own, the nearest one is returned.
    """
    try:
        frame: FrameType | None = _getframe(depth)
    except ValueError:
        return None, None
    first = frame
    for _ in range(limit):
        if frame is None:
            break
        filename = frame.f_code.co_filename
        if not (filename.startswith(_TWISTED_DIR) or filename.startswith(_OUR_DIR)):
            return frame.f_code, frame.f_lineno
        frame = frame.f_back
    if first is None:
        return None, None
    return first.f_code, first.f_lineno
