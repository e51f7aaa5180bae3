"""Read the stacks faulthandler dumps when a program holds the interpreter lock.

C code that never releases the GIL (a long regex, a C extension's loop) stops
every Python thread, the watchdog's too; faulthandler's own C thread still
dumps every thread's Python stack to a file (see
:mod:`reactortrace.live.deadman`). This reads the latest dump of that file and
turns the reactor thread's stack into a :class:`BlockedInfo` for the views.
"""

from __future__ import annotations

import os
import re
import sysconfig

from reactortrace.core.snapshot import BlockedInfo

#: The file's first line, written by the program: which thread runs the reactor.
HEADER = re.compile(r"^reactor (0x[0-9a-f]+)$")
_THREAD = re.compile(r"^(?:Current thread|Thread) (0x[0-9a-f]+)")
_FRAME = re.compile(r'^  File "(.*)", line (\d+) in (.*)$')
#: What a dump of the file starts with (one per timeout).
DUMP_START = "Timeout ("

_OURS = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_PATHS = sysconfig.get_paths()
_LIBRARY = tuple(
    os.path.join(p, "") for p in {_PATHS.get("stdlib"), _PATHS.get("platstdlib")} if p
)


def _framework(path: str) -> bool:
    """Twisted's or reactortrace's: the frames that dispatch, not what was dispatched."""
    return path.startswith(_OURS) or f"{os.sep}twisted{os.sep}" in path


def _library(path: str) -> bool:
    return (path.startswith(_LIBRARY) or f"{os.sep}site-packages{os.sep}" in path
            or f"{os.sep}dist-packages{os.sep}" in path)


def reactor_stack(text: str) -> list[str] | None:
    """The reactor thread's stack in the latest complete dump of ``text``,
    outermost first, as ``"file:line function"``; None if there is none."""
    lines = text.splitlines()
    if not lines or not (header := HEADER.match(lines[0])):
        return None
    ident = header.group(1)
    starts = [i for i, line in enumerate(lines) if line.startswith(DUMP_START)]
    if not starts:
        return None
    frames: list[str] = []
    inside = False
    for line in lines[starts[-1] + 1:]:
        thread = _THREAD.match(line)
        if thread:
            inside = int(thread.group(1), 16) == int(ident, 16)
            continue
        frame = _FRAME.match(line)
        if inside and frame:
            frames.append(f"{frame.group(1)}:{frame.group(2)} {frame.group(3)}")
    return frames[::-1] or None


def blocked_from_dump(stack: list[str], since: int, elapsed: int) -> BlockedInfo:
    """What the views show of a block seen only by faulthandler: the frames the
    reactor dispatched to (after the last of Twisted's or ours), the program's
    first, its last line as the blocking line."""
    paths = [frame.rpartition(":")[0] for frame in stack]
    start = 0
    for index, path in enumerate(paths):
        if _framework(path):
            start = index + 1
    tail = stack[start:] or stack
    tail_paths = paths[start:] or paths
    user = 0
    while user < len(tail) and not _library(tail_paths[user]) and not _framework(tail_paths[user]):
        user += 1
    blocking = tail[user - 1] if user else tail[-1]
    site, _, function = blocking.rpartition(" ")
    name = tail[0].rpartition(" ")[2] or "?"
    return BlockedInfo(
        since=since, elapsed=elapsed, name=name, kind="holding the interpreter lock",
        made_at=None, site=site, function=function or None, stack=tuple(tail), user_frames=user,
    )
