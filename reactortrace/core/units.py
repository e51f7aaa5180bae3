"""Durations, sizes and rates: the one parser of what users type, and the forms we print.

Times inside reactortrace are integer nanoseconds. What a user types on any
command line (``50``, ``50ms``, ``0.05s``, ``1:02.5``) goes through
:func:`parse_duration`; what we print goes through :func:`duration`,
:func:`clock`, :func:`size`, :func:`rate` and :func:`percent`, in messages and
in the TUI's narrow cells alike (``spaced`` puts a space before the unit).
"""

from __future__ import annotations

import os
import re

NS = 1
US = 1_000
MS = 1_000_000
S = 1_000_000_000
MINUTE = 60 * S
HOUR = 60 * MINUTE

_UNITS = {
    "ns": NS, "us": US, "µs": US, "ms": MS, "s": S, "sec": S,
    "m": MINUTE, "min": MINUTE, "h": HOUR,
}
_DURATION = re.compile(
    r"^\s*(?:(?:(?P<h>\d+):)?(?P<m>\d+):(?P<s>\d+(?:\.\d*)?)"
    r"|(?P<num>\d+(?:\.\d*)?|\.\d+)\s*(?P<unit>[a-zµ]*))\s*$"
)


def parse_duration(text: str | float, unit: int = S) -> int:
    """Nanoseconds for what a user typed: a number in ``unit`` (``50``), a number
    with its own unit (``50ms``, ``0.05s``, ``2m``), or a clock (``1:02.5``).

    Raises ``ValueError`` with a short reason on anything else, negative
    values included.
    """
    if isinstance(text, bool):
        raise ValueError(f"not a duration: {text!r}")
    if isinstance(text, (int, float)):
        if not text >= 0:  # also refuses NaN
            raise ValueError(f"not a duration: {text!r}")
        return round(text * unit)
    match = _DURATION.match(text.lower())
    if match is None:
        raise ValueError(f"not a duration: {text!r} (use e.g. 50ms, 2s, 1:02.5)")
    if match["num"] is not None:
        scale = unit
        if match["unit"]:
            scale = _UNITS.get(match["unit"], 0)
            if not scale:
                raise ValueError(f"unknown unit {match['unit']!r} in {text!r} (ns, us, ms, s, m, h)")
        return round(float(match["num"]) * scale)
    seconds = float(match["s"]) + 60 * int(match["m"]) + 3600 * int(match["h"] or 0)
    return round(seconds * S)


def duration(ns: int | float | None, *, spaced: bool = False) -> str:
    """A duration with three significant digits in the largest unit that keeps it
    short: ``850µs``, ``12.5ms``, ``4.2s``, ``3m05s``; ``-`` for None."""
    if ns is None:
        return "-"
    sep = " " if spaced else ""
    sign = "-" if ns < 0 else ""
    ns = abs(ns)
    if ns >= MINUTE:
        minutes, seconds = divmod(int(ns) // S, 60)
        if minutes >= 60:
            return f"{sign}{minutes // 60}h{minutes % 60:02d}m"
        return f"{sign}{minutes}m{seconds:02d}s"
    if ns < US:
        return f"{sign}{int(ns)}{sep}ns"
    for name, scale in (("µs", US), ("ms", MS), ("s", S)):
        value = ns / scale
        if value < 999.5 or name == "s":  # 999.5 would print as 1000
            return f"{sign}{_short(value)}{sep}{name}"
    raise AssertionError("unreachable")


def clock(ns: int, *, millis: bool = True) -> str:
    """A position as ``mm:ss.mmm`` (``h:mm:ss.mmm`` past an hour)."""
    ms_total = max(0, int(ns)) // MS
    seconds, ms = divmod(ms_total, 1_000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    text = f"{minutes:02d}:{seconds:02d}"
    if hours:
        text = f"{hours}:{text}"
    return f"{text}.{ms:03d}" if millis else text


def size(n: int | None, *, spaced: bool = False) -> str:
    """A byte count: ``512B``, ``1.5K``, ``12M`` in cells; ``512 B``, ``1.5 KiB`` in
    messages (``spaced``); ``-`` for None."""
    if n is None:
        return "-"
    sep, suffix = (" ", "iB") if spaced else ("", "")
    value = float(n)
    for name in ("B", "K", "M", "G"):
        if abs(value) < 1024 or name == "G":
            return f"{int(value)}{sep}B" if name == "B" else f"{_short(value)}{sep}{name}{suffix}"
        value /= 1024
    raise AssertionError("unreachable")


def rate(per_second: float) -> str:
    """An events-per-second figure: ``950``, ``12.3k``, ``1.2M``."""
    if per_second < 1_000:
        return f"{per_second:.0f}"
    if per_second < 1_000_000:
        return _short(per_second / 1_000) + "k"
    return _short(per_second / 1_000_000) + "M"


def percent(fraction: float) -> str:
    """A 0..1 fraction as a whole percentage."""
    return f"{fraction * 100:.0f}%"


def _short(value: float) -> str:
    """Three significant digits, never in exponent form."""
    return f"{value:.3g}" if value < 99.95 else f"{value:.0f}"


def short_path(where: str | None, cwd: str | None = None) -> str:
    """A ``file:line`` site as users read it: normalized (no ``..``), relative
    to the working directory when under it, else whole; ``-`` for no site."""
    if not where:
        return "-"
    path, sep, line = where.rpartition(":")
    if not sep or not line.isdigit():
        path, line = where, ""
    path = os.path.normpath(path)
    base = os.path.join(cwd or os.getcwd(), "")
    if path.startswith(base):
        path = path[len(base):]
    return f"{path}:{line}" if line else path
