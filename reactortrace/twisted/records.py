"""Raw record layouts: what the reactor thread appends to the ring.

Each record is a tuple ``(seq, code, ...)``. They hold only cheap, long-lived
values (ints, floats, code objects, classes, shared info tuples) so that the
ring never keeps the program's own objects alive. ``resolve`` turns them into
:class:`~reactortrace.core.events.Event` later, off the hot path.
"""

# (seq, TIMER, t0, t1, info, now, due_wall, error_type)
TIMER = 1
# (seq, SCHEDULE, t, info, due_wall)
SCHEDULE = 2
# (seq, CANCEL, t, info, site_code, site_line)
CANCEL = 3
# (seq, RESET, t, info, due_wall)
RESET = 4
# (seq, READ|WRITE, t0, t1, conn, fd, bytes, buffered)
READ = 5
WRITE = 6
# (seq, OPEN, t, conn, fd, transport_class, protocol_class, local, peer)
OPEN = 7
# (seq, CLOSE, t, conn, reason_type)
CLOSE = 8
# (seq, THREAD, t0, t1, key, source, queued_at, thread_name, error_type)
THREAD = 9
# (seq, DEFERRED, t0, t1, key, errback, failure_type, line)
DEFERRED = 10
# (seq, SYSTEM, t0, t1, event_type)
SYSTEM = 11
# (seq, ITERATION, t0, t1, wait_ns or None)
ITERATION = 12
# (seq, SLOW, t0, t1, key, stack)
SLOW = 13
# (seq, WARNING, t, code, message, where)
WARNING = 14

# Timer info tuple, shared by a timer's records: (tid, key, site_code,
# site_line, delay_seconds, origin, queued_at)
ORIGIN_TIMER = 0
ORIGIN_LOOPING = 1
ORIGIN_THREAD = 2  # asyncio runs callFromThread calls as callLater(0)
