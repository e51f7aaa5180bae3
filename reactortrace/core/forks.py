"""Keep reactortrace's own state sound across ``os.fork()``.

Only the thread that forks goes on in the child: a lock another thread held
at that moment stays held there for ever, and what it guarded may be half
changed. :func:`hold_across_fork` takes such a lock just before every fork
(so no thread of ours is halfway through) and releases it just after, in the
parent and in the child. :func:`in_child` runs a function in every forked
child (to restart a thread, or to let go of what belongs to the parent).

Both hold their objects weakly: registering is for the life of the object,
not of the program.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable
from typing import Any

#: Seconds the fork waits for one of our locks (a thread of ours holds each
#: briefly). Past that the fork goes on and the child gets a fresh lock.
LOCK_WAIT = 2.0

_locks: list[tuple[weakref.ReferenceType[Any], str]] = []
_held: list[Any] = []
_missed: list[tuple[Any, str]] = []
_children: list[Callable[[], Callable[[], None] | None]] = []


def hold_across_fork(owner: Any, name: str = "_lock") -> None:
    """Take the lock ``owner.name`` before every fork, release it after.

    Locks are taken in the order they were registered: register an outer
    lock before the inner locks taken while it is held. One that could not be
    taken in time is replaced by a new lock in the child.
    """
    _locks.append((weakref.ref(owner), name))
    if len(_locks) % 256 == 0:
        _locks[:] = [entry for entry in _locks if entry[0]() is not None]


def in_child(callback: Callable[[], None]) -> None:
    """Call ``callback()`` in every forked child (weakly, for a bound method)."""
    if hasattr(callback, "__self__"):
        _children.append(weakref.WeakMethod(callback))
    else:
        _children.append(lambda: callback)
    if len(_children) % 256 == 0:
        _children[:] = [ref for ref in _children if ref() is not None]


def _before() -> None:
    _locks[:] = [entry for entry in _locks if entry[0]() is not None]
    for ref, name in _locks:
        owner = ref()
        lock = getattr(owner, name, None) if owner is not None else None
        if lock is None:
            continue
        if lock.acquire(timeout=LOCK_WAIT):
            _held.append(lock)
        else:
            _missed.append((owner, name))


def _after_in_parent() -> None:
    while _held:
        _held.pop().release()
    _missed.clear()


def _after_in_child() -> None:
    for owner, name in _missed:
        setattr(owner, name, threading.Lock())
    _after_in_parent()
    _children[:] = [ref for ref in _children if ref() is not None]
    for ref in list(_children):
        callback = ref()
        if callback is not None:
            try:
                callback()
            except Exception:  # noqa: BLE001 - the child must go on regardless
                pass


if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=_before, after_in_parent=_after_in_parent, after_in_child=_after_in_child
    )
