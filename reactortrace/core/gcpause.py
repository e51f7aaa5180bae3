"""Pause the cyclic garbage collector while building or reading millions of objects."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Collect no cycles inside the block.

    Events, records and parsed JSON hold no cycles, but building a million of
    them sets off collections that rescan them all: reading a large trace
    then spends more time in the collector than in parsing.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
