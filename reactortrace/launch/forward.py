"""``python -m reactortrace.launch.forward FILE``: copy stdin to FILE until end of input.

A detached program's output pipe is handed to this process when the viewer
quits, so the program can go on writing: its output is appended to FILE
(created with mode 0600) instead of going nowhere or killing it with EPIPE.
"""

from __future__ import annotations

import os
import signal
import sys


def forward(source: int, path: str) -> None:
    """Append everything read from ``source`` to ``path``."""
    out = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        while data := os.read(source, 65_536):
            os.write(out, data)
    finally:
        os.close(out)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write("usage: python -m reactortrace.launch.forward FILE\n")
        return 2
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    forward(0, argv[0])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
