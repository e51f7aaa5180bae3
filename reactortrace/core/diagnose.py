"""Findings: what is wrong with the program, why, and where to look.

:class:`Diagnostics` turns events into warnings, from the events alone, so a
live program and a replayed trace give the same ones. It is driven by
:class:`~reactortrace.core.state.LoopState`, which owns the pending timers and
open connections it reads. A warning is a dict::

    {"code": str, "message": str, "where": "file:line" | None,
     "subject": timer/connection/Deferred id | None, "name": str, "ts": int}

``message`` is one line: what happened and why it matters. ``ts`` is when the
finding first became true. There is at most one warning per code and subject
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
``backpressure``       a connection's write buffer went over the transport's buffer
                       size, or its producer was paused
``idle-connection``    a stream connection moved no data for ``idle_s`` or more
``half-closed``        a connection stayed half-closed for ``pending_s`` or more
``leftover-timer``     timers still pending when the reactor shut down (per site)
``leftover-connection``  a connection or port still open when the reactor shut down
``too-many-warnings``  more findings of one code than are kept (the count)
=====================  ==============================================================

What happened stays found (a slow callback, a late timer). Conditions that
last (idle, pending, half-closed) are found once they have lasted their
threshold, whether they still do or ended since. Only an error in flight is
withdrawn, when something handles it after all.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from reactortrace.core import events as ev
from reactortrace.core.events import Event
from reactortrace.core.stats import LogHistogram
from reactortrace.errors import UsageError

US = 1_000
MS = 1_000_000
S = 1_000_000_000

SLOW_CALLBACK = "slow-callback"
LATE_TIMER = "late-timer"
MISSED_TICKS = "missed-ticks"
DEFERRED_ERROR = "deferred-error"
DEFERRED_PENDING = "deferred-pending"
BACKPRESSURE = "backpressure"
IDLE_CONNECTION = "idle-connection"
HALF_CLOSED = "half-closed"
LEFTOVER_TIMER = "leftover-timer"
LEFTOVER_CONNECTION = "leftover-connection"
TOO_MANY = "too-many-warnings"
CODES: tuple[str, ...] = (
    SLOW_CALLBACK,
    LATE_TIMER,
    MISSED_TICKS,
    DEFERRED_ERROR,
    DEFERRED_PENDING,
    BACKPRESSURE,
    IDLE_CONNECTION,
    HALF_CLOSED,
    LEFTOVER_TIMER,
    LEFTOVER_CONNECTION,
    TOO_MANY,
)

#: Findings kept per code; more are counted in a ``too-many-warnings`` one.
MAX_PER_CODE = 100
#: The longest dispatches kept, with their stacks, for ``summary``.
KEEP_SLOWEST = 50
#: Creation sites (of timers, Deferreds) followed apart; the rest share one.
MAX_SITES = 5_000
OTHER_SITES = "(other sites)"
#: Deferreds followed (pending, or holding an error) at most.
MAX_DEFERREDS = 100_000
#: Closed connections remembered, for leftovers at shutdown and ``summary``.
KEEP_CLOSED = 10_000
#: Twisted's default ``FileDescriptor.bufferSize``, when a trace lacks it.
DEFAULT_BUFFER_SIZE = 65_536
#: Connection types whose silence means something (not ports, pipes, wakers).
STREAM_TYPES = frozenset({"tcp", "tcp.client", "unix", "unix.client"})
#: Dispatches the reactor runs itself; Deferred callbacks run inside them and
#: thread-pool jobs run on other threads, so neither blocks the loop alone.
TOP_LEVEL_KINDS = frozenset({ev.TIMER, ev.IO_READ, ev.IO_WRITE, ev.THREAD})
#: ``conn.close`` reason of what the reactor's own ``disconnectAll`` closes.
SHUTDOWN_REASON = "ConnectionLost"

#: What a finding's source says about it: (name, where, subject, message).
Said = tuple[str, str | None, Any, str]


# -- thresholds -----------------------------------------------------------------


_UNITS = {"ns": 1, "us": US, "µs": US, "ms": MS, "s": S, "m": 60 * S, "min": 60 * S}
_NUMBER = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-zµ]*)\s*$")


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When a finding becomes a warning (the command line can change each)."""

    slow_ms: float = 100.0  # a dispatch this long blocks the loop
    late_ms: float = 100.0  # a timer firing this late
    pending_s: float = 10.0  # a Deferred unfired (or a half-close) this long
    idle_s: float = 60.0  # a connection without data this long

    #: Option name -> (field, unit of a bare number in ns).
    OPTIONS = {
        "slow": ("slow_ms", MS),
        "late": ("late_ms", MS),
        "pending": ("pending_s", S),
        "idle": ("idle_s", S),
    }

    @property
    def slow_ns(self) -> int:
        return int(self.slow_ms * MS)

    @property
    def late_ns(self) -> int:
        return int(self.late_ms * MS)

    @property
    def pending_ns(self) -> int:
        return int(self.pending_s * S)

    @property
    def idle_ns(self) -> int:
        return int(self.idle_s * S)

    def to_dict(self) -> dict[str, float]:
        """The thresholds by field name."""
        return asdict(self)

    @classmethod
    def from_options(
        cls, options: Mapping[str, Any], base: Thresholds | None = None
    ) -> Thresholds:
        """Thresholds from option values by name (``slow``, ``late``, ``pending``,
        ``idle``, or the field names); ``None`` values keep the base's.

        A value is a number in the field's unit (ms or s) or a text with a
        unit: ``"50ms"``, ``"2s"``, ``"1.5m"``. Raises :class:`UsageError`.
        """
        changes: dict[str, float] = {}
        for name, value in options.items():
            if value is None:
                continue
            option = name[: -len("_ms")] if name.endswith("_ms") else name
            option = option[: -len("_s")] if option.endswith("_s") else option
            if option not in cls.OPTIONS:
                known = ", ".join(cls.OPTIONS)
                raise UsageError(f"unknown threshold {name!r} (known: {known})")
            field, unit = cls.OPTIONS[option]
            changes[field] = _to_ns(option, value, unit) / (MS if unit == MS else S)
        return replace(base or cls(), **changes)

    @classmethod
    def parse(cls, text: str, base: Thresholds | None = None) -> Thresholds:
        """Thresholds from ``"late=50ms,idle=30s"``; raises :class:`UsageError`."""
        options: dict[str, str] = {}
        for part in text.split(","):
            if not part.strip():
                continue
            name, sep, value = part.partition("=")
            if not sep:
                raise UsageError(f"threshold {part.strip()!r} must be NAME=VALUE, e.g. late=50ms")
            options[name.strip()] = value
        return cls.from_options(options, base)


def _to_ns(option: str, value: Any, unit: int) -> float:
    """A threshold value in ns: a positive number in ``unit``, or text with its own."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        ns = float(value) * unit
    else:
        match = _NUMBER.match(str(value).lower())
        if match is None or (match.group(2) and match.group(2) not in _UNITS):
            raise UsageError(
                f"{option} threshold {value!r} is not a duration (use e.g. 50ms, 2s)"
            )
        ns = float(match.group(1)) * (_UNITS[match.group(2)] if match.group(2) else unit)
    if not ns > 0:
        raise UsageError(f"{option} threshold must be above zero, not {value!r}")
    return ns


# -- formatting -------------------------------------------------------------------


def format_duration(ns: int | float) -> str:
    """A duration for a message: ``850 µs``, ``12.5 ms``, ``300 ms``, ``4.2 s``, ``3m05s``."""
    ns = max(0, int(ns))
    if ns < US:
        return f"{ns} ns"
    if ns < MS:
        return f"{ns / US:.0f} µs"
    if ns < 10 * MS:
        return f"{ns / MS:.1f} ms"
    if ns < S:
        return f"{ns / MS:.0f} ms"
    if ns < 60 * S:
        return f"{ns / S:.1f} s"
    minutes, seconds = divmod(ns // S, 60)
    return f"{minutes}m{seconds:02d}s"


def format_size(n: int) -> str:
    """A byte count for a message: ``512 B``, ``64 KiB``, ``1.5 MiB``."""
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.0f} KiB"
    return f"{n / (1024 * 1024):.1f} MiB"


def short_site(site: str | None) -> str | None:
    """``file.py:12`` for ``/long/path/to/file.py:12``: messages stay short, ``where`` is whole."""
    if not site:
        return site
    return site.replace("\\", "/").rsplit("/", 1)[-1]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _conn_label(conn: Any) -> str:
    """``Echo (tcp 127.0.0.1:8000 <-> 127.0.0.1:51000)`` for messages."""
    where = conn.local or "?"
    if conn.peer:
        where = f"{where} <-> {conn.peer}"
    return f"{conn.protocol} ({conn.type} {where})"


# -- what findings are about ---------------------------------------------------------


class _Blocked:
    """One dispatch that ran long: from a ``slow`` event, its own event, or both."""

    __slots__ = ("ts", "dur", "name", "kind", "site", "function", "stack", "where", "counted")

    def __init__(self, ts: int, dur: int, name: str, kind: str | None) -> None:
        self.ts = ts
        self.dur = dur
        self.name = name
        self.kind = kind
        self.site: str | None = None  # the blocking line (from the watchdog)
        self.function: str | None = None
        self.stack: list[str] = []
        self.where: str | None = None  # the dispatch's own site, if no blocking line
        self.counted = False

    def add_stack(self, args: Mapping[str, Any]) -> None:
        self.site = args.get("site") or self.site
        self.function = args.get("function") or self.function
        stack = args.get("stack")
        if isinstance(stack, str):
            stack = [line for line in stack.splitlines() if line.strip()]
        if stack:
            self.stack = list(stack)
        self.kind = args.get("dispatch") or self.kind

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "ts": self.ts,
            "dur": self.dur,
            "site": self.site or self.where,
            "function": self.function,
            "stack": list(self.stack),
        }


class _SlowGroup:
    """Every slow dispatch of one callable; the warning shows the longest."""

    __slots__ = ("count", "worst")

    def __init__(self, worst: _Blocked) -> None:
        self.count = 0
        self.worst = worst

    def warning(self, code: str, now: int) -> Said:
        worst = self.worst
        line = worst.site or worst.where
        text = f"{worst.name} blocked the reactor for {format_duration(worst.dur)}"
        if worst.site:
            text += f" at {short_site(worst.site)}"
            text += f" in {worst.function}" if worst.function else ""
        else:
            text += f" ({worst.kind or 'dispatch'}; the blocking line was not recorded)"
        if self.count > 1:
            text += f" ({self.count} times, the longest shown)"
        text += ": nothing else ran meanwhile; move the work to a thread or split it"
        return worst.name, line, None, text


class _TimerSite(LogHistogram):
    """Lateness of the timers made at one site, and LoopingCall ticks missed."""

    __slots__ = (
        "site", "name", "looping", "interval", "missed",
        "worst_late", "worst_timer", "worst_missed", "blame",
    )

    def __init__(self, site: str, name: str) -> None:
        super().__init__()
        self.site = site
        self.name = name
        self.looping = False
        self.interval = 0
        self.missed = 0
        self.worst_late = 0
        self.worst_timer: Any = None
        self.worst_missed = 0
        self.blame: str | None = None

    def warning(self, code: str, now: int) -> Said:
        where = None if self.site in (self.name, OTHER_SITES) else self.site
        made = f" (made at {short_site(where)})" if where else ""
        why = f"the loop was blocked then by {self.blame}" if self.blame else \
            "the loop was busy when it was due"
        if code == MISSED_TICKS:
            text = (
                f"LoopingCall {self.name}{made} missed {_plural(self.missed, 'tick')} "
                f"(interval {format_duration(self.interval)}); "
                f"up to {self.worst_missed} in a row, {format_duration(self.worst_late)} late: "
                f"{why}"
            )
        else:
            text = (
                f"{self.name}{made} fired {format_duration(self.worst_late)} late "
                f"(p50 {format_duration(self.quantile(0.5))}, "
                f"p95 {format_duration(self.quantile(0.95))} over "
                f"{_plural(self.count, 'firing')}): {why}"
            )
        return self.name, where, self.worst_timer, text

    def to_dict(self) -> dict[str, Any]:
        return {
            "site": self.site,
            "name": self.name,
            "looping": self.looping,
            "interval": self.interval or None,
            "count": self.count,
            "p50": self.quantile(0.5),
            "p95": self.quantile(0.95),
            "max": self.max,
            "mean": self.mean,
            "missed": self.missed,
        }


class _DeferredSite:
    """Deferreds made at one site: those pending now, in error now, and past ones."""

    __slots__ = ("site", "pending", "errors", "late_fired", "longest", "waits")

    def __init__(self, site: str | None) -> None:
        self.site = site
        self.pending: dict[Any, int] = {}  # id -> made at, oldest first
        self.errors: dict[Any, tuple[str, str | None]] = {}  # id -> (failure type, callable)
        self.late_fired = 0  # fired, but only after pending_s
        self.longest = 0  # longest wait of those
        self.waits: dict[str, int] = {}

    def stuck(self, now: int, pending_ns: int) -> tuple[int, int]:
        """(how many pending now for pending_ns or more, the longest wait now)."""
        count = 0
        longest = 0
        for made in self.pending.values():
            if now - made < pending_ns:
                break
            count += 1
            longest = max(longest, now - made)
        return count, longest

    def warning(self, code: str, now: int, pending_ns: int = 0) -> Said:
        where = self.site
        made = f"made at {short_site(where)}" if where else "of unknown origin"
        if code == DEFERRED_ERROR:
            subject = next(iter(self.errors), None)
            failure, last = self.errors[subject] if subject is not None else ("?", None)
            types = ", ".join(sorted({f for f, _ in self.errors.values()}))
            raised = f" raised at {short_site(where)}" if where else ""
            after = f" after {last}" if last else ""
            if len(self.errors) == 1:
                text = (
                    f"a Deferred holds an unhandled {failure}{raised}{after}: nothing handles it "
                    "yet; add an errback, or it is only logged when garbage-collected"
                )
            else:
                text = (
                    f"{len(self.errors)} Deferreds hold unhandled failures ({types}){raised}"
                    f"{after}: add an errback"
                )
            name = last or "Deferred"
            return name, where, subject, text
        count, longest = self.stuck(now, pending_ns)
        waits = ", ".join(sorted(self.waits)) or "nothing known"
        parts = []
        if count:
            parts.append(f"{count} pending for {format_duration(longest)} now")
        if self.late_fired:
            parts.append(
                f"{self.late_fired} fired only after up to {format_duration(self.longest)}"
            )
        text = (
            f"Deferreds {made} stay unfired {format_duration(pending_ns)} or more "
            f"({'; '.join(parts)}); waiting on: {waits}"
        )
        subject = next(iter(self.pending), None)
        return "Deferred", where, subject, text


class _Leftovers:
    """Timers made at one site still pending when the reactor shut down."""

    __slots__ = ("site", "name", "timers", "looping", "due_in")

    def __init__(self, site: str | None, name: str) -> None:
        self.site = site
        self.name = name
        self.timers: list[Any] = []
        self.looping = False
        self.due_in: int | None = None

    def warning(self, code: str, now: int) -> Said:
        what = f"{len(self.timers)} timers" if len(self.timers) > 1 else "a timer"
        made = f" made at {short_site(self.site)}" if self.site else ""
        due = self.due_in or 0
        when = f"due in {format_duration(due)}"
        fix = "stop the LoopingCall" if self.looping else "cancel it"
        text = (
            f"{what} for {self.name}{made} still pending when the reactor stopped ({when}): "
            f"trial calls this a dirty reactor; {fix} when done"
        )
        return self.name, self.site, self.timers[0] if self.timers else None, text


def _conn_warning(code: str, conn: Any, now: int, diag: "Diagnostics") -> Said:
    """The warning about one connection (``conn`` as LoopState keeps it)."""
    label = _conn_label(conn)
    if code == BACKPRESSURE:
        limit = conn.buffer_size or DEFAULT_BUFFER_SIZE
        text = f"{label}: "
        if conn.peak_buffer > limit:
            text += (
                f"up to {format_size(conn.peak_buffer)} waited to be written "
                f"(buffer size {format_size(limit)}); "
            )
        text += (
            f"producer paused {_plural(conn.pauses, 'time')}, resumed {conn.resumes}: "
            "the peer reads slower than the program writes"
        )
    elif code == IDLE_CONNECTION:
        current = diag.idle_now(conn, now)
        still = " (still idle)" if current >= diag.idle_ns else ""
        idle = max(conn.idle_longest, current)
        text = f"{label}: no data either way for {format_duration(idle)}{still} while open"
    elif code == HALF_CLOSED:
        until = conn.closed_at if conn.closed_at is not None else now
        side = "we stopped sending"
        if conn.halfclosed_side == "read":
            side = "the peer stopped sending"
        state = "until it closed" if conn.closed_at is not None else "and it is still open"
        text = (
            f"{label}: half-closed ({side}) for {format_duration(until - conn.halfclosed_at)} "
            f"{state}: one side waits for a close that does not come"
        )
    else:  # LEFTOVER_CONNECTION
        listening = conn.type.endswith((".listen", ".port", "udp", ".datagram"))
        fix = "stopListening() it" if listening else "loseConnection() it"
        how = " (the reactor closed it)" if conn.closed_at is not None else ""
        text = (
            f"{label} still open when the reactor stopped{how}: "
            f"trial calls this a dirty reactor; {fix} when done"
        )
    return conn.protocol, None, conn.id, text


class _ConnSource:
    """A finding about one connection, rendered from its current record."""

    __slots__ = ("conn", "diag")

    def __init__(self, conn: Any, diag: "Diagnostics") -> None:
        self.conn = conn
        self.diag = diag

    def warning(self, code: str, now: int) -> Said:
        return _conn_warning(code, self.conn, now, self.diag)


class _PendingSource:
    """A deferred-pending finding, rendered with the time it is read at."""

    __slots__ = ("site", "pending_ns")

    def __init__(self, site: _DeferredSite, pending_ns: int) -> None:
        self.site = site
        self.pending_ns = pending_ns

    def warning(self, code: str, now: int) -> Said:
        return self.site.warning(code, now, self.pending_ns)


class _Finding:
    __slots__ = ("code", "ts", "source")

    def __init__(self, code: str, ts: int, source: Any) -> None:
        self.code = code
        self.ts = ts
        self.source = source

    def render(self, now: int) -> dict[str, Any]:
        name, where, subject, message = self.source.warning(self.code, now)
        return {
            "code": self.code,
            "message": message,
            "where": where,
            "subject": subject,
            "name": name,
            "ts": self.ts,
        }


# -- the diagnostics --------------------------------------------------------------


class Diagnostics:
    """Findings from events fed in ``seq`` order by a :class:`LoopState`.

    LoopState calls one method per event kind that matters, passing the
    connection records it keeps (objects with ``id``, ``type``, ``protocol``,
    ``local``, ``peer``, ``opened``, ``last_activity``, ``buffer_size``,
    ``peak_buffer``, ``pauses``, ``resumes``, ``halfclosed_at``,
    ``halfclosed_side``, ``idle_longest``, ``closed_at``, ``reason``, byte
    counts) and, at shutdown, its pending timers. :meth:`warnings` reads them.
    """

    def __init__(
        self, thresholds: Thresholds | None = None, *, max_per_code: int = MAX_PER_CODE
    ) -> None:
        self.thresholds = thresholds = thresholds or Thresholds()
        self.slow_ns = thresholds.slow_ns
        self.late_ns = thresholds.late_ns
        self.pending_ns = thresholds.pending_ns
        self.idle_ns = thresholds.idle_ns
        self.max_per_code = max_per_code
        self._found: dict[tuple[str, Any], _Finding] = {}
        self._per_code: dict[str, int] = {}
        #: Codes -> keys of findings not kept because of the cap.
        self.overflow: dict[str, set[Any]] = {}
        # slow dispatches
        self._recent: dict[int, _Blocked] = {}  # by start time, to pair slow events and dispatches
        self._open: _Blocked | None = None  # a slow event whose dispatch has not ended
        self._top: list[_Blocked] = []
        self._top_floor = -1
        self._slow_groups: dict[str, _SlowGroup] = {}
        self._blocks: deque[_Blocked] = deque(maxlen=32)  # recent slow ones, to blame late timers
        # timers
        self._sites: dict[str, _TimerSite] = {}
        self._intervals: dict[str, int] = {}
        # Deferreds
        self._deferred_sites: dict[str | None, _DeferredSite] = {}
        self._pending: dict[Any, _DeferredSite] = {}
        self._errors: dict[Any, _DeferredSite] = {}
        #: Deferreds not followed because MAX_DEFERREDS were.
        self.untracked = 0
        # connections
        self.closed: deque[Any] = deque(maxlen=KEEP_CLOSED)
        self.shutdown_at: int | None = None

    # -- keeping findings -------------------------------------------------------

    def _found_once(self, code: str, key: Any, ts: int, source: Any) -> bool:
        """Keep a finding unless one with this code and key exists; False if over the cap."""
        if (code, key) in self._found:
            return True
        if self._per_code.get(code, 0) >= self.max_per_code:
            keys = self.overflow.setdefault(code, set())
            if len(keys) < KEEP_CLOSED:
                keys.add(key)
            return False
        self._per_code[code] = self._per_code.get(code, 0) + 1
        self._found[(code, key)] = _Finding(code, ts, source)
        return True

    def _withdraw(self, code: str, key: Any) -> None:
        if self._found.pop((code, key), None) is not None:
            self._per_code[code] -= 1
        self.overflow.get(code, set()).discard(key)

    # -- slow dispatches ------------------------------------------------------------

    def slow(self, event: Event) -> None:
        """The watchdog saw a dispatch block the loop (ts: when it began)."""
        args = event.args
        blocked = max(args.get("blocked") or 0, event.dur)
        record = self._recent.get(event.ts)
        if record is None:
            record = _Blocked(event.ts, blocked, event.name, args.get("dispatch"))
            self._remember(record)
            self._open = record  # its dispatch event comes when it ends
        else:
            record.dur = max(record.dur, blocked)
        record.add_stack(args)
        self._note(record)

    def dispatch(self, event: Event) -> None:
        """A dispatch ended: pair it with its slow event, keep it if among the longest."""
        open_ = self._open
        if open_ is not None and event.ts == open_.ts:
            self._open = None
            if event.dur > open_.dur:
                open_.dur = event.dur
            self._note(open_)
            return
        dur = event.dur
        if dur <= self._top_floor and dur < self.slow_ns:
            return
        kind = event.kind
        if kind not in TOP_LEVEL_KINDS:
            return
        if kind == ev.THREAD and event.args.get("source") == "pool":
            return
        record = self._recent.get(event.ts)
        if record is not None:
            record.dur = max(record.dur, dur)
        else:
            record = _Blocked(event.ts, dur, event.name, kind)
            args = event.args
            record.where = args.get("site") if kind == ev.TIMER else None
            if dur >= self.slow_ns:
                self._remember(record)
        self._note(record)

    def _remember(self, record: _Blocked) -> None:
        recent = self._recent
        recent[record.ts] = record
        if len(recent) > 64:
            del recent[next(iter(recent))]

    def _note(self, record: _Blocked) -> None:
        """Account for a (new or longer) long dispatch."""
        top = self._top
        if record not in top and (len(top) < KEEP_SLOWEST or record.dur > self._top_floor):
            if len(top) >= KEEP_SLOWEST:
                top.remove(min(top, key=lambda r: r.dur))
            top.append(record)
        if len(top) >= KEEP_SLOWEST:
            self._top_floor = min(r.dur for r in top)
        self._note_slow(record)

    def _note_slow(self, record: _Blocked) -> None:
        if record.dur < self.slow_ns:
            return
        group = self._slow_groups.get(record.name)
        if group is None:
            group = _SlowGroup(record)
            if not self._found_once(SLOW_CALLBACK, record.name, record.ts, group):
                return
            self._slow_groups[record.name] = group
        if not record.counted:
            record.counted = True
            group.count += 1
            self._blocks.append(record)
        worst = group.worst
        if record.dur > worst.dur or (record.site and not worst.site):
            group.worst = record

    def _blame(self, due: int, fired: int) -> str | None:
        """The long dispatch that held the loop between ``due`` and ``fired``."""
        best = None
        for record in self._blocks:
            if record.ts < fired and record.ts + record.dur > due:
                if best is None or record.dur > best.dur:
                    best = record
        if best is None:
            return None
        where = short_site(best.site or best.where)
        return f"{best.name} ({where})" if where else best.name

    def slowest(self) -> list[dict[str, Any]]:
        """The longest dispatches kept, longest first, with stacks when seen."""
        return [r.to_dict() for r in sorted(self._top, key=lambda r: (-r.dur, r.ts))]

    # -- timers -----------------------------------------------------------------

    def looping_scheduled(self, site: str, delay: int) -> None:
        """A LoopingCall scheduled its next tick: the longest delay is its interval."""
        known = self._intervals.get(site)
        if known is None and len(self._intervals) >= MAX_SITES:
            return
        if delay > (known or 0):
            self._intervals[site] = delay

    def timer(self, event: Event, late: int | None) -> None:
        """A timer fired ``late`` ns after it was due: lateness per creation site,
        missed ticks, warnings."""
        if late is None:
            return
        args = event.args
        site_key = args.get("site") or event.name
        site = self._sites.get(site_key)
        if site is None:
            if len(self._sites) >= MAX_SITES:
                site_key = OTHER_SITES
                site = self._sites.get(site_key)
            if site is None:
                site = self._sites[site_key] = _TimerSite(site_key, event.name)
        site.add(late)
        missed = 0
        if args.get("looping"):
            site.looping = True
            delay = args.get("delay") or 0
            if delay:
                self.looping_scheduled(site_key, delay)
            interval = site.interval = self._intervals.get(site_key, delay)
            if interval > 0 and late >= interval:
                missed = late // interval
                site.missed += missed
        if late < self.late_ns:
            return
        code = MISSED_TICKS if missed else LATE_TIMER
        if late >= site.worst_late:
            site.worst_late = late
            site.worst_timer = args.get("timer")
            site.blame = self._blame(event.ts - late, event.ts) or site.blame
        site.worst_missed = max(site.worst_missed, missed)
        self._found_once(code, site_key, event.ts, site)

    def lateness(self) -> list[dict[str, Any]]:
        """Timer lateness per creation site, the latest first."""
        sites = sorted(self._sites.values(), key=lambda s: (-s.max, s.site))
        return [site.to_dict() for site in sites]

    # -- Deferreds ------------------------------------------------------------------

    def _deferred_site(self, site: str | None) -> _DeferredSite:
        found = self._deferred_sites.get(site)
        if found is None:
            if len(self._deferred_sites) >= MAX_SITES:
                site = OTHER_SITES
                found = self._deferred_sites.get(site)
            if found is None:
                found = self._deferred_sites[site] = _DeferredSite(site)
        return found

    def deferred_new(self, event: Event) -> None:
        args = event.args
        if len(self._pending) >= MAX_DEFERREDS:
            self.untracked += 1
            return
        site = self._deferred_site(args.get("site"))
        did = args.get("deferred")
        site.pending[did] = event.ts
        waits = args.get("waits")
        if waits:
            site.waits[waits] = site.waits.get(waits, 0) + 1
        self._pending[did] = site

    def deferred_fired(self, event: Event) -> None:
        did = event.args.get("deferred")
        site = self._pending.pop(did, None)
        if site is None:
            return
        made = site.pending.pop(did, event.ts)
        waited = event.ts - made
        if waited >= self.pending_ns:
            site.late_fired += 1
            site.longest = max(site.longest, waited)
            self._found_once(DEFERRED_PENDING, site.site, made + self.pending_ns,
                             _PendingSource(site, self.pending_ns))

    def deferred_error(self, event: Event) -> None:
        args = event.args
        did = args.get("deferred")
        if not self._error_handled(did) and len(self._errors) >= MAX_DEFERREDS:
            self.untracked += 1
            return
        site = self._deferred_site(args.get("site"))
        failure = args.get("failure") or event.name or "?"
        # The event's name is the last callable that ran, when the recorder knows it.
        last = event.name if event.name not in (failure, "?", "", "Deferred") else None
        site.errors[did] = (failure, last)
        self._errors[did] = site
        self._found_once(DEFERRED_ERROR, site.site, event.ts, site)

    def deferred_handled(self, event: Event) -> None:
        self._error_handled(event.args.get("deferred"))

    def _error_handled(self, did: Any) -> bool:
        """Forget the error Deferred ``did`` held, if any (withdrawing a warning left empty)."""
        site = self._errors.pop(did, None)
        if site is None:
            return False
        site.errors.pop(did, None)
        if not site.errors:
            self._withdraw(DEFERRED_ERROR, site.site)
        return True

    # -- connections ---------------------------------------------------------------

    def backpressure(self, event: Event, conn: Any) -> None:
        """The write buffer went over the buffer size, or the producer was paused."""
        self._found_once(BACKPRESSURE, conn.id, event.ts, _ConnSource(conn, self))

    def idle_ended(self, conn: Any, since: int, until: int) -> None:
        """``conn`` moved no data from ``since`` to ``until`` (idle_ns or more)."""
        if not self._watches_idle(conn):
            return
        conn.idle_longest = max(conn.idle_longest, until - since)
        self._found_once(IDLE_CONNECTION, conn.id, since + self.idle_ns, _ConnSource(conn, self))

    def idle_now(self, conn: Any, now: int) -> int:
        """How long ``conn`` has been silent at ``now`` (0 once closed)."""
        if conn.closed_at is not None:
            return 0
        last = conn.last_activity if conn.last_activity is not None else conn.opened
        return max(0, now - last)

    @staticmethod
    def _watches_idle(conn: Any) -> bool:
        return conn.type.removeprefix("tls/") in STREAM_TYPES

    def closed_conn(self, event: Event, conn: Any) -> None:
        """``conn`` closed (its record is final now)."""
        conn.closed_at = event.ts
        conn.reason = event.args.get("reason")
        if conn.halfclosed_at is not None and event.ts - conn.halfclosed_at >= self.pending_ns:
            self._found_once(HALF_CLOSED, conn.id, conn.halfclosed_at + self.pending_ns,
                             _ConnSource(conn, self))
        self.closed.append(conn)

    # -- shutdown ---------------------------------------------------------------------

    def shutdown(self, ts: int, timers: Mapping[Any, Any], conns: Mapping[Any, Any]) -> None:
        """The reactor shut down at ``ts``: what is left is what trial calls dirty.

        ``timers`` and ``conns`` are what is pending and open now, after the
        shutdown triggers ran; connections the reactor itself closed during
        the shutdown (``disconnectAll``) count too. Timers already due then
        were about to run, and the reactor's wakers are its own: neither counts.
        """
        if self.shutdown_at is not None:
            return
        self.shutdown_at = ts
        groups: dict[str, _Leftovers] = {}
        for tid, timer in timers.items():
            if timer.due <= ts:
                continue  # due already: about to run, not forgotten (asyncio's stop() wake-up)
            key = timer.site or timer.name
            group = groups.get(key)
            if group is None:
                group = groups[key] = _Leftovers(timer.site, timer.name)
                self._found_once(LEFTOVER_TIMER, key, ts, group)
            group.timers.append(tid)
            group.looping = group.looping or timer.looping
            due_in = timer.due - ts
            if group.due_in is None or due_in < group.due_in:
                group.due_in = due_in
        left = [c for c in self.closed if c.closed_at is not None and c.closed_at >= ts
                and str(c.reason or "").endswith(SHUTDOWN_REASON)]
        left.extend(conns.values())
        for conn in left:
            if conn.type == "waker" or (conn.type == "unknown" and conn.protocol in ("", "?")):
                continue
            self._found_once(LEFTOVER_CONNECTION, conn.id, ts, _ConnSource(conn, self))

    # -- reading ----------------------------------------------------------------------

    def warnings(self, now: int, conns: Mapping[Any, Any]) -> list[dict[str, Any]]:
        """The findings as of ``now``, oldest first (``conns``: those open now)."""
        found = self._found
        live: list[_Finding] = []
        for site in self._deferred_sites.values():
            if site.pending and (DEFERRED_PENDING, site.site) not in found:
                first = next(iter(site.pending.values()))
                if now - first >= self.pending_ns:
                    live.append(_Finding(DEFERRED_PENDING, first + self.pending_ns,
                                         _PendingSource(site, self.pending_ns)))
        for conn in conns.values():
            if (IDLE_CONNECTION, conn.id) not in found and self._watches_idle(conn):
                last = conn.last_activity if conn.last_activity is not None else conn.opened
                if now - last >= self.idle_ns:
                    source = _ConnSource(conn, self)
                    live.append(_Finding(IDLE_CONNECTION, last + self.idle_ns, source))
            if (
                conn.halfclosed_at is not None
                and (HALF_CLOSED, conn.id) not in found
                and now - conn.halfclosed_at >= self.pending_ns
            ):
                live.append(_Finding(HALF_CLOSED, conn.halfclosed_at + self.pending_ns,
                                     _ConnSource(conn, self)))
        out = [finding.render(now) for finding in found.values()]
        counts = dict(self._per_code)
        extra: dict[str, int] = {}
        for finding in live:
            if counts.get(finding.code, 0) >= self.max_per_code:
                extra[finding.code] = extra.get(finding.code, 0) + 1
                continue
            counts[finding.code] = counts.get(finding.code, 0) + 1
            out.append(finding.render(now))
        for code in sorted(set(self.overflow) | set(extra)):
            more = len(self.overflow.get(code, ())) + extra.get(code, 0)
            if not more:
                continue
            out.append({
                "code": TOO_MANY,
                "message": f"{more} more {code} warnings were not kept "
                           f"(at most {self.max_per_code} per code)",
                "where": None,
                "subject": None,
                "name": code,
                "ts": now,
            })
        out.sort(key=lambda w: w["ts"])
        return out
