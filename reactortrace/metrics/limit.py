"""A token bucket: at most ``rate`` things a second over time, ``burst`` at once."""

from __future__ import annotations


class TokenBucket:
    """Lets through at most ``burst`` things at once and ``rate`` a second after.

    Time is whatever the caller passes (seconds, any origin, not decreasing):
    spans are limited by when their dispatches happened, not when they are sent.
    """

    def __init__(self, rate: float, burst: int) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate and burst must be positive")
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._last: float | None = None

    def take(self, now: float) -> bool:
        """Whether one more thing may go at time ``now``."""
        if self._last is not None and now > self._last:
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        if self._last is None or now > self._last:
            self._last = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False
