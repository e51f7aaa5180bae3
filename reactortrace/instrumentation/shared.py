"""Class-level patches shared by every active tracer, undone by the last one.

Some dispatch points (Deferred callbacks, DelayedCall.cancel, thread-pool jobs,
transport close and byte counts) live on classes, not on the reactor. They are
patched once while at least one tracer needs them; each wrapper finds the
recorder to write to at call time.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ..core.names import alias
from .recorder import Part, Recorder

_MISSING = object()
# (class, name) -> [users, previous value in the class dict or _MISSING, patched]
_shared: dict[tuple[type, str], list[Any]] = {}
#: Recorders in the order they started; shared hooks write to the newest.
ACTIVE: list[Recorder] = []


def shared_patch(
    part: Part, cls: type, name: str, make: Callable[[Any], Any]
) -> None:
    """Patch ``cls.name`` with ``make(original)`` while ``part`` is on."""
    key = (cls, name)
    entry = _shared.get(key)
    if entry is None:
        previous = cls.__dict__.get(name, _MISSING)
        patched = make(getattr(cls, name))
        setattr(cls, name, patched)
        entry = _shared[key] = [0, previous, patched]
    entry[0] += 1
    part.patcher.on_restore(lambda: _release(key))


def _release(key: tuple[type, str]) -> None:
    entry = _shared.get(key)
    if entry is None:
        return
    entry[0] -= 1
    if entry[0] > 0:
        return
    del _shared[key]
    cls, name = key
    if cls.__dict__.get(name) is not entry[2]:
        return  # someone patched over us; leave theirs in place
    if entry[1] is _MISSING:
        delattr(cls, name)
    else:
        setattr(cls, name, entry[1])


def original_of(cls: type, name: str) -> Any:
    """What ``cls.name`` was before the shared patch (or is, if unpatched)."""
    entry = _shared.get((cls, name))
    if entry is None:
        return getattr(cls, name)
    if entry[1] is not _MISSING:
        return entry[1]
    for base in cls.__mro__[1:]:
        if name in base.__dict__:
            return base.__dict__[name]
    raise AttributeError(name)


def disguise(wrapper: Any, original: Any) -> Any:
    """Make ``wrapper`` pass for ``original``: same names, and in traces the
    same code (a user may schedule a patched method as a callable)."""
    functools.update_wrapper(wrapper, original)
    code = getattr(original, "__code__", None)
    alias(wrapper.__code__, code if code is not None else original)
    return wrapper


def current() -> Recorder | None:
    """The newest active recorder, for hooks that cannot tell which reactor."""
    return ACTIVE[-1] if ACTIVE else None
