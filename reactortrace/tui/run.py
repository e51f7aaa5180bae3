"""Open the TUI on a feed in this terminal, until the user quits."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ..core.feed import Feed
from ..errors import ReactorTraceError, UsageError


class UIFailed(ReactorTraceError):
    """The terminal UI stopped on an error of its own (Textual printed it above)."""


def require_terminal(command: str) -> None:
    """The TUI needs a terminal on stdin and stdout."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError(f"{command} shows a terminal UI: run it in a terminal")


def show(feed: Feed, title: str | None = None, history: float | None = None) -> Any:
    """Run the TUI on ``feed`` until the user quits; the app's return value.
    ``history``: minutes of events the event log keeps (None: its default).

    SIGTERM and SIGHUP (the terminal went away) quit the TUI as ``q`` would,
    so whoever called this can still stop or detach the program cleanly. The
    feed is closed afterwards. Raises :class:`UIFailed` if the UI itself failed.
    """
    from .app import ReactorTraceApp

    if history is None:
        app = ReactorTraceApp(feed, title=title)
    else:
        app = ReactorTraceApp(feed, title=title, history=history * 60)
    try:
        with _quit_on_signals(app.exit):
            app.run()
    finally:
        app.close_feed()
    if app.return_code not in (None, 0):
        raise UIFailed("the terminal UI failed (its error is above)")
    return app.return_value


@contextmanager
def _quit_on_signals(quit_app: Callable[[], None]) -> Iterator[None]:
    signums = (signal.SIGTERM, signal.SIGHUP)
    previous = {signum: signal.getsignal(signum) for signum in signums}
    for signum in signums:
        signal.signal(signum, lambda *_: quit_app())
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
