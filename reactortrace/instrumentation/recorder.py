"""The recorder: a ring, a clock, and the rule that a failing part turns off alone.

A :class:`Part` is one instrumented concern (timers, io, threads, deferreds,
loop, watchdog, diagnosis). Whatever goes wrong inside one, at set-up or while
the program runs, takes one path, :meth:`Part.fail`: one log line naming the
part and the reason, its patches undone, and a ``recording-off`` warning in
the trace, so that a trace that lacks timers says why instead of looking like
a program without timers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from ..core.diagnose.codes import RECORDING_OFF
from ..core.ring import Ring
from . import records as R
from .callables import callable_key
from .patching import Patcher
from .records import Interner

log = logging.getLogger("reactortrace")

#: Every part a tracer may have, and what its records are, for messages.
PARTS: dict[str, str] = {
    "timers": "timers (scheduled, fired, cancelled) and calls from threads",
    "io": "connections opened and closed, and bytes read and written",
    "loop": "loop iterations, I/O dispatches and system events",
    "threads": "thread-pool jobs",
    "deferreds": "Deferred callbacks and errors in flight",
    "watchdog": "the blocking stacks of slow dispatches",
    "diagnosis": "backpressure, half-closed connections and Deferred tracking",
    "deferred-view": "pending Deferreds and what each waits on (snapshots)",
    "session": "the end of the run (when the trace is written)",
}


class Part:
    """One instrumented concern that can be turned off alone."""

    __slots__ = ("name", "on", "patcher", "recorder", "why", "notes")

    def __init__(self, name: str, recorder: Recorder) -> None:
        self.name = name
        self.on = True
        self.patcher = Patcher()
        self.recorder = recorder
        #: Why the part is off (None while it is on).
        self.why: str | None = None
        #: How it records less well than it could (a fallback in use), if at all.
        self.notes: list[str] = []

    def fail(self, exc: BaseException) -> None:
        """Log once, restore this part's patches, and stop recording it."""
        if not self.on:
            return
        self.on = False
        self.why = f"{type(exc).__name__}: {exc}"
        try:
            self.patcher.restore()
        except Exception as error:  # noqa: BLE001 - restoring must not raise either
            self.why += f" (and undoing it failed: {type(error).__name__}: {error})"
        finally:
            log.warning("reactortrace: %s recording failed and is now off: %s",
                        self.name, self.why)
            self.recorder.part_failed(self)

    def status(self) -> dict[str, Any]:
        """``{"on": bool, "why": str | None}``, and what could not be undone."""
        status: dict[str, Any] = {"on": self.on, "why": self.why}
        if self.notes:
            status["notes"] = list(self.notes)
        if self.patcher.kept:
            status["kept"] = list(self.patcher.kept)
        return status


class Recorder:
    """Owns the ring and the time origin of one trace."""

    def __init__(self, max_events: int) -> None:
        self.ring = Ring(max_events)
        self.append: Callable[[Any], None] = self.ring.append
        #: Seconds, as a float: packs far cheaper than a nanosecond int.
        self.clock: Callable[[], float] = time.perf_counter
        self.start = self.clock()
        self.start_wall = time.time()
        self.interner = Interner()
        #: The reactor being recorded, in a cell that hooks on its class read:
        #: calls for other instances, or after close (None), pass straight on.
        self.target: list[Any] = [None]
        #: DelayedCall -> its packed SCHEDULE record, while it is pending
        #: (DelayedCall hashes by identity: no id() to compute)
        self.timers: dict[Any, bytes] = {}
        #: id(code) -> interner ref of the key, for the code of plain
        #: functions (not decorators' wrappers): the hot paths' cheap lookup
        self.fast_keys: dict[int, int] = {}
        self.parts: dict[str, Part] = {}
        self.failures: list[str] = []

    def key_ref(self, func: Any) -> int:
        """The interned key of callable ``func``, remembering plain functions'
        code so the hot paths can find it with one lookup next time."""
        key = callable_key(func)
        ref = self.interner.ref(key)
        code = getattr(func, "__code__", None)
        if code is key:  # a plain function or method, not a wrapper
            self.fast_keys[id(code)] = ref
        return ref

    def part(self, name: str) -> Part:
        """The part called ``name``, made on first use."""
        part = self.parts.get(name)
        if part is None:
            part = self.parts[name] = Part(name, self)
        return part

    def part_failed(self, part: Part) -> None:
        """Say in the trace itself that ``part`` is off from now on."""
        self.failures.append(f"{part.name}: {part.why}")
        what = PARTS.get(part.name, part.name)
        message = (
            f"{part.name} recording is off ({part.why}): from here on the trace has no "
            f"{what}"
        )
        try:
            self.append((R.WARNING, self.clock(), RECORDING_OFF, message, None, part.name,
                         part.name))
        except Exception:  # noqa: BLE001 - the log line has said it already
            pass

    def emit(self, part_name: str, code: int, *values: Any) -> None:
        """Append ``(code, now, *values)`` if that part is on; never raises.

        For the rare records (cancels, pauses, errors in flight): the hot paths
        append packed records themselves.
        """
        part = self.parts.get(part_name)
        if part is None or not part.on:
            return
        try:
            self.append((code, self.clock(), *values))
        except Exception as exc:  # noqa: BLE001 - never raise into the program
            part.fail(exc)

    def fail(self, part_name: str, exc: BaseException) -> None:
        """Turn the part off (made if it was not yet: a failure during its set-up)."""
        self.part(part_name).fail(exc)

    def fail_everything(self, exc: BaseException) -> None:
        """The ring can no longer be kept bounded (its keeper failed): every
        part turns off, so that nothing more is appended."""
        why = RuntimeError(f"the ring's keeper failed: {type(exc).__name__}: {exc}")
        for part in list(self.parts.values()):
            part.fail(why)

    def restore(self) -> None:
        """Undo every part's patches, newest part first."""
        for part in reversed(list(self.parts.values())):
            part.on = False
            part.patcher.restore()

    def recording(self, expected: list[str]) -> dict[str, dict[str, Any]]:
        """Each part in ``expected`` (and any other made) with its status."""
        out: dict[str, dict[str, Any]] = {}
        for name in expected:
            part = self.parts.get(name)
            out[name] = part.status() if part is not None else {"on": False, "why": "not asked for"}
        for name, part in self.parts.items():
            out.setdefault(name, part.status())
        return out
