"""The recorder: a ring, a clock, and the rule that a failing part turns off."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from ..core.ring import Ring
from .callables import callable_key
from .patching import Patcher
from .records import Interner

log = logging.getLogger("reactortrace")


class Part:
    """One instrumented concern (timers, I/O, ...) that can be turned off alone."""

    __slots__ = ("name", "on", "patcher", "recorder")

    def __init__(self, name: str, recorder: "Recorder") -> None:
        self.name = name
        self.on = True
        self.patcher = Patcher()
        self.recorder = recorder

    def fail(self, exc: BaseException) -> None:
        """Log once, restore this part's patches, and stop recording it."""
        if not self.on:
            return
        self.on = False
        try:
            self.patcher.restore()
        finally:
            log.warning(
                "reactortrace: %s recording failed and is now off: %s: %s",
                self.name,
                type(exc).__name__,
                exc,
            )
            self.recorder.failures.append(f"{self.name}: {type(exc).__name__}: {exc}")


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

    def restore(self) -> None:
        """Undo every part's patches, newest part first."""
        for part in reversed(list(self.parts.values())):
            part.on = False
            part.patcher.restore()
