"""Keep a program's output flowing whatever becomes of the viewer.

``python -m reactortrace.launch.forward FILE`` copies stdin to FILE until end
of input: a detached program's output pipe is handed to it when the viewer
quits, so the program can go on writing (appended to FILE, created with mode
0600) instead of going nowhere or killing it with EPIPE.

``python -m reactortrace.launch.forward --relay FILE`` sits between a program
run under the TUI and the viewer from the start: it copies the program's
output to stdout (the viewer's pipe), and once that pipe is gone (the viewer
was killed, even with SIGKILL) appends it to FILE instead, or drops it if
FILE cannot be written. The program never sees a broken pipe.
"""

from __future__ import annotations

import os
import signal
import sys

_CHUNK = 65_536


def forward(source: int, path: str) -> None:
    """Append everything read from ``source`` to ``path``."""
    out = _append_to(path)
    try:
        while data := os.read(source, _CHUNK):
            _write_all(out, data)
    finally:
        os.close(out)


def relay(source: int, sink: int, path: str) -> None:
    """Copy ``source`` to ``sink`` until its end; to ``path`` once ``sink`` is broken."""
    broken = False
    while data := os.read(source, _CHUNK):
        try:
            _write_all(sink, data)
        except OSError:
            if broken:
                continue  # nowhere left to write: drop it, keep draining
            broken = True
            os.close(sink)
            sink = _append_to(path)
            try:
                _write_all(sink, data)
            except OSError:
                pass


def _append_to(path: str) -> int:
    """``path`` opened to append (mode 0600 if new), or /dev/null if it cannot be."""
    try:
        return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    except OSError:
        return os.open(os.devnull, os.O_WRONLY)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "--relay":
        run, path = relay, argv[1]
    elif len(argv) == 1:
        run, path = None, argv[0]
    else:
        sys.stderr.write("usage: python -m reactortrace.launch.forward [--relay] FILE\n")
        return 2
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    if run is None:
        forward(0, path)
    else:
        relay(0, 1, path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
