"""Short human forms of times, sizes and rates for narrow table cells.

Pure functions with no Textual import, so they are cheap to test and to reuse.
"""

from __future__ import annotations

import re

_NS_PER_S = 1_000_000_000


def duration(ns: int | float | None) -> str:
    """A duration in the largest unit that keeps it short: ``1.23s``, ``45µs``."""
    if ns is None:
        return "-"
    sign = "-" if ns < 0 else ""
    ns = abs(ns)
    if ns >= 60 * _NS_PER_S:
        return sign + clock(int(ns), millis=False)
    if ns < 1_000:
        return f"{sign}{int(ns)}ns"
    for unit, scale in _DURATION_UNITS:
        value = ns / scale
        if value < 999.5 or unit == "s":  # 999.5 would print as 1000
            return f"{sign}{_short(value)}{unit}"
    raise AssertionError("unreachable")


_DURATION_UNITS = (("µs", 1_000), ("ms", 1_000_000), ("s", _NS_PER_S))


def _short(value: float) -> str:
    """Three significant digits, never in exponent form."""
    return f"{value:.3g}" if value < 99.95 else f"{value:.0f}"


def clock(ns: int, *, millis: bool = True) -> str:
    """A position as ``mm:ss.mmm`` (``h:mm:ss.mmm`` past an hour)."""
    ms_total = max(0, int(ns)) // 1_000_000
    seconds, ms = divmod(ms_total, 1_000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    text = f"{minutes:02d}:{seconds:02d}"
    if hours:
        text = f"{hours}:{text}"
    return f"{text}.{ms:03d}" if millis else text


def size(n: int | None) -> str:
    """A byte count: ``512B``, ``1.5K``, ``12M``."""
    if n is None:
        return "-"
    value = float(n)
    for unit in ("B", "K", "M", "G"):
        if value < 1024 or unit == "G":
            if unit == "B":
                return f"{int(value)}B"
            return _short(value) + unit
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


_TIME_RE = re.compile(
    r"^\s*(?:(?:(?P<h>\d+):)?(?P<m>\d+):(?P<ms_s>\d+(?:\.\d*)?)"
    r"|(?P<num>\d+(?:\.\d*)?|\.\d+)\s*(?P<unit>ns|us|µs|ms|s|m|h)?)\s*$"
)
_UNITS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "ms": 1_000_000,
    "s": _NS_PER_S,
    "m": 60 * _NS_PER_S,
    "h": 3600 * _NS_PER_S,
}


def parse_time(text: str) -> int:
    """Read a position typed by a user into ns: ``12``, ``1.5s``, ``350ms``, ``1:02.5``.

    A bare number is seconds. Raises ``ValueError`` on anything else.
    """
    match = _TIME_RE.match(text)
    if not match:
        raise ValueError(f"not a time: {text!r} (try 12.5, 350ms or 1:02.5)")
    if match["num"] is not None:
        return round(float(match["num"]) * _UNITS[match["unit"] or "s"])
    hours = int(match["h"] or 0)
    seconds = float(match["ms_s"]) + 60 * int(match["m"]) + 3600 * hours
    return round(seconds * _NS_PER_S)
