"""Keep the trace when the program is told to stop, even while its reactor is stuck.

A signal handler of the program (Twisted's own, twistd's, the program's, or
the default action) is wrapped: ours runs first, then theirs, unchanged. Ours
only tells the session, which writes the trace right away when the reactor is
blocked (or when the default action is about to end the process), or else a
second later from its own thread if the reactor has not stopped by then.

Python runs signal handlers on the main thread between two bytecodes: a
reactor blocked in a system call (``time.sleep``, a socket, a lock) or in
Python code gets there at once; C code that holds the interpreter lock keeps
every handler, and every thread of ours, waiting until it returns.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

#: The signals that ask a program to stop.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
#: Signals that end a program only by their default action (the terminal hung
#: up): guarded while left to it, never when the program has a handler of its
#: own (a reload on SIGHUP is no stop).
ENDING_SIGNALS = (signal.SIGTERM, signal.SIGHUP)

#: ``on_stop(signum, ends_now)``: ``ends_now`` when the default action will
#: end the process as soon as the handler returns.
OnStop = Callable[[int, bool], None]


class StopGuard:
    """Wraps the handlers of :data:`STOP_SIGNALS` so that ``on_stop`` hears first."""

    def __init__(self, on_stop: OnStop) -> None:
        self.on_stop = on_stop

    def install(self, signals: tuple[int, ...] = STOP_SIGNALS) -> bool:
        """Wrap the handlers of ``signals`` now in place (main thread only;
        again after the program changes them). False when it could not.

        An ignored signal is left alone: a handler would stop the programs it
        starts from inheriting the ignoring. So is Python's own SIGINT
        handler: Twisted puts its own in place only while that one is there
        (and its KeyboardInterrupt ends a block by itself).
        """
        if threading.current_thread() is not threading.main_thread():
            return False
        try:
            for signum in signals:
                current = signal.getsignal(signum)
                if current is None or current == signal.SIG_IGN:
                    continue
                if current is signal.default_int_handler:
                    continue
                if getattr(current, "_rt_guard", None) is self:
                    continue
                signal.signal(signum, self._wrap(current))
        except (OSError, ValueError, RuntimeError):
            return False
        return True

    def install_where_default(self, signals: tuple[int, ...] = ENDING_SIGNALS) -> bool:
        """Wrap those of ``signals`` still left to their default action."""
        if threading.current_thread() is not threading.main_thread():
            return False
        return self.install(tuple(s for s in signals if signal.getsignal(s) == signal.SIG_DFL))

    def _wrap(self, original: Any) -> Callable[[int, FrameType | None], Any]:
        guard = self

        def handler(signum: int, frame: FrameType | None) -> Any:
            ends_now = original == signal.SIG_DFL
            try:
                guard.on_stop(signum, ends_now)
            except Exception:  # noqa: BLE001 - the program's handling goes on regardless
                pass
            if ends_now:
                signal.signal(signum, signal.SIG_DFL)
                signal.raise_signal(signum)
                return None
            return original(signum, frame)

        handler._rt_guard = guard  # type: ignore[attr-defined]
        return handler
