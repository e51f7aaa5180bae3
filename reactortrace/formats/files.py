"""Writing a trace file so that a failure never leaves half a file in place of an old one."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import IO

from ..core.encoding import EncodeError
from ..errors import TraceFileError


@contextmanager
def replacing(target: str) -> Iterator[IO[bytes]]:
    """A file to write that replaces ``target`` only if writing succeeds."""
    temporary = target + ".tmp"
    try:
        with open(temporary, "wb") as out:
            yield out
        os.replace(temporary, target)
    except BaseException as exc:
        with suppress(OSError):
            os.unlink(temporary)
        if isinstance(exc, OSError):
            raise TraceFileError(cannot_write(target, exc)) from None
        if isinstance(exc, EncodeError):
            raise TraceFileError(cannot_encode(target, exc)) from None
        raise


def cannot_write(path: str, exc: OSError) -> str:
    """The one-line message for a trace that could not be written."""
    return f"{path}: cannot write trace: {exc.strerror or exc}"


def cannot_encode(path: str, exc: Exception) -> str:
    """The one-line message for a value JSON cannot hold."""
    return f"{path}: cannot write trace: a value cannot be encoded as JSON ({exc})"
