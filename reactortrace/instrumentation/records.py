"""Raw record layouts: what the reactor thread appends to the ring.

Frequent records are packed into ``bytes`` with :mod:`struct`: 17 to 83 bytes
each, and invisible to the garbage collector, so a million of them neither
cost much memory nor slow the program's collections. Objects they mention
(code objects, classes, thread names) are stored as small integers through an
:class:`Interner`. Rare records (connections, cancels, system events) are plain
tuples. A record's sequence number is its position in the ring.
``resolve`` turns them into :class:`~reactortrace.core.events.Event` later,
off the hot path.
"""

from __future__ import annotations

import struct
import threading
from typing import Any

# Packed records, in native byte order and alignment (they never leave the
# process, and native packing is the fastest). Records carry no sequence
# number: their position in the ring is theirs. Times are ``perf_counter()``
# seconds (floats pack without the cost of converting big ints); "ref" is an
# Interner index, 0 for None. The code is always the last byte.
# SCHEDULE: t, delay, queued_at (0 if none), ref(key), ref(site code),
#           site offset, origin, code
SCHEDULE = 2
SCHEDULE_FMT = struct.Struct("dddIIiBB")
#: Stands for "schedule not seen" where a SCHEDULE record is embedded.
NO_SCHEDULE = bytes(SCHEDULE_FMT.size)
# TIMER: t0, t1, now, due, ref(error type), the timer's whole SCHEDULE record
#        (kept by DelayedCall until it fires, so a firing is named even after its
#        schedule record left the ring), code
TIMER = 1
TIMER_FMT = struct.Struct(f"ddddI{SCHEDULE_FMT.size}sB")
# READ / WRITE: t0, t1, bytes, buffered, conn, code
READ = 5
WRITE = 6
IO_FMT = struct.Struct("ddqqIB")
# THREAD: t0, t1, queued_at, ref(key), ref(thread name), ref(error type),
#         source (0 reactor, 1 pool), code
THREAD = 9
THREAD_FMT = struct.Struct("dddIIIBB")
# DEFERRED: t0, t1, ref(key), ref(failure type), line (-1), errback, code
DEFERRED = 10
DEFERRED_FMT = struct.Struct("ddIIiBB")
# ITERATION: wait start, wait end (the iteration began where the previous
# wait ended), code
ITERATION = 12
ITERATION_FMT = struct.Struct("ddB")

PACKED = {
    TIMER: TIMER_FMT,
    SCHEDULE: SCHEDULE_FMT,
    READ: IO_FMT,
    WRITE: IO_FMT,
    THREAD: THREAD_FMT,
    DEFERRED: DEFERRED_FMT,
    ITERATION: ITERATION_FMT,
}

# Tuple records: the code first, then the time.
CANCEL = 3  # (CANCEL, t, SCHEDULE record, site_code, site_offset)
RESET = 4  # (RESET, t, SCHEDULE record, due)
# (OPEN, t, conn, fd, transport_class, protocol_class, local, peer, tls,
#  buffer_size, site_code, site_offset)
OPEN = 7
CLOSE = 8  # (CLOSE, t, conn, reason_type)
SYSTEM = 11  # (SYSTEM, t0, t1, event_type)
# (SLOW, dispatch start, last seen running, key, dispatch kind, site, function,
#  stack, ((stack, samples), ...), cpu ns or -1, gc ns, made at)
SLOW = 13
WARNING = 14  # (WARNING, t, code, message, where, subject, name)
PAUSE = 15  # (PAUSE, t, conn, buffered)
RESUME = 16  # (RESUME, t, conn, buffered)
HALFCLOSE = 17  # (HALFCLOSE, t, conn, side)
DEFERRED_NEW = 18  # (DEFERRED_NEW, t, deferred id, site code, offset, waits)
DEFERRED_FIRED = 19  # (DEFERRED_FIRED, t, deferred id)
DEFERRED_ERROR = 20  # (DEFERRED_ERROR, t, deferred id, failure type, site)
DEFERRED_HANDLED = 21  # (DEFERRED_HANDLED, t, deferred id)

ORIGIN_TIMER = 0
ORIGIN_LOOPING = 1
ORIGIN_THREAD = 2  # asyncio runs callFromThread calls as callLater(0)
#: The offset of a timer made before tracing began (its site cannot be known).
BEFORE_OFFSET = -2


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
