"""A tracer's records as they leave the process for a live viewer, unresolved.

The viewer resolves names and sites and keeps the aggregates itself (see
:mod:`reactortrace.live.replica`), so watching costs the program little more
than recording: per update it copies references to the ring's new packed
records and joins them into one ``bytes``. Only what cannot be resolved
elsewhere is resolved here, once: the rare records that hold objects
(connections, cancels, slow dispatches, warnings), and the :class:`Facts` of
each newly interned object (its name, class, code lines).

:class:`RecordShipper` is read from the live server's thread only.
"""

from __future__ import annotations

import bisect
from itertools import compress, count, repeat
from operator import is_not
from typing import Any, NamedTuple

from ..core.events import Event
from ..core.snapshot import Snapshot
from .capture import Facts, facts_of
from .resolve import Resolver


class Shipment(NamedTuple):
    """Records ``first`` .. ``first + size - 1`` of the ring, ready to send."""

    first: int
    size: int
    #: The packed records among them, in order, joined.
    packed: bytes
    #: (seq, event) for each of the others, resolved here (None: no event).
    rare: list[tuple[int, Event | None]]
    #: Objects interned when they were taken: their facts are all a viewer needs.
    known: int


class RecordShipper:
    """What the live server sends of ``tracer``; see the module doc."""

    def __init__(self, tracer: Any) -> None:
        rec = tracer.recorder
        self.meta: dict[str, Any] = tracer.meta
        self.thresholds = tracer.thresholds
        before = tracer._resolver.before
        #: What a viewer needs to resolve packed records to the same events.
        self.clock: dict[str, Any] = {"start": rec.start, "start_wall": rec.start_wall,
                                      "before": before}
        self._tracer = tracer
        self._ring = rec.ring
        self._objects = rec.interner.objects
        self._resolver = Resolver(rec.start, rec.start_wall, rec.interner.objects, before)
        self._facts: list[Facts] = []
        self._rare_seqs: list[int] = []
        self._rare: dict[int, Event | None] = {}
        self._seen = -1

    @property
    def last(self) -> int:
        """The sequence number of the last record taken (-1: none yet)."""
        return self._seen

    @property
    def first_held(self) -> int:
        """The sequence number of the oldest record the ring still holds."""
        ring = self._ring
        return ring.total - len(ring)

    def advance(self) -> int:
        """Take what was recorded since the last call (resolving its rare
        records, learning its objects' facts); :attr:`last` after it.

        The watchdog looks first: a block that has just ended is recorded
        with the dispatch it belongs to, not after whatever comes next.
        """
        watchdog = self._tracer._watchdog
        if watchdog is not None:
            watchdog.refresh()
        first, records = self._ring.since(self._seen)
        if not records:
            return self._seen
        known = len(self._objects)  # interned before their records were appended
        resolve = self._resolver.resolve
        # The rare ones' numbers, found without a Python loop over the others.
        rare = compress(count(first), map(is_not, map(type, records), repeat(bytes)))
        for seq in rare:
            self._rare_seqs.append(seq)
            self._rare[seq] = next(iter(resolve((records[seq - first],), seq)), None)
        objects = self._objects
        self._facts.extend(facts_of(objects[ref]) for ref in range(len(self._facts), known))
        self._seen = first + len(records) - 1
        self._forget_before(self.first_held)
        return self._seen

    def _forget_before(self, first: int) -> None:
        """Let go of rare records that fell out of the ring."""
        cut = bisect.bisect_left(self._rare_seqs, first)
        if cut:
            for seq in self._rare_seqs[:cut]:
                del self._rare[seq]
            del self._rare_seqs[:cut]

    def take(self, after: int, limit: int) -> Shipment | None:
        """At most ``limit`` records numbered above ``after`` that were taken
        by :meth:`advance` and are still held (None: none)."""
        first, records = self._ring.since(after, limit)
        stop = min(len(records), self._seen - first + 1)
        if stop <= 0:
            return None
        records = records[:stop]
        seqs = self._rare_seqs
        lo = bisect.bisect_left(seqs, first)
        hi = bisect.bisect_left(seqs, first + stop)
        rare = [(seq, self._rare.get(seq)) for seq in seqs[lo:hi]]
        if not rare:
            packed = b"".join(records)
        else:
            parts, start = [], 0
            for seq, _ in rare:
                parts.append(b"".join(records[start : seq - first]))
                start = seq - first + 1
            parts.append(b"".join(records[start:]))
            packed = b"".join(parts)
        return Shipment(first, stop, packed, rare, len(self._facts))

    def facts(self, start: int, stop: int) -> list[Facts]:
        """The facts of interned objects ``start`` .. ``stop - 1``."""
        return self._facts[start:stop]

    def extras(self) -> Snapshot:
        """What only the program knows now, as a snapshot: its clock, what fell
        out of its ring, the dispatch blocking it, its pending Deferreds."""
        tracer = self._tracer
        now = tracer.now()
        return Snapshot(ts=now, dropped=self._ring.dropped, blocked=tracer.blocked(now),
                        deferreds=tracer.pending_deferreds())

    def trace(self) -> Any:
        """The whole recording, for a viewer that asks to save it."""
        return self._tracer.trace()
