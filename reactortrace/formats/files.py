"""Writing trace files so that nothing that was there is harmed.

A trace holds the program's argv, paths and addresses: it is created 0600.
Only a regular file (or a new name) is ever written: a device, a FIFO, a
directory or a symbolic link at the path is refused, never replaced or
followed. Whole files are written to a new temporary file beside the target
(made with ``O_EXCL``, so nothing planted at a guessable name is followed) and
renamed over it only once complete; streamed files are opened with
``O_NOFOLLOW`` and checked before the first byte.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import IO

from ..errors import TraceFileError, UsageError

MODE = 0o600


def check_output(path: str) -> None:
    """Refuse now, in one line, a path no trace can be written to (:class:`UsageError`)."""
    try:
        _check(path)
    except TraceFileError as exc:
        raise UsageError(str(exc)) from None


def _check(path: str) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise TraceFileError(f"cannot write {path}: no directory {directory}")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise TraceFileError(f"cannot write {path}: {directory} is not writable")
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise TraceFileError(cannot_write(path, exc)) from None
    if stat.S_ISLNK(info.st_mode):
        raise TraceFileError(f"cannot write {path}: it is a symbolic link (name the file itself)")
    if not stat.S_ISREG(info.st_mode):
        raise TraceFileError(f"cannot write {path}: it is {_what(info.st_mode)}, not a file")


def _what(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a device"),
                       (stat.S_ISBLK, "a device"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


@contextmanager
def replacing(target: str) -> Iterator[IO[bytes]]:
    """A file to write that replaces ``target`` only once writing succeeded."""
    _check(target)
    directory, name = os.path.split(os.path.abspath(target))
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise TraceFileError(cannot_write(target, exc)) from None
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
        _check(target)  # nothing was put in its place meanwhile
        os.replace(temporary, target)
    except BaseException as exc:
        with suppress(OSError):
            os.unlink(temporary)
        if isinstance(exc, OSError):
            raise TraceFileError(cannot_write(target, exc)) from None
        # Imported here: `run` checks its output path without loading the encoders.
        from ..core.encoding import EncodeError

        if isinstance(exc, EncodeError):
            raise TraceFileError(cannot_encode(target, exc)) from None
        raise


def open_stream(path: str) -> IO[bytes]:
    """``path`` opened to be written from its start, as it goes (0600, never followed)."""
    _check(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, MODE)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENXIO):
            raise TraceFileError(f"cannot write {path}: it is not a regular file") from None
        raise TraceFileError(cannot_write(path, exc)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise TraceFileError(f"cannot write {path}: it is {_what(info.st_mode)}, not a file")
        os.set_blocking(fd, True)
        os.ftruncate(fd, 0)
        if info.st_mode & 0o777 != MODE:
            with suppress(OSError):  # not ours to change: it keeps its mode
                os.fchmod(fd, MODE)
        return os.fdopen(fd, "wb")
    except BaseException as exc:
        os.close(fd)
        if isinstance(exc, OSError):
            raise TraceFileError(cannot_write(path, exc)) from None
        raise


def cannot_write(path: str, exc: OSError) -> str:
    """The one-line message for a trace that could not be written."""
    return f"{path}: cannot write trace: {exc.strerror or exc}"


def cannot_encode(path: str, exc: Exception) -> str:
    """The one-line message for a value JSON cannot hold."""
    return f"{path}: cannot write trace: a value cannot be encoded as JSON ({exc})"
