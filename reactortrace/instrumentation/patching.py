"""Reversible attribute patches: set, remember, and restore exactly."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_MISSING = object()
_CALL = "\0call"


class Patcher:
    """Sets attributes on objects or classes and undoes them in reverse order.

    An attribute that was found only through the class (or a base class) is
    deleted on restore, so instances and classes end up exactly as they were.
    """

    def __init__(self) -> None:
        self._undo: list[tuple[Any, str, Any]] = []

    def set(self, target: Any, name: str, value: Any) -> None:
        """Set ``target.name = value``, remembering what was there."""
        holder = target.__dict__ if hasattr(target, "__dict__") else {}
        previous = holder.get(name, _MISSING)
        setattr(target, name, value)
        self._undo.append((target, name, previous))

    def on_restore(self, undo: Callable[[], None]) -> None:
        """Call ``undo`` when this patcher restores (in the same reverse order)."""
        self._undo.append((undo, _CALL, None))

    def restore(self) -> None:
        """Undo every patch, newest first. Idempotent."""
        while self._undo:
            target, name, previous = self._undo.pop()
            if name is _CALL:
                target()
                continue
            try:
                if previous is _MISSING:
                    delattr(target, name)
                else:
                    setattr(target, name, previous)
            except (AttributeError, TypeError):
                pass  # the program removed it itself: nothing left to restore

    def __len__(self) -> int:
        return len(self._undo)
