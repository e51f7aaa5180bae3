"""Self time: how much of a dispatch was not spent in dispatches it ran itself.

A timer that fires a Deferred runs the Deferred's callbacks inside its own
dispatch, and a callback may fire another Deferred in turn. Events reach
:class:`LoopState` when they *end*, so a nested dispatch always comes before
the one that ran it. :class:`Nesting` keeps the dispatches not yet claimed by
an enclosing one (a stack, newest last); a new event claims those that lie
within it, and its self time is its duration less theirs.
"""

from __future__ import annotations

#: Unclaimed dispatches kept at most (older ones can no longer be claimed in practice).
MAX_OPEN = 256


class Nesting:
    """Feed reactor-thread dispatches in the order they end; get each one's self time."""

    __slots__ = ("_starts", "_ends", "_durs")

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._durs: list[int] = []

    def self_time(self, ts: int, dur: int) -> int:
        """``dur`` less the time of the dispatches run within ``[ts, ts + dur]``."""
        starts, ends, durs = self._starts, self._ends, self._durs
        end = ts + dur
        inner = 0
        while starts and starts[-1] >= ts and ends[-1] <= end:
            starts.pop()
            ends.pop()
            inner += durs.pop()
        starts.append(ts)
        ends.append(end)
        durs.append(dur)
        if len(starts) > MAX_OPEN:
            del starts[0], ends[0], durs[0]
        own = dur - inner
        return own if own > 0 else 0

    def clear(self) -> None:
        """Nothing before now can be claimed any more (a loop iteration ended)."""
        if self._starts:
            self._starts.clear()
            self._ends.clear()
            self._durs.clear()
