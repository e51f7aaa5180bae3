"""Which process of a forking program writes the trace file asked for.

A program may fork: ``twistd`` daemonizing (the parent ends, the grandchild
runs the reactor), a pre-fork server, workers. Two processes must never write
one file, so the path ``-o`` names belongs to one process only: the first
that starts its reactor (or, if none does, the one ``reactortrace run``
started, when it writes its trace). Every other process that records writes
``NAME-PID.EXT`` beside it (``trace.json`` -> ``trace-4242.json``).

"First" is decided across processes by a token: one byte in a pipe made when
recording starts, inherited by every forked child. Taking it is a
non-blocking one-byte read, which only one process can win. A process that
cannot use the pipe any more (a daemon that closed every descriptor) does not
win it.
"""

from __future__ import annotations

import os
import stat
from contextlib import suppress


def beside(path: str, pid: int) -> str:
    """``NAME-PID.EXT`` in the directory of ``path`` (``NAME.EXT``)."""
    root, ext = os.path.splitext(path)
    return f"{root}-{pid}{ext}"


class OutputClaim:
    """The requested ``path``, and whether this process may write it."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._decided: tuple[int, str] | None = None  # (pid, path) once decided
        self._fd: int | None = None
        self._ident: tuple[int, int] | None = None
        self._maker = os.getpid()  # wins if there is no pipe
        try:
            read_end, write_end = os.pipe()  # not inherited by programs it runs
        except OSError:
            return
        try:
            os.write(write_end, b"1")
            os.set_blocking(read_end, False)
            info = os.fstat(read_end)
            self._fd, self._ident = read_end, (info.st_dev, info.st_ino)
        except OSError:
            os.close(read_end)
        finally:
            os.close(write_end)

    def take(self) -> str:
        """The path this process writes (decided at the first call, for good)."""
        pid = os.getpid()
        if self._decided is not None and self._decided[0] == pid:
            return self._decided[1]
        won = self._decided is None and self._take_token()
        self._release()
        self._decided = (pid, self.path if won else beside(self.path, pid))
        return self._decided[1]

    def _take_token(self) -> bool:
        fd = self._fd
        if self._ident is None:
            return os.getpid() == self._maker
        if fd is None:
            return False
        try:
            info = os.fstat(fd)
            if not stat.S_ISFIFO(info.st_mode) or (info.st_dev, info.st_ino) != self._ident:
                self._fd = None  # closed by the program, the number reused: not ours
                return False
            return os.read(fd, 1) == b"1"
        except OSError:  # empty (EAGAIN), or closed meanwhile
            return False

    def _release(self) -> None:
        """Decided here: later children of this process have no token to take."""
        fd, self._fd = self._fd, None
        if fd is not None:
            with suppress(OSError):
                info = os.fstat(fd)
                if (info.st_dev, info.st_ino) == self._ident:
                    os.close(fd)
