"""Raw record layouts: what the reactor thread appends to the ring.

Frequent records are packed into ``bytes`` with :mod:`struct`: about 80 bytes
each, and invisible to the garbage collector, so a million of them neither
cost much memory nor slow the program's collections. Objects they mention
(code objects, classes, thread names) are stored as small integers through an
:class:`Interner`. Rare records (connections, cancels, system events) are plain
tuples. Every record starts with its sequence number and then its code.
``resolve`` turns them into :class:`~reactortrace.core.events.Event` later,
off the hot path.
"""

from __future__ import annotations

import struct
import threading
from typing import Any

# Packed records, in native byte order and alignment (they never leave the
# process, and native packing is the fastest); "ref" is an Interner index, 0
# for None. The code is always the byte at offset 8.
# SCHEDULE: seq, code, t, id(call), ref(key), ref(site code), site offset,
#           delay, origin, queued_at (0 if none)
SCHEDULE = 2
SCHEDULE_FMT = struct.Struct("qBqqIIidBq")
#: Stands for "schedule not seen" where a SCHEDULE record is embedded.
NO_SCHEDULE = bytes(SCHEDULE_FMT.size)
# TIMER: seq, code, t0, t1, now, due, ref(error type), and the timer's whole
#        SCHEDULE record (kept by id(call) until it fires), so a firing is
#        named even after its schedule record left the ring
TIMER = 1
TIMER_FMT = struct.Struct(f"qBqqddI{SCHEDULE_FMT.size}s")
# READ / WRITE: seq, code, t0, t1, conn, bytes, buffered
READ = 5
WRITE = 6
IO_FMT = struct.Struct("qBqqIqq")
# THREAD: seq, code, t0, t1, ref(key), source (0 reactor, 1 pool), queued_at,
#         ref(thread name), ref(error type)
THREAD = 9
THREAD_FMT = struct.Struct("qBqqIBqII")
# DEFERRED: seq, code, t0, t1, ref(key), errback, ref(failure type), line (-1)
DEFERRED = 10
DEFERRED_FMT = struct.Struct("qBqqIBIi")
# ITERATION: seq, code, wait start, wait end (the iteration began where the
# previous wait ended)
ITERATION = 12
ITERATION_FMT = struct.Struct("qBqq")

PACKED = {
    TIMER: TIMER_FMT,
    SCHEDULE: SCHEDULE_FMT,
    READ: IO_FMT,
    WRITE: IO_FMT,
    THREAD: THREAD_FMT,
    DEFERRED: DEFERRED_FMT,
    ITERATION: ITERATION_FMT,
}

# Tuple records.
CANCEL = 3  # (seq, CANCEL, t, SCHEDULE record, site_code, site_offset)
RESET = 4  # (seq, RESET, t, SCHEDULE record, due)
# (seq, OPEN, t, conn, fd, transport_class, protocol_class, local, peer, tls,
#  buffer_size)
OPEN = 7
CLOSE = 8  # (seq, CLOSE, t, conn, reason_type)
SYSTEM = 11  # (seq, SYSTEM, t0, t1, event_type)
# (seq, SLOW, dispatch start, seen at, key, dispatch kind, site, function, stack)
SLOW = 13
WARNING = 14  # (seq, WARNING, t, code, message, where, subject, name)
PAUSE = 15  # (seq, PAUSE, t, conn, buffered)
RESUME = 16  # (seq, RESUME, t, conn, buffered)
HALFCLOSE = 17  # (seq, HALFCLOSE, t, conn, side)
DEFERRED_NEW = 18  # (seq, DEFERRED_NEW, t, deferred id, site code, offset, waits)
DEFERRED_FIRED = 19  # (seq, DEFERRED_FIRED, t, deferred id)
DEFERRED_ERROR = 20  # (seq, DEFERRED_ERROR, t, deferred id, failure type, site)
DEFERRED_HANDLED = 21  # (seq, DEFERRED_HANDLED, t, deferred id)

ORIGIN_TIMER = 0
ORIGIN_LOOPING = 1
ORIGIN_THREAD = 2  # asyncio runs callFromThread calls as callLater(0)

_SEQ = struct.Struct("q")


def seq_of(record: Any) -> int:
    """The sequence number of a packed or tuple record."""
    if type(record) is bytes:
        return _SEQ.unpack_from(record)[0]
    return record[0]


class Interner:
    """Small integer references to long-lived objects (code, classes, names).

    Index 0 stands for None. The table holds a reference to each object so
    that its ``id`` is never reused while the table lives; only objects that
    live as long as the program anyway (code objects, classes, method
    descriptors, thread names) are interned.
    """

    def __init__(self) -> None:
        self.objects: list[Any] = [None]
        self.ids: dict[int, int] = {id(None): 0}
        #: Bound ``dict.get`` for the hot path: ``get(id(obj))``.
        self.get = self.ids.get
        self._lock = threading.Lock()

    def add(self, obj: Any) -> int:
        """The index of ``obj``, adding it if new (thread-safe)."""
        with self._lock:
            index = self.ids.get(id(obj))
            if index is None:
                index = len(self.objects)
                self.objects.append(obj)
                self.ids[id(obj)] = index
            return index

    def ref(self, obj: Any) -> int:
        """The index of ``obj`` (the slow path in one call)."""
        index = self.get(id(obj))
        return index if index is not None else self.add(obj)
