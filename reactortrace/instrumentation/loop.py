"""The loop itself: iterations (waiting versus busy), dispatches, system events.

An iteration runs from the end of one wait to the end of the next, so it holds
the timers and dispatches of one pass plus the wait. On epoll/poll/select the
wait and the dispatches are both inside ``doIteration``, which is recompiled
with the poll call and each dispatch timed. asyncio has no ``doIteration``: its
selector's ``select`` is wrapped instead, and dispatches are timed by ``io``.
"""

from __future__ import annotations

import ast
from typing import Any

from . import io
from . import records as R
from .recorder import Recorder
from .rewrite import Timed, rewrite


def _is_wait(stmt: ast.stmt) -> bool:
    """``l = self._poller.poll(...)`` (epoll, poll) or ``r, w, x = _select(...)``."""
    if not isinstance(stmt, ast.Assign) or not isinstance(stmt.value, ast.Call):
        return False
    func = stmt.value.func
    return (isinstance(func, ast.Attribute) and func.attr == "poll") or (
        isinstance(func, ast.Name) and func.id in ("_select", "select")
    )


def _is_dispatch(stmt: ast.stmt) -> bool:
    """``log.callWithLogger(selectable, _drdw, ...)`` or ``_logrun(selectable, ...)``."""
    if not isinstance(stmt, ast.Expr) or not isinstance(stmt.value, ast.Call):
        return False
    func = stmt.value.func
    return (isinstance(func, ast.Attribute) and func.attr == "callWithLogger") or (
        isinstance(func, ast.Name) and func.id == "_logrun"
    )


def install(rec: Recorder, reactor: Any, reactor_class: Any) -> None:
    """Record iterations, dispatches and system events of ``reactor`` (class ``reactor_class``)."""
    target = rec.target
    part = rec.part("loop")
    append, clock = rec.append, rec.clock
    dispatched = io.make_hook(rec, reactor, reactor_class, part)
    pack = R.ITERATION_FMT.pack

    def waited(t0: float, exc: BaseException | None) -> None:
        if part.on:
            append(pack(t0, clock(), R.ITERATION))

    loop = getattr(reactor, "_asyncioEventloop", None)
    if loop is not None:
        # The selector belongs to this reactor alone: patch the instance.
        selector = loop._selector
        original_select = selector.select

        def select(*args: Any, **kw: Any) -> Any:
            t0 = clock()
            try:
                return original_select(*args, **kw)
            finally:
                waited(t0, None)

        part.patcher.set(selector, "select", select)
        io.install_asyncio(part, reactor, reactor_class, dispatched)
    else:
        step = reactor_class.doIteration
        # select passes the method name along; epoll and poll the event mask,
        # and they have the fd at hand to find the connection by
        if "method" in step.__code__.co_varnames:
            how, reading = "method", 'method == "doRead"'
            lookup = "_rt_live(_rt_id(selectable))"
        else:
            how, reading = "event", "event & _rt_pollin"
            lookup = "_rt_fds(fd)"
        do_iteration = rewrite(
            step,
            [
                Timed(
                    _is_wait,
                    "_rt_waited",
                    "",
                    inline=(
                        "if self is _rt_target[0]:\n"
                        f"    _rt_append(_rt_pack(_rt_t0, _rt_last, {R.ITERATION}))"
                    ),
                    mark_end=True,
                ),
                # Each dispatch starts where the wait or the dispatch before
                # it ended: one clock read per dispatch, not two.
                Timed(
                    _is_dispatch,
                    "_rt_io",
                    f"selectable, {how}, _rt_pre",
                    before=lookup,
                    inline=_READ_INLINE.format(reading=reading, how=how),
                    start="_rt_last",
                    mark_end=True,
                ),
            ],
            {
                "_rt_live": io.LIVE_CONNS.get,
                "_rt_fds": io.FDS.get,
                "_rt_id": id,
                "_rt_pollin": getattr(reactor, "_POLL_IN", 0),
                "_rt_pack_io": R.IO_FMT.pack,
                "_rt_bytes": io.BYTES,
                "_rt_pending": io.pending_out,
                "_rt_waited": waited,
                "_rt_io": dispatched,
                "_rt_clock": clock,
                "_rt_append": append,
                "_rt_pack": pack,
                "_rt_failed": part.fail,
            },
            target=target,
        )
        part.patcher.set(reactor_class, "doIteration", do_iteration)
    _install_system_events(rec, reactor_class, part)


# A dispatch to a known connection, inline in doIteration; the rest goes to
# the io hook.
# (_rt_pre is the connection's entry, looked up before the dispatch.)
_READ_INLINE = f"""\
if _rt_pre is not None and _rt_pre[2] is selectable and self is _rt_target[0]:
    if {{reading}}:
        _rt_append(_rt_pack_io(_rt_t0, _rt_last, _rt_bytes[0], -1, _rt_pre[1], {R.READ}))
    else:
        _rt_append(_rt_pack_io(_rt_t0, _rt_last, _rt_bytes[1],
                               _rt_bytes[2] if _rt_bytes[2] >= 0 else _rt_pending(selectable),
                               _rt_pre[1], {R.WRITE}))
    _rt_bytes[0] = _rt_bytes[1] = 0
    _rt_bytes[2] = -1
else:
    _rt_io(selectable, {{how}}, _rt_pre, _rt_t0, None)"""


def _install_system_events(rec: Recorder, reactor_class: Any, part: Any) -> None:
    append, clock = rec.append, rec.clock
    original_fire = reactor_class.fireSystemEvent
    target = rec.target

    def fireSystemEvent(self: Any, eventType: str) -> None:
        if self is not target[0] or not part.on:
            return original_fire(self, eventType)
        t0 = clock()
        try:
            return original_fire(self, eventType)
        finally:
            append((R.SYSTEM, t0, clock(), str(eventType)))

    part.patcher.set(reactor_class, "fireSystemEvent", fireSystemEvent)
