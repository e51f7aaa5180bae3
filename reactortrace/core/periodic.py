"""A daemon thread that does one small job every few milliseconds until stopped.

reactortrace's own threads (the ring's keeper, the watchdog) are built on it:
nothing of theirs ever runs on the program's reactor.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable


class Periodic:
    """Calls ``tick()`` every ``interval`` seconds on a daemon thread named
    ``name``, until :meth:`stop` or until ``tick`` returns False.

    With ``survive_fork``, a forked child (twistd daemonizing, say) gets a new
    thread: threads do not survive fork.
    """

    def __init__(
        self,
        tick: Callable[[], bool | None],
        interval: float,
        name: str,
        survive_fork: bool = False,
    ) -> None:
        self.tick = tick
        self.interval = interval
        self.name = name
        self._stop = threading.Event()
        self._thread = self._new_thread()
        self._survive_fork = survive_fork

    def _new_thread(self) -> threading.Thread:
        return threading.Thread(target=self._run, name=self.name, daemon=True)

    def start(self) -> None:
        """Start the thread (idempotent)."""
        if self._thread.is_alive() or self._stop.is_set():
            return
        self._thread.start()
        if self._survive_fork:
            on_fork_in_child(self._restart)

    def stop(self) -> None:
        """Stop, and wait (a second at most) for the thread to end."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=1.0)

    def _restart(self) -> None:
        if not self._stop.is_set():
            self._thread = self._new_thread()
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            if self.tick() is False:
                return


def on_fork_in_child(method: Callable[[], None]) -> None:
    """Call the bound ``method`` in every forked child, for as long as its
    object lives (held weakly, so that a stopped thread's owner can go)."""
    ref = weakref.WeakMethod(method)
    os.register_at_fork(after_in_child=lambda: _call_if_alive(ref))


def _call_if_alive(method: "weakref.WeakMethod[Callable[[], None]]") -> None:
    bound = method()
    if bound is not None:
        bound()
