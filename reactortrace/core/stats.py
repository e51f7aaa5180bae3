"""A bounded histogram of durations for quantiles without keeping samples.

Values are non-negative integers (ns). Below 64 each value has its own bucket;
above, every power of two is split into 32 buckets, so a bucket spans at most
1/32 of its lower bound and a quantile read from its midpoint is within about
1.6 % of the true sample. A histogram never holds more than ~1,900 buckets,
however many values it counted.
"""

from __future__ import annotations

import math

_SUB_BITS = 5  # 2**5 = 32 buckets per power of two
_EXACT = 1 << (_SUB_BITS + 1)  # values below this get a bucket each


def bucket_index(value: int) -> int:
    """The bucket counting ``value`` (monotonic in ``value``)."""
    if value < _EXACT:
        return value if value > 0 else 0
    shift = value.bit_length() - _SUB_BITS - 1
    return (shift << _SUB_BITS) + (value >> shift)


def bucket_bounds(index: int) -> tuple[int, int]:
    """The smallest and largest value counted by bucket ``index``."""
    if index < _EXACT:
        return index, index
    shift = (index >> _SUB_BITS) - 1
    top = index - (shift << _SUB_BITS)
    return top << shift, ((top + 1) << shift) - 1


class LogHistogram:
    """Count, total, extremes and log-scale buckets of integer durations."""

    __slots__ = ("count", "total", "min", "max", "buckets")

    def __init__(self) -> None:
        self.count = 0
        self.total = 0
        self.min = 0
        self.max = 0
        self.buckets: dict[int, int] = {}

    def add(self, value: int) -> None:
        """Count one value."""
        if self.count == 0 or value < self.min:
            self.min = value
        if value > self.max:
            self.max = value
        self.count += 1
        self.total += value
        if value < _EXACT:  # bucket_index(value), inline: this runs for every dispatch
            index = value if value > 0 else 0
        else:
            shift = value.bit_length() - _SUB_BITS - 1
            index = (shift << _SUB_BITS) + (value >> shift)
        buckets = self.buckets
        buckets[index] = buckets.get(index, 0) + 1

    def merge(self, other: LogHistogram) -> None:
        """Add every value ``other`` counted."""
        if other.count == 0:
            return
        if self.count == 0 or other.min < self.min:
            self.min = other.min
        self.max = max(self.max, other.max)
        self.count += other.count
        self.total += other.total
        for index, n in other.buckets.items():
            self.buckets[index] = self.buckets.get(index, 0) + n

    @property
    def mean(self) -> int:
        """Integer mean, 0 when empty."""
        return self.total // self.count if self.count else 0

    def quantile(self, q: float) -> int:
        """The value below which a fraction ``q`` of the counted values lie."""
        if self.count == 0:
            return 0
        rank = max(1, math.ceil(q * self.count))
        seen = 0
        for index in sorted(self.buckets):
            seen += self.buckets[index]
            if seen >= rank:
                low, high = bucket_bounds(index)
                return min(max((low + high) // 2, self.min), self.max)
        return self.max
