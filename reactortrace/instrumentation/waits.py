"""What each pending Deferred waits on, worked out from the live objects.

Called when a snapshot is taken, possibly on another thread than the
reactor's: it reads copies (lists and dicts are copied in one step under the
GIL), never changes an object, and tolerates objects changing while it reads
(anything odd about one Deferred leaves that Deferred as "nothing known").

The edges come from Twisted's own bookkeeping:

- a Deferred's callback list names who waits on it: the ``_CONTINUE`` entry of
  a Deferred chained to it, ``inlineCallbacks``' resume entry (holding the
  generator or coroutine and its ``_CancellationStatus``, whose ``deferred``
  is the one its caller holds), a bound ``callback``/``errback`` of another
  Deferred (``chainDeferred``, DeferredList), or a function that calls
  ``.callback`` on a Deferred it holds (in its arguments or closure);
- ``_chainedTo``: a Deferred paused on the result of another;
- an ``inlineCallbacks`` Deferred's canceller holds its status (``waitingOn``).

What fires the last link: a pending DelayedCall whose function is the
Deferred's ``callback`` (``deferLater``, ``callLater(n, d.callback)``), or which
a canceller holds; a thread-pool job (queued in the reactor's pool, or handed
over by ``deferToThreadPool`` when the Deferred was made); a result from a
thread queued for the reactor; a protocol of an open connection that holds
the Deferred (fired when data arrives).
"""

from __future__ import annotations

import threading
import types
import weakref
from collections.abc import Callable, Iterable
from dataclasses import replace
from time import perf_counter as _clock
from typing import Any

from twisted.internet import defer

from ..core import units
from ..core.awaiting import chain_ends, deadlock_text, find_cycles
from ..core.names import key_name, site
from ..core.snapshot import DeferredInfo, PendingDeferreds
from . import io, pending, versions
from . import records as R
from .callables import callable_key
from .recorder import Recorder
from .sites import internal_code

#: Deferreds listed in a snapshot at most (the oldest; the rest are counted).
MAX_LISTED = 200
#: Registry entries looked at per snapshot at most.
MAX_SCANNED = 50_000
#: Deferreds followed per snapshot at most (listed or not).
MAX_NODES = 10_000

_DEFERRED = defer.Deferred
_CONTINUE = versions.CONTINUE
_STATUS = versions.INLINE_STATUS
_METHOD = types.MethodType
_FUNCTION = types.FunctionType
_COROUTINE = types.CoroutineType
_GENERATOR = types.GeneratorType
_FIRES = frozenset({"callback", "errback"})
_DEFERRED_LIST = getattr(defer, "DeferredList", None)


def _is_deferred(value: Any) -> bool:
    return isinstance(value, _DEFERRED)


def _waiting(deferred: Any) -> bool:
    """Whether ``deferred`` has no result yet, or is paused on another."""
    try:
        return not deferred.called or bool(deferred.paused)
    except Exception:  # noqa: BLE001 - an odd subclass
        return False


def _cells(func: Any) -> Iterable[Any]:
    closure = getattr(func, "__closure__", None) or ()
    for cell in closure:
        try:
            yield cell.cell_contents
        except ValueError:  # an empty cell
            continue


def _fired_by(func: Any, args: Any) -> list[Any]:
    """The Deferreds ``func(*args)`` would fire: ``d.callback`` itself, or a
    function that calls ``.callback``/``.errback`` on a Deferred among its
    arguments or in its closure."""
    if type(func) is _METHOD:
        owner = func.__self__
        return [owner] if _is_deferred(owner) else []
    code = getattr(func, "__code__", None)
    if code is None or not _FIRES.intersection(code.co_names):
        return []
    found = [a for a in (args or ()) if _is_deferred(a)]
    found += [c for c in _cells(func) if _is_deferred(c)]
    return found


class _Node:
    """A pending Deferred while the walk works on it."""

    __slots__ = ("deferred", "entry", "kind", "gen", "waits_on", "source", "detail",
                 "timer", "conn")

    def __init__(self, deferred: Any, entry: Any) -> None:
        self.deferred = deferred
        self.entry = entry
        self.kind = "DeferredList" if (
            _DEFERRED_LIST is not None and isinstance(deferred, _DEFERRED_LIST)
        ) else "deferred"
        self.gen: Any = None
        self.waits_on: list[int] = []  # id() of the Deferreds it waits on
        self.source = "nothing"
        self.detail = "nothing known"
        self.timer: int | None = None
        self.conn: int | None = None


class Walk:
    """One snapshot's walk over the pending Deferreds of ``rec``'s program."""

    def __init__(self, rec: Recorder, reactor: Any, ns: Callable[[float], int]) -> None:
        self.rec = rec
        self.reactor = reactor
        self.ns = ns
        self.nodes: dict[int, _Node] = {}
        self.todo: list[_Node] = []
        self.unscanned = 0
        self.entries: dict[int, Any] = {}

    # -- finding the pending Deferreds and their edges ---------------------

    def add(self, deferred: Any) -> _Node | None:
        """The node of a pending Deferred (made on first sight, if room is left)."""
        key = id(deferred)
        node = self.nodes.get(key)
        if node is None and len(self.nodes) < MAX_NODES and _waiting(deferred):
            entry = self.entries.get(key)
            if entry is not None and entry[0]() is not deferred:
                entry = None
            node = self.nodes[key] = _Node(deferred, entry)
            self.todo.append(node)
        return node

    def edge(self, waiter: Any, waited: _Node) -> _Node | None:
        """``waiter`` waits on ``waited`` (if ``waiter`` is pending)."""
        node = self.add(waiter)
        if node is not None and id(waited.deferred) not in node.waits_on:
            node.waits_on.append(id(waited.deferred))
        return node

    def collect(self) -> None:
        """Every pending Deferred registered, and every one they lead to."""
        self.entries = _copy(pending.REGISTRY)
        for scanned, entry in enumerate(self.entries.values()):
            if scanned >= MAX_SCANNED or len(self.nodes) >= MAX_NODES:
                self.unscanned = len(self.entries) - scanned
                break
            deferred = entry[0]()
            if deferred is not None:
                self.add(deferred)
        while self.todo:
            node = self.todo.pop()
            try:
                self.follow(node)
            except Exception:  # noqa: BLE001 - an odd Deferred: what it waits on stays unknown
                continue

    def follow(self, node: _Node) -> None:
        """Find who waits on ``node``, and what ``node`` itself waits on."""
        deferred = node.deferred
        state = vars(deferred)
        for item in list(versions.deferred_chain(deferred)):
            for callback, args, _kw in {id(part): part for part in item}.values():
                self._waiter(callback, args, node)
        chained = state.get("_chainedTo")
        if chained is not None and _is_deferred(chained):
            target = self.add(chained)
            if target is not None:
                self.edge(deferred, target)
        result = state.get("result")
        if deferred.paused and _is_deferred(result):
            target = self.add(result)
            if target is not None:
                self.edge(deferred, target)
        for held in _cells(state.get("_canceller")):
            if _STATUS is not None and isinstance(held, _STATUS):
                awaited = getattr(held, "waitingOn", None)
                if awaited is not None and _is_deferred(awaited):
                    self.add(awaited)  # its callbacks lead back here, with the generator

    def _waiter(self, callback: Any, args: Any, node: _Node) -> None:
        if callback is _CONTINUE:
            if args and _is_deferred(args[0]):
                self.edge(args[0], node)
            return
        if callback is versions.INLINE_RESUME and len(args) >= 3:
            gen, status = args[1], args[2]
            owner = getattr(status, "deferred", None)
            if owner is not None and _is_deferred(owner):
                waiter = self.edge(owner, node)
                if waiter is not None:
                    waiter.gen = gen
                    waiter.kind = "coroutine" if type(gen) is _COROUTINE else "inlineCallbacks"
            return
        for target in _fired_by(callback, args):
            self.edge(target, node)

    # -- what fires the last links ------------------------------------------

    def sources(self) -> None:
        """Timers, thread jobs and connections that will fire a pending Deferred."""
        self._timers()
        self._thread_jobs()
        self._connections()

    def _source(self, deferred: Any, source: str, detail: str, **ids: int | None) -> None:
        node = self.nodes.get(id(deferred))
        if node is None or node.deferred is not deferred or node.source != "nothing":
            return
        node.source, node.detail = source, detail
        node.timer = ids.get("timer")
        node.conn = ids.get("conn")

    def _timers(self) -> None:
        try:
            calls = list(self.reactor.getDelayedCalls())
        except Exception:  # noqa: BLE001 - changed while read
            return
        now = self.reactor.seconds()
        by_call = {id(call): call for call in calls}
        for node in self.nodes.values():  # deferLater: the canceller holds the call
            for held in _cells(node.deferred.__dict__.get("_canceller")):
                if id(held) in by_call:
                    self._timer(node.deferred, held, now)
        for call in calls:
            try:
                for deferred in _fired_by(call.func, call.args):
                    self._timer(deferred, call, now)
            except Exception:  # noqa: BLE001 - changed while read
                continue

    def _timer(self, deferred: Any, call: Any, now: float) -> None:
        record = self.rec.timers.get(call)
        timer = None
        if record is not None and record != R.NO_SCHEDULE:
            timer = self.ns(R.SCHEDULE_FMT.unpack(record)[0])
        due = units.duration(int((call.getTime() - now) * 1e9))
        name = f"timer {timer}" if timer is not None else "a timer"
        self._source(deferred, "timer", f"{name}, due in {due}", timer=timer)

    def _thread_jobs(self) -> None:
        pool = getattr(self.reactor, "threadpool", None)
        team = getattr(pool, "_team", None)
        queued = list(getattr(team, "_pending", ()) or ())
        for job in queued:
            on_result = getattr(job, "onResult", None)
            work = getattr(job, "theWork", None)
            name = next((key_name(callable_key(c)) for c in _cells(work) if callable(c)), "?")
            for held in _cells(on_result):
                if _is_deferred(held):
                    self._source(held, "thread", f"thread-pool job {name}, queued")
        for f, args, _kw in list(getattr(self.reactor, "threadCallQueue", ()) or ()):
            for deferred in _fired_by(f, args):
                self._source(deferred, "thread", "a thread's result, queued for the reactor")
        for node in self.nodes.values():
            entry = node.entry
            if entry is not None and entry[2] is pending.THREAD_JOB_CODE:
                name = key_name(entry[5]) if entry[5] is not None else "?"
                self._source(node.deferred, "thread", f"thread-pool job {name}")

    def _connections(self) -> None:
        for entry in list(io.LIVE_CONNS.values()):
            if entry[0] is not self.rec:
                continue
            conn, selectable = entry[1], entry[2]
            try:
                for protocol in _protocols(selectable):
                    for value in _held(protocol):
                        self._source(value, "connection",
                                     f"data on connection {conn} ({type(protocol).__name__})",
                                     conn=conn)
            except Exception:  # noqa: BLE001 - a protocol that changed while read
                continue

    # -- the result ---------------------------------------------------------

    def view(self, limit: int = MAX_LISTED) -> PendingDeferreds:
        """The walk's findings, oldest first, at most ``limit`` listed."""
        serials = _numbered(self.nodes)
        edges = {serials[k]: [serials[t] for t in n.waits_on if t in serials]
                 for k, n in self.nodes.items()}
        for key, node in self.nodes.items():
            if node.waits_on and edges[serials[key]]:
                node.source = "deferred"
                listed = [f"#{serials[t]}" for t in node.waits_on if t in serials]
                what = {"inlineCallbacks": "its generator, waiting on",
                        "coroutine": "its coroutine, waiting on"}.get(node.kind, "Deferred")
                node.detail = f"{what} {', '.join(listed)}"
        ends = {serials[k]: n.detail for k, n in self.nodes.items() if n.source != "deferred"}
        cycles = find_cycles(edges)
        in_cycle = {m: deadlock_text(c) for c in cycles for m in c}
        ended = chain_ends(edges, ends)
        now = _clock()
        # Oldest first (made before recording: oldest of all); only those listed
        # become DeferredInfo.
        order = sorted(self.nodes.items(), key=lambda item: _made(item[1]))
        chosen = order[:limit] + [item for item in order[limit:]
                                  if serials[item[0]] in in_cycle]
        keep = [self._info(serials[k], n, edges, ended, in_cycle, now) for k, n in chosen]
        return PendingDeferreds(
            deferreds=tuple(keep),
            total=len(self.nodes),
            omitted=len(self.nodes) - len(keep),
            deadlocks=tuple(cycles),
            unscanned=self.unscanned,
        )

    def _info(self, serial: int, node: _Node, edges: dict[int, list[int]],
              ended: dict[int, tuple[str, int]], in_cycle: dict[int, str], now: float) -> DeferredInfo:
        entry = node.entry
        made, maker, user, offset = entry[1:5] if entry else (None, None, None, -1)
        name = key_name(maker) if maker is not None else type(node.deferred).__qualname__
        suspended: str | None = None
        awaits: tuple[str, ...] = ()
        if node.gen is not None:
            frames = _suspended(node.gen)
            if frames:
                awaits = tuple(frames)
                suspended = frames[-1].rsplit(" ", 1)[0]
            code = getattr(node.gen, "gi_code", None) or getattr(node.gen, "cr_code", None)
            if code is not None:
                name = key_name(code)
        elif node.kind == "DeferredList":
            name = key_name(type(node.deferred))
        fired_by, depth = ended.get(serial, (node.detail, 0))
        deadlock = serial in in_cycle
        if deadlock:
            fired_by = in_cycle[serial]
        return DeferredInfo(
            id=serial,
            kind=node.kind,
            name=name,
            age=None if made is None else max(0, int((now - made) * 1e9)),
            made_at=site(user, offset) if user is not None else None,
            suspended_at=suspended,
            awaits=awaits,
            waits_on=tuple(edges.get(serial, ())),
            source=node.source,
            detail=node.detail,
            timer=node.timer,
            conn=node.conn,
            fired_by=fired_by,
            depth=depth,
            deadlock=deadlock,
        )


def _made(node: _Node) -> float:
    """Sort key: when the Deferred was made (unknown: before everything)."""
    entry = node.entry
    return float("-inf") if entry is None else float(entry[1])


#: id(deferred) -> (weak reference, number) of the Deferreds the last view listed:
#: a Deferred keeps its number from one snapshot to the next while it is pending.
_numbers: dict[int, tuple[Any, int]] = {}
_next_number = [1]
_numbering = threading.Lock()


def _numbered(nodes: dict[int, _Node]) -> dict[int, int]:
    """id(deferred) -> its number (new ones numbered in the order they were made)."""
    with _numbering:
        numbers: dict[int, int] = {}
        kept: dict[int, tuple[Any, int]] = {}
        new = []
        for key, node in nodes.items():
            old = _numbers.get(key)
            if old is not None and old[0]() is node.deferred:
                numbers[key] = old[1]
                kept[key] = old
            else:
                new.append((key, node))
        new.sort(key=lambda item: item[1].entry[1] if item[1].entry else float("-inf"))
        for key, node in new:
            ref = node.entry[0] if node.entry else weakref.ref(node.deferred)
            numbers[key] = _next_number[0]
            kept[key] = (ref, _next_number[0])
            _next_number[0] += 1
        _numbers.clear()
        _numbers.update(kept)
        return numbers


def _copy(table: dict[int, Any]) -> dict[int, Any]:
    """A copy of a dict other threads write to (``dict.copy`` runs under the GIL)."""
    return table.copy()


def _protocols(selectable: Any) -> list[Any]:
    """The protocol of a transport, and the ones it wraps (TLS, endpoints)."""
    found = []
    protocol = getattr(selectable, "protocol", None)
    for _ in range(5):
        if protocol is None:
            break
        found.append(protocol)
        protocol = next((getattr(protocol, attr) for attr in io._WRAPPER_ATTRS
                         if getattr(protocol, attr, None) is not None), None)
    return found


def _held(obj: Any) -> Iterable[Any]:
    """Deferreds an object holds in its attributes, or one container down."""
    try:
        values = list(vars(obj).values())
    except TypeError:
        return
    for value in values:
        if _is_deferred(value):
            yield value
        elif isinstance(value, (list, tuple, set, frozenset)) or type(value).__name__ == "deque":
            yield from (v for v in list(value)[:1_000] if _is_deferred(v))
        elif isinstance(value, dict):
            yield from (v for v in list(value.values())[:1_000] if _is_deferred(v))


def _suspended(gen: Any) -> list[str]:
    """``file:line function`` of each user frame a generator or coroutine is
    suspended in, following ``await`` and ``yield from``, outermost first."""
    frames: list[str] = []
    for _ in range(50):
        frame = getattr(gen, "gi_frame", None) or getattr(gen, "cr_frame", None)
        if frame is None:
            break
        code = frame.f_code
        if not internal_code(code):
            frames.append(f"{code.co_filename}:{frame.f_lineno} {code.co_name}")
        inner = getattr(gen, "cr_await", None) if type(gen) is _COROUTINE else getattr(
            gen, "gi_yieldfrom", None)
        if inner is None or not isinstance(inner, (_COROUTINE, _GENERATOR)):
            break
        gen = inner
    return frames


def pending_view(rec: Recorder, reactor: Any, ns: Callable[[float], int],
                 limit: int = MAX_LISTED) -> PendingDeferreds:
    """The pending Deferreds of the program now, and what each waits on."""
    walk = Walk(rec, reactor, ns)
    walk.collect()
    walk.sources()
    return walk.view(limit)


#: A walk that took more than MIN_COST seconds is made again only after SPACING
#: times that has passed: with thousands pending a walk takes a tenth of a
#: second, and one per live update would hold the GIL against the program.
SPACING = 10
MIN_COST = 0.02


class PendingViews:
    """The pending-Deferreds view of one tracer, walked again when it is due.

    Between walks the last view is handed out with its ages moved on."""

    def __init__(self, rec: Recorder, reactor: Any, ns: Callable[[float], int]) -> None:
        self.rec, self.reactor, self.ns = rec, reactor, ns
        self._last: tuple[PendingDeferreds, float, float] | None = None  # view, when, cost
        self._lock = threading.Lock()

    def __call__(self, fresh: bool = False) -> PendingDeferreds:
        """The view now (``fresh``: walked now, whatever the last walk cost)."""
        with self._lock:
            now = _clock()
            if self._last is not None and not fresh:
                view, when, cost = self._last
                if cost >= MIN_COST and now - when < SPACING * cost:
                    return _aged(view, int((now - when) * 1e9))
            view = pending_view(self.rec, self.reactor, self.ns)
            self._last = (view, now, _clock() - now)
            return view


def _aged(view: PendingDeferreds, by: int) -> PendingDeferreds:
    """``view`` as it reads ``by`` ns later."""
    return replace(view, deferreds=tuple(
        info if info.age is None else replace(info, age=info.age + by)
        for info in view.deferreds
    ))
