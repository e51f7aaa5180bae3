"""A dead man's switch on the interpreter lock: stacks even when no thread of ours runs.

C code that holds the GIL (a long regex, a C extension's loop) stops every
Python thread, the watchdog's and the live server's too, so the viewer only
sees the updates stop. faulthandler's ``dump_traceback_later`` has a C thread
that dumps every thread's Python stack without taking the GIL. A thread of
ours re-arms it every :data:`REARM` seconds; only when that thread cannot run
for :data:`TIMEOUT` seconds does it fire, appending a dump (every TIMEOUT
while it lasts) to ``DIR/PID.stacks``, whose first line names the reactor
thread. The viewer reads it when the updates stop (see
:mod:`reactortrace.core.faultdump`); once we run again the file is emptied.

faulthandler has one such timer per process: a program that arms its own
(``faulthandler.dump_traceback_later``) takes it over and ours stands down for
good; ours is not started at all when a loaded module holds that function
under a name of its own, since its calls would bypass us. Around a fork ours is disarmed (a child inheriting an armed timer would
hang in faulthandler's next call: its C thread is not in the child), re-armed
in the parent after, and never in the child.
"""

from __future__ import annotations

import faulthandler
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

from reactortrace.core.faultdump import DUMP_START
from reactortrace.live.paths import STACKS_SUFFIX

#: Seconds without re-arming after which the C thread dumps the stacks.
TIMEOUT = 1.0
#: Seconds between re-arms (well within TIMEOUT on a loaded machine).
REARM = 0.25

_original_arm = faulthandler.dump_traceback_later
_original_cancel = faulthandler.cancel_dump_traceback_later
#: The switch running in this process, if any (for the fork hooks).
_active: list[StackSwitch] = []


def _before_fork() -> None:
    for switch in _active:
        switch.pause()


def _after_fork_in_parent() -> None:
    for switch in _active:
        switch.resume()


def _after_fork_in_child() -> None:
    for switch in _active:
        switch.forget()
    _active.clear()


os.register_at_fork(
    before=_before_fork, after_in_parent=_after_fork_in_parent, after_in_child=_after_fork_in_child
)


def _held_elsewhere() -> bool:
    """Whether a loaded module holds faulthandler's timer function under a name
    of its own (``from faulthandler import dump_traceback_later``): its calls
    would not reach our wrapper, and our re-arming would replace its timer."""
    for name, module in list(sys.modules.items()):
        if name in ("faulthandler", __name__) or module is None:
            continue
        try:
            values = vars(module).values()
        except TypeError:
            continue
        if any(value is _original_arm for value in list(values)):
            return True
    return False


def stacks_path(socket: str) -> str:
    """The stacks file beside a live socket ``DIR/PID.sock``."""
    return os.path.splitext(socket)[0] + STACKS_SUFFIX


class StackSwitch:
    """Keeps faulthandler's timer armed while this process's threads run.

    ``reactor_thread()``: the ident of the thread running the reactor (None
    until one does).
    """

    def __init__(self, path: str, reactor_thread: Callable[[], int | None]) -> None:
        self.path = path
        self.reactor_thread = reactor_thread
        self._fd: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._written = 0  # bytes of our header in the file
        self._lock = threading.Lock()  # our re-arm against the program's own call
        self.ceded = False

    def start(self) -> bool:
        """Arm it and start re-arming; False if it cannot (the file, or the program's own timer)."""
        if faulthandler.dump_traceback_later is not _original_arm or _held_elsewhere():
            return False  # someone else's switch, wrapper, or a reference we could not see

        try:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        except OSError:
            return False
        faulthandler.dump_traceback_later = self._program_arms
        faulthandler.cancel_dump_traceback_later = self._program_cancels
        with self._lock:
            self._rearm()
        _active.append(self)
        self._thread = threading.Thread(target=self._run, name="reactortrace-stacks", daemon=True)
        self._thread.start()
        return True

    def stop(self) -> None:
        """Disarm (unless the program has taken the timer over), remove the file."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(2.0)
        with self._lock:
            self._cede(cancel=not self.ceded)
        if self in _active:
            _active.remove(self)
        try:
            os.unlink(self.path)
        except OSError:
            pass

    # -- forks -----------------------------------------------------------------

    def pause(self) -> None:
        """Disarm before a fork (the lock is held until :meth:`resume` or :meth:`forget`)."""
        self._lock.acquire()
        if not self.ceded:
            _original_cancel()

    def resume(self) -> None:
        """In the parent after a fork: armed again."""
        try:
            if not self.ceded and self._fd is not None:
                _original_arm(TIMEOUT, repeat=True, file=self._fd)
        except Exception:  # noqa: BLE001 - stand down rather than disturb
            self._cede(cancel=True)
        finally:
            self._lock.release()

    def forget(self) -> None:
        """In a child after a fork: nothing of ours runs here; the file is the parent's."""
        self.ceded = True
        self._stop.set()
        if faulthandler.dump_traceback_later == self._program_arms:
            faulthandler.dump_traceback_later = _original_arm
            faulthandler.cancel_dump_traceback_later = _original_cancel
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)
        self._lock.release()

    # -- the program's calls ---------------------------------------------------

    def _program_arms(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            result = _original_arm(*args, **kwargs)  # replaces ours: the program's from now on
            self._cede(cancel=False)
        return result

    def _program_cancels(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            result = _original_cancel(*args, **kwargs)
            self._cede(cancel=False)
        return result

    def _cede(self, cancel: bool) -> None:
        """Stand down for good; ``cancel`` our timer (not when the program's has replaced it).
        The file is closed only once no timer of ours can write to it."""
        if not self.ceded:
            self.ceded = True
            self._stop.set()
            if faulthandler.dump_traceback_later == self._program_arms:
                faulthandler.dump_traceback_later = _original_arm
                faulthandler.cancel_dump_traceback_later = _original_cancel
            if cancel:
                _original_cancel()
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass

    # -- our thread ------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.wait(REARM):
            with self._lock:
                try:
                    self._rearm()
                except Exception:  # noqa: BLE001 - never disturb the program; stand down
                    self._cede(cancel=True)
                    return

    def _rearm(self) -> None:
        fd = self._fd
        if fd is None or self.ceded:
            return
        ident = self.reactor_thread()
        if os.fstat(fd).st_size != self._written or (ident and not self._written):
            # A dump was written (we could not run meanwhile), or the reactor
            # started: start the file again, naming the reactor thread.
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            self._written = os.write(fd, f"reactor {ident or 0:#x}\n".encode()) if ident else 0
        _original_arm(TIMEOUT, repeat=True, file=fd)



def switch_beside(socket: str, reactor_thread: Callable[[], int | None]) -> StackSwitch | None:
    """A started switch writing beside the live socket ``socket``; None if it
    cannot start (the file, or the program's own use of faulthandler's timer)."""
    switch = StackSwitch(stacks_path(socket), reactor_thread)
    return switch if switch.start() else None

def read_dump(path: str, limit: int = 256 * 1024) -> str:
    """The stacks file's header and its latest dumps (at most ``limit`` bytes); "" if none."""
    try:
        with open(path, "rb") as f:
            head = f.readline(256)
            size = os.fstat(f.fileno()).st_size
            if size > limit:
                f.seek(size - limit)
            body = f.read(limit)
    except OSError:
        return ""
    text = body.decode("utf-8", "replace")
    if size > limit:  # start at a whole dump
        text = text[text.find(DUMP_START):] if DUMP_START in text else ""
    else:
        text = text[len(head):]
    return head.decode("utf-8", "replace") + text
