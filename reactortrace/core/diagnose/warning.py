"""One warning as every view reads it: typed fields instead of a loose dict.

Snapshots and trace files keep warnings as plain dicts (JSON); :meth:`Warning.of`
reads one, from any version (missing keys are ``None``), and says what its
``subject`` is, so ``summary`` and the TUI describe it the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import codes as C

#: What a warning's ``subject`` is, by code: a timer id, a connection id, a
#: Deferred id, or (slow callbacks) nothing but the callable named ``name``.
ABOUT: dict[str, str] = {
    C.LATE_TIMER: "timer",
    C.MISSED_TICKS: "timer",
    C.LEFTOVER_TIMER: "timer",
    C.BACKPRESSURE: "conn",
    C.IDLE_CONNECTION: "conn",
    C.HALF_CLOSED: "conn",
    C.LEFTOVER_CONNECTION: "conn",
    C.DEFERRED_ERROR: "deferred",
    C.DEFERRED_PENDING: "deferred",
    C.SLOW_CALLBACK: "callable",
}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True, slots=True)
class Warning:  # noqa: A001 - the name users know; builtins' is never needed here
    """A finding as shown: ``code``, one-line ``message``, ``where`` (file:line),
    the ``subject`` id and ``name`` it is about, when it was found (``ts``, ns
    since start), and for slow callbacks the time blocked and the stack."""

    code: str
    message: str
    where: str | None = None
    subject: int | str | None = None
    name: str | None = None
    ts: int | None = None
    duration: int | None = None
    stack: tuple[str, ...] = ()

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> Warning:
        """Read a warning dict (from a snapshot or a trace file of any version)."""
        subject = data.get("subject")
        stack = data.get("stack")
        return cls(
            code=str(data.get("code") or "?"),
            message=str(data.get("message") or ""),
            where=_text(data.get("where")),
            subject=subject if isinstance(subject, (int, str)) else None,
            name=_text(data.get("name")),
            ts=_int(data.get("ts")),
            duration=_int(data.get("duration")),
            stack=tuple(str(line) for line in stack) if isinstance(stack, list) else (),
        )

    @property
    def about(self) -> str | None:
        """``"timer"``, ``"conn"``, ``"deferred"``, ``"callable"`` or None."""
        return ABOUT.get(self.code)

    def to_dict(self) -> dict[str, Any]:
        """The dict snapshots and trace files keep (optional fields only when set)."""
        out: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "where": self.where,
            "subject": self.subject,
            "name": self.name,
            "ts": self.ts,
        }
        if self.duration is not None:
            out["duration"] = self.duration
        if self.stack:
            out["stack"] = list(self.stack)
        return out
