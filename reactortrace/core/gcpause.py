"""Pause the cyclic garbage collector while building or reading millions of objects."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from . import forks


class _Pauses:
    """The pauses under way (any thread's), and whether to enable the
    collector again when the last ends: it was on when the first began."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.active = 0
        self.enable_after = False

    def begin(self) -> None:
        with self._lock:
            if self.active == 0:
                self.enable_after = gc.isenabled()
            self.active += 1
            gc.disable()

    def end(self) -> None:
        with self._lock:
            self.active -= 1
            if self.active == 0 and self.enable_after:
                gc.enable()

    def forked(self) -> None:
        """In a forked child: the threads that paused the collector are gone
        (the one that forked was not in a pause): the program's own setting
        comes back, or the child would never collect again."""
        if self.active and self.enable_after:
            gc.enable()
        self.active = 0


_PAUSES = _Pauses()
forks.hold_across_fork(_PAUSES)
forks.in_child(_PAUSES.forked)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Collect no cycles inside the block (in every thread, until the last
    block running ends).

    Events, records and parsed JSON hold no cycles, but building a million of
    them sets off collections that rescan them all: reading a large trace
    then spends more time in the collector than in parsing.
    """
    _PAUSES.begin()
    try:
        yield
    finally:
        _PAUSES.end()
