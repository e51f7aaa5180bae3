"""Find the line of user code that asked for something (a timer, a cancel, a Deferred).

A frame is *user code* unless it lies in Twisted, in reactortrace (the bundled
demo excepted: it is a user program like any other), in the standard library
or in an installed library (site-packages). A site is the nearest user frame;
when a stack holds none (``twistd`` serving a plugin, say), the nearest frame
outside Twisted, reactortrace and the standard library, then the nearest frame.
"""

from __future__ import annotations

import asyncio
import os
import site as _site
import sysconfig
from types import CodeType, FrameType

import twisted

_TWISTED_DIR = os.path.dirname(twisted.__file__) + os.sep
_OUR_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
# ...but the bundled demo is a user program like any other.
_DEMO_DIR = os.path.join(_OUR_DIR, "demo", "")
# asyncio runs the asyncio reactor's callbacks: its frames are plumbing too.
_ASYNCIO_DIR = os.path.dirname(asyncio.__file__) + os.sep


def _dirs(*paths: str | None) -> tuple[str, ...]:
    return tuple(sorted({os.path.join(os.path.realpath(p), "") for p in paths if p}))


_PATHS = sysconfig.get_paths()
_STDLIB = _dirs(_PATHS.get("stdlib"), _PATHS.get("platstdlib"))
_LIBRARIES = _dirs(
    _PATHS.get("purelib"), _PATHS.get("platlib"),
    *_site.getsitepackages(), _site.getusersitepackages(),
)
#: Stack depth walked at most looking for a site.
LIMIT = 40

#: Functions that run the reactor's dispatches (and its startup triggers): a
#: walk out for a site stops there, rather than name the line that called
#: ``reactor.run()``.
LOOP_NAMES = frozenset({
    "doIteration", "_readOrWrite", "mainLoop", "_run_once", "run_forever",
    "startRunning", "fireSystemEvent",
})

#: Kinds of code, from the most to the least useful as a site.
USER, LIBRARY, INTERNAL = 0, 1, 2


def site_of(frame: FrameType | None, limit: int = LIMIT) -> tuple[CodeType | None, int | None]:
    """The (code, instruction offset) of the nearest user frame, starting at
    ``frame`` and walking out (see the module's docstring for the fallbacks).

    Offsets (``f_lasti``) are cheap to read; ``reactortrace.core.names.site``
    turns them into line numbers later.
    """
    found = user_frame(frame, limit)
    return (None, None) if found is None else (found.f_code, found.f_lasti)


def user_frame(frame: FrameType | None, limit: int = LIMIT) -> FrameType | None:
    """The nearest user frame from ``frame`` out, else the best fallback; None for no frame.

    The walk stops at the reactor's loop: past it is only ``reactor.run()``.
    """
    best: FrameType | None = None
    best_kind = INTERNAL + 1
    for _ in range(limit):
        if frame is None:
            break
        code = frame.f_code
        kind = code_kind(code)
        if kind == USER:
            return frame
        if kind < best_kind:
            best, best_kind = frame, kind
        if code.co_name in LOOP_NAMES:
            break
        frame = frame.f_back
    return best


_kinds: dict[int, tuple[CodeType, int]] = {}


def code_kind(code: CodeType) -> int:
    """:data:`USER`, :data:`LIBRARY` or :data:`INTERNAL` (cached by identity)."""
    entry = _kinds.get(id(code))
    if entry is not None and entry[0] is code:
        return entry[1]
    kind = path_kind(code.co_filename)
    _kinds[id(code)] = (code, kind)
    return kind


def path_kind(filename: str) -> int:
    """Whose file ``filename`` is: the user's, a library's, or Twisted's, ours, Python's."""
    if filename.startswith(_DEMO_DIR):
        return USER
    if filename.startswith((_TWISTED_DIR, _OUR_DIR, _ASYNCIO_DIR, "<frozen ")) or (
        filename.startswith("<") and filename != "<stdin>" and filename != "<string>"
    ):
        return INTERNAL
    real = os.path.realpath(filename) if os.path.isabs(filename) else filename
    if real.startswith(_STDLIB) and not real.startswith(_LIBRARIES):
        return INTERNAL
    if real.startswith(_LIBRARIES):
        return LIBRARY
    return USER


def caller_site(frame: FrameType | None, limit: int = LIMIT) -> tuple[CodeType | None, int]:
    """(code, offset) of the nearest user frame from ``frame`` out, or (None, -1)
    when the walk reaches the reactor's loop first: what a dispatch did on its
    own (Twisted accepting a connection, say) has no line of the user's."""
    for _ in range(limit):
        if frame is None:
            break
        code = frame.f_code
        if code_kind(code) == USER:
            return code, frame.f_lasti
        if code.co_name in LOOP_NAMES:
            break
        frame = frame.f_back
    return None, -1


def internal_code(code: CodeType) -> bool:
    """Whether ``code`` is not the user's (Twisted, reactortrace, stdlib, libraries)."""
    return code_kind(code) != USER
