"""A bounded buffer of raw records, numbered by position, that counts what falls out.

The n-th record ever appended has sequence number n: records carry no number
of their own, so the hot path is a single ``list.append`` (atomic under the
GIL, from any thread). The ring holds the last ``size`` of them; older ones
count as dropped at once.

A keeper thread calls :meth:`Ring.seal` a few times a second: it moves what
was appended into tuples of at most ``size // 16`` records and frees the tuples
that fell out whole. The garbage collector stops tracking a tuple of packed
records, so, unlike one long list, a full ring adds nothing to the program's
collections. Memory stays within ``size + size // 16`` records plus what came
in since the last seal.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from . import forks
from .periodic import Periodic

DEFAULT_MAX_EVENTS = 1_000_000


class Ring:
    """The last ``size`` records, with a count of everything ever appended."""

    __slots__ = ("size", "records", "append", "_chunks", "_sealed", "_base", "_lock",
                 "__weakref__")

    def __init__(self, size: int = DEFAULT_MAX_EVENTS) -> None:
        if size < 1:
            raise ValueError("a ring holds at least one record")
        self.size = size
        #: Records appended since the last seal.
        self.records: list[Any] = []
        #: Bound method: the only call the hot path makes on the ring.
        self.append = self.records.append
        self._chunks: deque[tuple[Any, ...]] = deque()
        self._sealed = 0  # records in _chunks
        self._base = 0  # sequence number of the first record held
        self._lock = threading.Lock()

    @property
    def total(self) -> int:
        """How many records were ever appended."""
        with self._lock:
            return self._base + self._sealed + len(self.records)

    @property
    def dropped(self) -> int:
        """How many records fell out of the ring."""
        return max(0, self.total - self.size)

    @property
    def held(self) -> int:
        """Records kept in memory, the dropped ones not yet freed included."""
        with self._lock:
            return self._sealed + len(self.records)

    def __len__(self) -> int:
        """How many records the ring holds (at most ``size``)."""
        return min(self.size, self.total)

    def since(self, seq: int, limit: int | None = None) -> tuple[int, list[Any]]:
        """``(first, records)``: the records numbered above ``seq`` that the
        ring holds, oldest first (at most ``limit`` of them), and the sequence
        number of the first.

        Only those records are copied, not the whole ring.
        """
        with self._lock:
            live = self.records[:]
            end = self._base + self._sealed + len(live)
            first = max(seq + 1, end - self.size, self._base)
            skip = first - self._base
            want = end - first if limit is None else min(limit, end - first)
            out: list[Any] = []
            for chunk in (*self._chunks, live):
                if len(out) >= want:
                    break
                if skip >= len(chunk):
                    skip -= len(chunk)
                    continue
                out.extend(chunk[skip : skip + want - len(out)])
                skip = 0
            return first, out

    def seal(self) -> None:
        """Move the appended records into tuples, and free those that fell out."""
        step = max(1, self.size // 16)
        with self._lock:
            records = self.records
            count = len(records)  # others may append meanwhile: leave those
            chunks = self._chunks
            first = 0
            if count and chunks and len(chunks[-1]) < step:
                # Topped up, not added to: a quiet program's seals would
                # otherwise pile up small chunks that every read walks.
                first = min(count, step - len(chunks[-1]))
                chunks.append(chunks.pop() + tuple(records[:first]))
                self._sealed += first
            for start in range(first, count, step):
                chunk = tuple(records[start : min(count, start + step)])
                self._chunks.append(chunk)
                self._sealed += len(chunk)
            del records[:count]
            while self._chunks and self._sealed - len(self._chunks[0]) >= self.size:
                gone = self._chunks.popleft()
                self._sealed -= len(gone)
                self._base += len(gone)


class Keeper(Periodic):
    """A daemon thread that seals a ring a few times a second, so memory
    stays bounded even when nothing reads the ring (in a forked child too)."""

    def __init__(self, ring: Ring, interval: float = 0.1,
                 on_error: Callable[[BaseException], None] | None = None) -> None:
        super().__init__(ring.seal, interval, "reactortrace-keeper", survive_fork=True,
                         on_error=on_error)
        self.ring = ring
        forks.hold_across_fork(ring)  # a child never sees a seal half done
