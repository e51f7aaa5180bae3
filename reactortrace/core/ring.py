"""A bounded buffer of raw records that counts what falls out.

The reactor thread appends tuples whose first item is a sequence number taken
from :attr:`Ring.next_seq`; readers on other threads take what is newer than the
last sequence number they saw. ``deque.append`` is atomic under the GIL, so no
lock is needed on the hot path.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable
from itertools import islice
from operator import itemgetter
from typing import Any

DEFAULT_MAX_EVENTS = 1_000_000


class Ring:
    """The last ``size`` records, with a count of everything ever appended."""

    __slots__ = ("size", "records", "append", "next_seq", "_counter")

    def __init__(self, size: int = DEFAULT_MAX_EVENTS) -> None:
        if size < 1:
            raise ValueError("a ring holds at least one record")
        self.size = size
        self.records: deque[tuple[Any, ...]] = deque(maxlen=size)
        #: Bound method: the only call the hot path makes on the ring.
        self.append = self.records.append
        self._counter = itertools.count()
        #: Bound ``__next__`` of the sequence counter (thread-safe in CPython).
        self.next_seq = self._counter.__next__

    @property
    def total(self) -> int:
        """How many records were ever appended (peeks without consuming)."""
        # itertools.count's repr is "count(N)": the next value to be handed out.
        return int(repr(self._counter)[6:-1])

    @property
    def dropped(self) -> int:
        """How many records fell out of the ring."""
        return max(0, self.total - len(self.records))

    def since(self, seq: int, seq_of: Callable[[Any], int] = itemgetter(0)) -> list[Any]:
        """Records with a sequence number above ``seq``, oldest first.

        ``seq_of`` reads a record's sequence number (the first item of a tuple
        by default). Only the new records are copied, not the whole ring.
        """
        wanted = self.total - (seq + 1)
        if wanted <= 0:
            return []
        records = self.records
        try:
            if wanted >= len(records):
                batch = list(records)
            else:
                batch = list(islice(reversed(records), wanted))
                batch.reverse()
        except RuntimeError:  # appended to while we copied: copy it all
            batch = list(records)
        # Sequence numbers are taken before the append, so two threads may
        # append slightly out of order: check, and filter if the guess is off.
        if batch:
            first = seq_of(batch[0])
            if first == seq + 1 or (first > seq and len(batch) == len(records)):
                return batch
        return [r for r in list(records) if seq_of(r) > seq]
