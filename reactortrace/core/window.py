"""The recent window of a trace: events, busy and waiting time, lateness, by time bucket.

Rates and utilization are shown over the last ``window_ns`` (2 s by default),
cut into :data:`WINDOW_BUCKETS` buckets: each is a plain list of five counts,
updated in place by :class:`~reactortrace.core.state.LoopState` as events end.
Only the buckets a window can touch are kept.
"""

from __future__ import annotations

DEFAULT_WINDOW_NS = 2_000_000_000
#: The recent window is cut into this many time buckets.
WINDOW_BUCKETS = 20

# Fields of one window bucket (a plain list, for speed).
EVENTS, BUSY, WAIT, LATE_SUM, LATE_N = range(5)


class RecentWindow:
    """Time buckets of ``window_ns // WINDOW_BUCKETS`` ns each, by end time."""

    def __init__(self, window_ns: int = DEFAULT_WINDOW_NS) -> None:
        if window_ns <= 0:
            raise ValueError("window_ns must be positive")
        self.window_ns = window_ns
        self.bucket_ns = max(1, window_ns // WINDOW_BUCKETS)
        self._keep = window_ns // self.bucket_ns + 2  # buckets a window can touch
        self._buckets: dict[int, list[int]] = {}
        self._newest = -1

    def bucket(self, index: int) -> list[int]:
        """The bucket for end times in ``index``; a scratch one if too old."""
        bucket = self._buckets.get(index)
        if bucket is not None:
            return bucket
        keep = self._keep
        if index > self._newest:
            self._newest = index
            if len(self._buckets) >= 2 * keep:
                floor = index - keep
                for old in [i for i in self._buckets if i < floor]:
                    del self._buckets[old]
        elif index < self._newest - keep:
            return [0] * 5  # out of any window a snapshot can ask for
        bucket = self._buckets[index] = [0] * 5
        return bucket

    def totals(self, ts: int) -> tuple[list[int], int]:
        """The five counts summed over the window ending at ``ts``, and its span in ns."""
        first = max(0, (ts - self.window_ns) // self.bucket_ns + 1)
        last = ts // self.bucket_ns
        totals = [0] * 5
        for index, bucket in self._buckets.items():
            if first <= index <= last:
                for field, value in enumerate(bucket):
                    totals[field] += value
        return totals, ts - first * self.bucket_ns
