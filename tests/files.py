"""Waiting for a file a program writes (tests of programs that write under a deadline)."""

from __future__ import annotations

import time
from pathlib import Path


def seconds_until_exists(path: Path, timeout: float) -> float:
    """Seconds until ``path`` exists; fails the test after ``timeout``."""
    started = time.monotonic()
    while not path.exists():
        assert time.monotonic() - started < timeout, f"{path.name} not written within {timeout}s"
        time.sleep(0.05)
    return time.monotonic() - started
