"""The reactor families the tests run on: all four, or those named in
``REACTORTRACE_TEST_REACTORS`` (comma-separated; the CI matrix narrows it)."""

from __future__ import annotations

import os

ALL = ("epoll", "poll", "select", "asyncio")
REACTORS: tuple[str, ...] = tuple(
    name for name in os.environ.get("REACTORTRACE_TEST_REACTORS", ",".join(ALL)).split(",")
    if name in ALL
) or ALL
