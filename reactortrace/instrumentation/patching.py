"""Reversible attribute patches: set, remember, and restore only what is still ours."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_MISSING = object()
_CALL = "\0call"


class Patcher:
    """Sets attributes on objects or classes and undoes them in reverse order.

    An attribute that was found only through the class (or a base class) is
    deleted on restore, so instances and classes end up exactly as they were.
    An attribute that no longer holds the value we set (the program, or a
    profiler, patched it after us) is left as it is: theirs wins, and
    :attr:`kept` names it.
    """

    def __init__(self) -> None:
        self._undo: list[tuple[Any, str, Any, Any]] = []
        #: ``Class.name`` of patches left in place because someone replaced ours.
        self.kept: list[str] = []

    def set(self, target: Any, name: str, value: Any) -> None:
        """Set ``target.name = value``, remembering what was there."""
        holder = target.__dict__ if hasattr(target, "__dict__") else {}
        previous = holder.get(name, _MISSING)
        setattr(target, name, value)
        self._undo.append((target, name, previous, value))

    def on_restore(self, undo: Callable[[], None]) -> None:
        """Call ``undo`` when this patcher restores (in the same reverse order)."""
        self._undo.append((undo, _CALL, None, None))

    def restore(self) -> None:
        """Undo every patch, newest first. Idempotent."""
        while self._undo:
            target, name, previous, ours = self._undo.pop()
            if name is _CALL:
                target()
                continue
            holder = target.__dict__ if hasattr(target, "__dict__") else {}
            if holder.get(name, _MISSING) is not ours:
                self.kept.append(f"{getattr(target, '__qualname__', type(target).__name__)}.{name}")
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
