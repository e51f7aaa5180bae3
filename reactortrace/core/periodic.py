"""A daemon thread that does one small job every few milliseconds until stopped.

reactortrace's own threads (the ring's keeper, the watchdog) are built on it:
nothing of theirs ever runs on the program's reactor.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from . import forks


class Periodic:
    """Calls ``tick()`` every ``interval`` seconds on a daemon thread named
    ``name``, until :meth:`stop` or until ``tick`` returns False.

    With ``survive_fork``, a forked child (twistd daemonizing, say) gets a new
    thread at once: threads do not survive fork. Without it, the child's
    owner calls :meth:`restart` if it wants the thread there.

    A ``tick`` that raises ends the thread quietly: ``on_error(exc)`` is told,
    and nothing reaches the program's stderr or its ``threading.excepthook``.
    """

    def __init__(
        self,
        tick: Callable[[], bool | None],
        interval: float,
        name: str,
        survive_fork: bool = False,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        self.tick = tick
        self.on_error = on_error
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
            forks.in_child(self.restart)  # weakly: a stopped thread's owner can go

    def stop(self) -> None:
        """Stop, and wait (a second at most) for the thread to end."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=1.0)

    def restart(self) -> None:
        """In a forked child: a new thread, unless stopped (or never started)."""
        if not self._stop.is_set() and self._thread.ident is not None:
            if not self._thread.is_alive():
                self._thread = self._new_thread()
                self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                going_on = self.tick()
            except Exception as exc:  # noqa: BLE001 - never reaches the program
                going_on = False
                self._failed(exc)
            if going_on is False:
                self._stop.set()  # for good: not restarted in a child either
                return

    def _failed(self, exc: BaseException) -> None:
        if self.on_error is not None:
            try:
                self.on_error(exc)
            except Exception:  # noqa: BLE001, S110 - the thread ends either way
                pass

