"""A bounded buffer of raw records, numbered by position, that counts what falls out.

The n-th record ever appended has sequence number n: records carry no number
of their own, so the hot path is a single ``list.append`` (atomic under the
GIL, from any thread). The ring holds the last ``size`` of them; older ones
count as dropped at once, and :meth:`Ring.trim` frees their memory in batches
(the tracer's keeper thread calls it a few times a second), so the list may
briefly hold up to ``size + size // 16`` records plus what came in since.
"""

from __future__ import annotations

import threading
from typing import Any

DEFAULT_MAX_EVENTS = 1_000_000


class Ring:
    """The last ``size`` records, with a count of everything ever appended."""

    __slots__ = ("size", "records", "append", "_base", "_lock")

    def __init__(self, size: int = DEFAULT_MAX_EVENTS) -> None:
        if size < 1:
            raise ValueError("a ring holds at least one record")
        self.size = size
        #: Physically held records; the first has sequence number ``_base``.
        self.records: list[Any] = []
        #: Bound method: the only call the hot path makes on the ring.
        self.append = self.records.append
        self._base = 0
        self._lock = threading.Lock()

    @property
    def total(self) -> int:
        """How many records were ever appended."""
        with self._lock:
            return self._base + len(self.records)

    @property
    def dropped(self) -> int:
        """How many records fell out of the ring."""
        return max(0, self.total - self.size)

    def __len__(self) -> int:
        """How many records the ring holds (at most ``size``)."""
        return min(self.size, self.total)

    def since(self, seq: int) -> tuple[int, list[Any]]:
        """``(first, records)``: the held records numbered above ``seq``, oldest
        first, and the sequence number of the first of them.

        Only the new records are copied, not the whole ring.
        """
        with self._lock:
            held = len(self.records)
            first = max(seq + 1, self._base + held - self.size, self._base)
            return first, self.records[first - self._base :]

    def trim(self, slack: int | None = None) -> None:
        """Free the records that fell out, once more than ``slack`` did
        (default: a sixteenth of the size, so the list moves rarely)."""
        if slack is None:
            slack = self.size // 16
        with self._lock:
            excess = len(self.records) - self.size
            if excess > slack:
                del self.records[:excess]
                self._base += excess


class Keeper:
    """A daemon thread that trims a ring a few times a second, so memory
    stays bounded even when nothing reads the ring."""

    def __init__(self, ring: Ring, interval: float = 0.1) -> None:
        self.ring = ring
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="reactortrace-keeper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop trimming and wait for the thread to end."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.ring.trim()
