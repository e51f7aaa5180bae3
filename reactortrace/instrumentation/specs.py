"""Where in each Twisted function reactortrace records, and the code it inserts there.

One section per Twisted function that :mod:`.rewrite` recompiles: how the
statement is found (a matcher on its syntax tree) and what runs around or after
it. The hooks the code calls (``_rt_*`` names) are given by the part that
installs the rewrite; the engine refuses a spec that reads any other name than
its hooks, its temporaries and the function's own parameters and locals, so a
Twisted release that renames something turns that part off at start-up, with
one log line, instead of failing inside the program.

Twisted's names are reached through placeholders: ``{params[N]}`` is the
function's N-th parameter (``self`` is 0), ``{target}`` the name a matched
assignment binds, ``{value}`` the source of its value.
"""

from __future__ import annotations

import ast

from . import records as R
from .rewrite import After, Spec, Timed, assigns


def _call_to(stmt: ast.stmt) -> ast.expr | None:
    """What an expression statement or an assignment calls, if it is a call."""
    value = stmt.value if isinstance(stmt, (ast.Expr, ast.Assign)) else None
    return value.func if isinstance(value, ast.Call) else None


# -- ReactorBase.runUntilCurrent ---------------------------------------------------------


def is_timer_call(stmt: ast.stmt) -> bool:
    """``call.func(*call.args, **call.kw)``: a due DelayedCall runs."""
    func = _call_to(stmt) if isinstance(stmt, ast.Expr) else None
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "func"
        and isinstance(func.value, ast.Name)
        and func.value.id == "call"
    )


def is_thread_call(stmt: ast.stmt) -> bool:
    """``f(*a, **kw)``: a call queued by ``callFromThread`` runs."""
    func = _call_to(stmt) if isinstance(stmt, ast.Expr) else None
    return isinstance(func, ast.Name) and func.id == "f"


#: A timer that ran without raising, recorded inline: no extra Python call.
_TIMER_FIRED = f"""\
if self is _rt_target[0]:
    _rt_append(_rt_pack(_rt_t0, _rt_clock(), now, call.time, 0,
                        _rt_pop(call, _rt_none), {R.TIMER}))"""


def run_until_current(thread_calls: bool) -> list[Spec]:
    """Each timer timed (and, on reactors with a thread call queue, each call from a thread)."""
    specs: list[Spec] = [Timed(is_timer_call, "_rt_timer", "call, now", inline=_TIMER_FIRED)]
    if thread_calls:
        specs.append(Timed(is_thread_call, "_rt_thread", "f"))
    return specs


# -- callLater (ReactorBase's, asyncio's) ---------------------------------------------


def creates_timer(stmt: ast.stmt) -> bool:
    """``x = DelayedCall(...)`` (ReactorBase) or ``x = ....callLater(...)`` (asyncio)."""
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)):
        return False
    func = _call_to(stmt)
    return (isinstance(func, ast.Name) and func.id == "DelayedCall") or (
        isinstance(func, ast.Attribute) and func.attr == "callLater"
    )


# The common case inline (a function or method scheduled from code outside
# Twisted, both seen before): no extra Python call on this hot path. The
# schedule record is also kept by DelayedCall until the timer fires or is
# cancelled, and travels inside the firing's record: a firing is fully named
# even when its schedule record has left the ring.
#
# ``_rt_hot`` remembers the last (caller code, site ref, callable code, key
# ref) seen: a program that schedules the same call from the same place again
# and again (a loop, a retry, a chain) skips both lookups. callLater's own
# parameters are the delay (1) and the callable (2), whatever their names
# (asyncio's were ``seconds`` and ``f`` before Twisted 26.10).
_SCHEDULED = f"""\
_rt_caller = _rt_getframe(1)
_rt_code = _rt_caller.f_code
try:  # functions and bound methods (which pass __code__ on)
    _rt_func = {{params[2]}}.__code__
except AttributeError:
    _rt_func = None
if _rt_code is _rt_hot[0] and _rt_func is _rt_hot[2]:
    _rt_site = _rt_hot[1]
    _rt_key = _rt_hot[3]
else:
    _rt_site = _rt_user(_rt_id(_rt_code))
    _rt_key = None if _rt_func is None else _rt_ref(_rt_id(_rt_func))
    if _rt_site is not None and _rt_key is not None:
        _rt_hot[:] = (_rt_code, _rt_site, _rt_func, _rt_key)
if _rt_site is None or _rt_key is None:
    _rt_scheduled({{target}}, {{params[2]}}, {{params[1]}})
else:
    _rt_record = _rt_pending[{{target}}] = _rt_pack(
        _rt_clock(), {{params[1]}}, 0, _rt_key, _rt_site, _rt_caller.f_lasti,
        {R.ORIGIN_TIMER}, {R.SCHEDULE})
    _rt_append(_rt_record)
"""


def call_later() -> list[Spec]:
    """A schedule record right after the DelayedCall is made."""
    return [After(creates_timer, "_rt_scheduled", "{target}, {params[2]}, {params[1]}",
                  inline=_SCHEDULED)]


# -- doIteration (epoll, poll: doPoll; select: doSelect) --------------------------------------


def is_wait(stmt: ast.stmt) -> bool:
    """``l = self._poller.poll(...)`` (epoll, poll) or ``r, w, x = _select(...)``."""
    func = _call_to(stmt) if isinstance(stmt, ast.Assign) else None
    return (isinstance(func, ast.Attribute) and func.attr == "poll") or (
        isinstance(func, ast.Name) and func.id in ("_select", "select")
    )


def is_dispatch(stmt: ast.stmt) -> bool:
    """``log.callWithLogger(selectable, _drdw, ...)`` or ``_logrun(selectable, ...)``."""
    func = _call_to(stmt) if isinstance(stmt, ast.Expr) else None
    return (isinstance(func, ast.Attribute) and func.attr == "callWithLogger") or (
        isinstance(func, ast.Name) and func.id == "_logrun"
    )


# A dispatch to a known connection, inline; the rest goes to the io hook.
# ``_rt_pre`` is the connection's entry, looked up before the dispatch (which
# may close it). One dispatch may read and write (epoll, poll: both events at
# once): each count is recorded as its own event then.
_DISPATCHED = f"""\
if _rt_pre is not None and _rt_pre[2] is selectable and self is _rt_target[0]:
    if {{reading}}:
        _rt_append(_rt_pack_io(_rt_t0, _rt_last, _rt_bytes[0], -1, _rt_pre[1], {R.READ}))
        if _rt_bytes[1]:
            _rt_append(_rt_pack_io(_rt_last, _rt_last, _rt_bytes[1],
                                   _rt_bytes[2] if _rt_bytes[2] >= 0 else _rt_pending(selectable),
                                   _rt_pre[1], {R.WRITE}))
    else:
        _rt_append(_rt_pack_io(_rt_t0, _rt_last, _rt_bytes[1],
                               _rt_bytes[2] if _rt_bytes[2] >= 0 else _rt_pending(selectable),
                               _rt_pre[1], {R.WRITE}))
    _rt_bytes[0] = _rt_bytes[1] = 0
    _rt_bytes[2] = -1
else:
    _rt_io(selectable, {{how}}, _rt_pre, _rt_t0, None)"""


def do_iteration(by_method: bool) -> list[Spec]:
    """The wait in poll timed, then each dispatch, each starting where the
    previous one (or the wait) ended: one clock read per dispatch, not two.

    ``by_method``: select passes the method name along (``method``); epoll
    and poll the event mask (``event``), and have the fd at hand to find the
    connection by.
    """
    if by_method:
        how, reading, lookup = "method", 'method == "doRead"', "_rt_live(_rt_id(selectable))"
    else:
        how, reading, lookup = "event", "event & _rt_pollin", "_rt_fds(fd)"
    inline = _DISPATCHED.replace("{reading}", reading).replace("{how}", how)
    return [
        Timed(
            is_wait, "_rt_waited", "",
            inline=f"if self is _rt_target[0]:\n    _rt_append(_rt_pack(_rt_t0, _rt_last, {R.ITERATION}))",
            mark_end=True,
        ),
        Timed(
            is_dispatch, "_rt_io", f"selectable, {how}, _rt_pre", before=lookup,
            inline=inline, start="_rt_last", mark_end=True,
        ),
    ]


# -- Deferred._runCallbacks ---------------------------------------------------------------------


def is_callback_call(stmt: ast.stmt) -> bool:
    """``current.result = callback(current.result, *args, **kwargs)``."""
    if not isinstance(stmt, ast.Assign):
        return False
    target = stmt.targets[0]
    func = _call_to(stmt)
    return (
        isinstance(target, ast.Attribute)
        and target.attr == "result"
        and isinstance(func, ast.Name)
        and func.id == "callback"
    )


def is_fail_result(stmt: ast.stmt) -> bool:
    """``current._debugInfo.failResult = ...``: the Deferred's unhandled error."""
    if not isinstance(stmt, ast.Assign) or len(stmt.targets) != 1:
        return False
    target = stmt.targets[0]
    return (
        isinstance(target, ast.Attribute)
        and target.attr == "failResult"
        and isinstance(target.value, ast.Attribute)
        and isinstance(target.value.value, ast.Name)
        and target.value.value.id == "current"
    )


# A plain function that succeeded, already interned: recorded inline;
# anything else goes through the _rt_deferred hook.
_CALLBACK_RAN = f"""\
_rt_s = _rt_sink[0]
if _rt_s is not None:
    _rt_k = (
        _rt_s[1](_rt_id(callback.__code__))
        if _rt_pre is None and _rt_type(callback) is _rt_function
        and _rt_type(current.result) is not _rt_failure
        else None
    )
    if _rt_k is None:
        _rt_deferred(callback, item, _rt_pre, current.result, _rt_t0, None)
    else:
        _rt_s[0](_rt_pack(_rt_t0, _rt_clock(), _rt_k, 0, -1, callback is not item[0][0],
                          {R.DEFERRED}))"""


def run_callbacks() -> list[Spec]:
    """Each callback and errback timed; errors in flight noted where they are set."""
    return [
        Timed(
            is_callback_call, "_rt_deferred", "callback, item, _rt_pre, current.result",
            before="_rt_resumed_at(args) if callback is _rt_resume else None",
            inline=_CALLBACK_RAN,
        ),
        # In the chaining branch and at the end.
        After(is_fail_result, "_rt_fail_result", "current", expected=3),
    ]


# -- ThreadPool.callInThreadWithCallback -----------------------------------------------------


def is_work_call(stmt: ast.stmt) -> bool:
    """``result = inContext.theWork()`` inside the worker's closure."""
    func = _call_to(stmt) if isinstance(stmt, ast.Assign) else None
    return isinstance(func, ast.Attribute) and func.attr == "theWork"


#: When the job was queued: the first thing callInThreadWithCallback does.
JOB_QUEUED = "_rt_queued = _rt_clock()"


def call_in_thread() -> list[Spec]:
    """The job timed on its worker thread."""
    return [Timed(is_work_call, "_rt_job", "{params[2]}, _rt_queued")]


# -- tcp.Connection._dataReceived, FileDescriptor.doWrite ----------------------------------


#: Bytes read, counted first thing (the data is the first parameter).
DATA_RECEIVED = "if {params[1]}:\n    _rt_bytes[0] += _rt_len({params[1]})\n"


def is_offset_advance(stmt: ast.stmt) -> bool:
    """``self.offset += l`` in doWrite: ``l`` bytes were just written."""
    return (
        isinstance(stmt, ast.AugAssign)
        and isinstance(stmt.target, ast.Attribute)
        and stmt.target.attr == "offset"
        and isinstance(stmt.value, ast.Name)
    )


def do_write() -> list[Spec]:
    """Bytes written and still buffered; a producer resumed."""
    return [
        After(is_offset_advance, "", "", inline="_rt_bytes[1] += {value}"),
        # The usual end of a write: everything sent, the buffer emptied.
        After(assigns("dataBuffer", b""), "", "", inline="_rt_bytes[2] = 0"),
        After(assigns("producerPaused", False), "_rt_resumed", "self"),
    ]


# -- FileDescriptor._maybePauseProducer -------------------------------------------------------


def maybe_pause_producer() -> list[Spec]:
    """A record right after the transport paused its producer."""
    return [After(assigns("producerPaused", True), "_rt_paused", "self")]
