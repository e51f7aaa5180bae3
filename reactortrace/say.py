"""One line from reactortrace on the real stderr."""

from __future__ import annotations

import os


def say(message: str) -> None:
    """Write ``reactortrace: message`` to file descriptor 2.

    Not through ``sys.stderr``: programs such as twistd replace it with a log
    observer, and what we say must not end up in their logs. A closed
    terminal (SIGHUP) leaves nowhere to say it: then nothing happens.
    """
    try:
        os.write(2, f"reactortrace: {message}\n".encode(errors="replace"))
    except OSError:
        pass
