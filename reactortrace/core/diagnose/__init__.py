"""Findings: what is wrong with the program, why, and where to look.

Thresholds, the store of findings, and one module per kind of finding
(slow dispatches, timers, Deferreds, connections, leftovers).

:class:`Diagnostics` turns events into warnings, from the events alone, so a
live program and a replayed trace give the same ones. It is driven by
:class:`~reactortrace.core.state.LoopState`, which owns the pending timers and
open connections it reads. A warning is a dict::

    {"code": str, "message": str, "where": "file:line" | None,
     "subject": timer/connection/Deferred id | None, "name": str, "ts": int}

``message`` is one line: what happened and why it matters. ``ts`` is when the
finding first became true; a slow callback's also has ``duration`` (ns) and
``stack``. :class:`Warning` reads one with typed fields. There is at most one warning per code and subject
(or creation site); later occurrences update it in place. The codes:

=====================  ==============================================================
``slow-callback``      a dispatch blocked the loop for at least ``slow_ms`` (per callable;
                       ``where`` is the blocking line the watchdog saw)
``late-timer``         timers from one creation site fired ``late_ms`` or more late
``missed-ticks``       a LoopingCall fired so late (``late_ms`` or more) that whole ticks
                       were skipped: ticks missed = lateness // interval
``deferred-error``     Deferreds made at one site hold a Failure nobody handles now
                       (withdrawn when it is handled)
``deferred-pending``   Deferreds made at one site stayed unfired ``pending_s`` or more
                       (needs Deferred tracking)
``backpressure``       flow control failed: a producer stayed paused ``pending_s`` or
                       more, or the write buffer kept growing past the transport's
                       buffer size with no producer to pause (a producer paused and
                       resumed is flow control working: no warning)
``idle-connection``    a stream connection moved no data for ``idle_s`` or more
``half-closed``        a connection stayed half-closed for ``pending_s`` or more
``leftover-timer``     timers still pending when the reactor shut down (per site), in
                       tests only (``Thresholds.leftovers``), never Twisted's own
``leftover-connection``  a connection or port still open when the reactor shut down,
                       in tests only
``too-many-warnings``  more findings of one code than are kept (the count)
``recording-off``      a part of the recording turned itself off (with why): what it
                       records is missing from then on
=====================  ==============================================================

What happened stays found (a slow callback, a late timer). Conditions that
last (idle, pending, half-closed) are found once they have lasted their
threshold, whether they still do or ended since. Only an error in flight is
withdrawn, when something handles it after all.
"""

from .codes import (
    BACKPRESSURE,
    CODES,
    DEFAULT_BUFFER_SIZE,
    DEFERRED_ERROR,
    DEFERRED_PENDING,
    HALF_CLOSED,
    IDLE_CONNECTION,
    LATE_TIMER,
    LEFTOVER_CONNECTION,
    LEFTOVER_TIMER,
    MAX_PER_CODE,
    MISSED_TICKS,
    RECORDING_OFF,
    SLOW_CALLBACK,
    TOO_MANY,
)
from .diagnostics import Diagnostics
from .thresholds import Thresholds
from .warning import Warning

__all__ = [
    "BACKPRESSURE", "CODES", "DEFAULT_BUFFER_SIZE", "DEFERRED_ERROR", "DEFERRED_PENDING",
    "Diagnostics", "HALF_CLOSED", "IDLE_CONNECTION", "LATE_TIMER", "LEFTOVER_CONNECTION",
    "LEFTOVER_TIMER", "MAX_PER_CODE", "MISSED_TICKS", "RECORDING_OFF", "SLOW_CALLBACK", "TOO_MANY", "Thresholds",
    "Warning",
]
