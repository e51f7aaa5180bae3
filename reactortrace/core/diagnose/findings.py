"""The findings kept: at most one per code and subject, and a bounded number per code."""

from __future__ import annotations

from typing import Any, Protocol

from .codes import KEEP_CLOSED, MAX_PER_CODE, TOO_MANY, Said
from .warning import Warning


class Source(Protocol):
    """What a finding is about; it says its warning as of a moment."""

    def warning(self, code: str, now: int) -> Said: ...


class Finding:
    """One finding: its code, when it first became true, and what it is about."""

    __slots__ = ("code", "ts", "source")

    def __init__(self, code: str, ts: int, source: Source) -> None:
        self.code = code
        self.ts = ts
        self.source = source

    def render(self, now: int) -> dict[str, Any]:
        """The warning as of ``now``."""
        name, where, subject, message = self.source.warning(self.code, now)
        details = getattr(self.source, "details", None)
        duration, stack = details() if details is not None else (None, ())
        return Warning(
            self.code, message, where, subject, name, self.ts, duration, tuple(stack)
        ).to_dict()


class Findings:
    """Findings by (code, key), at most ``max_per_code`` of each code.

    What is over the cap is counted (by key) and shown as one
    ``too-many-warnings`` warning per code.
    """

    def __init__(self, max_per_code: int = MAX_PER_CODE) -> None:
        self.max_per_code = max_per_code
        self._found: dict[tuple[str, Any], Finding] = {}
        self._per_code: dict[str, int] = {}
        #: Codes -> keys of findings not kept because of the cap.
        self.overflow: dict[str, set[Any]] = {}

    def __contains__(self, code_key: tuple[str, Any]) -> bool:
        return code_key in self._found

    def add(self, code: str, key: Any, ts: int, source: Source) -> bool:
        """Keep a finding unless one with this code and key exists; False if over the cap."""
        if (code, key) in self._found:
            return True
        if self._per_code.get(code, 0) >= self.max_per_code:
            keys = self.overflow.setdefault(code, set())
            if len(keys) < KEEP_CLOSED:
                keys.add(key)
            return False
        self._per_code[code] = self._per_code.get(code, 0) + 1
        self._found[(code, key)] = Finding(code, ts, source)
        return True

    def withdraw(self, code: str, key: Any) -> None:
        """Forget a finding that is no longer true."""
        if self._found.pop((code, key), None) is not None:
            self._per_code[code] -= 1
        self.overflow.get(code, set()).discard(key)

    def render(self, now: int, live: list[Finding]) -> list[dict[str, Any]]:
        """Every finding kept, and ``live`` ones (true now, not kept), oldest first."""
        out = [finding.render(now) for finding in self._found.values()]
        counts = dict(self._per_code)
        extra: dict[str, int] = {}
        for finding in live:
            if counts.get(finding.code, 0) >= self.max_per_code:
                extra[finding.code] = extra.get(finding.code, 0) + 1
                continue
            counts[finding.code] = counts.get(finding.code, 0) + 1
            out.append(finding.render(now))
        for code in sorted(set(self.overflow) | set(extra)):
            more = len(self.overflow.get(code, ())) + extra.get(code, 0)
            if not more:
                continue
            out.append({
                "code": TOO_MANY,
                "message": f"{more} more {code} warnings were not kept "
                           f"(at most {self.max_per_code} per code)",
                "where": None,
                "subject": None,
                "name": code,
                "ts": now,
            })
        out.sort(key=lambda w: w["ts"])
        return out
