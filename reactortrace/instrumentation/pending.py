"""Every Deferred made while recording, held weakly, for the Deferreds view.

The hot path is one hook on ``Deferred.__init__`` that notes, in a plain dict
keyed by ``id()``, a weak reference, the time, and the code that made it (and
the first frame of user code above it). Nothing else happens per Deferred: what
each pending Deferred waits on is worked out only when a snapshot asks for it
(:mod:`.waits`), from the live objects.

Dead entries are swept on the hot path when the dict has doubled since the last
sweep, so the table stays near the number of live Deferreds. Entries are never
removed by other threads: a reader takes a copy (``dict.copy`` holds the GIL
throughout) and tolerates Deferreds changing under it.
"""

from __future__ import annotations

import sys
import weakref
from collections.abc import Callable
from time import perf_counter as _clock
from typing import Any

from twisted.internet import defer, threads

from .callables import callable_key
from .recorder import Part, Recorder
from .rewrite import RewriteError, rewrite
from .shared import disguise, shared_patch
from .sites import internal_code

PART = "deferred-view"

#: id(deferred) -> Entry: (weakref, made at (clock), maker code, user code,
#: user instruction offset, thread-pool job key or None)
Entry = tuple[Any, Any, Any, Any, int, Any]
REGISTRY: dict[int, Entry] = {}
#: How many frames above a Twisted-made Deferred are searched for user code.
USER_FRAMES = 8
#: The table is swept when it grows past this (then set to four times what is left).
_FIRST_LIMIT = 8_192
_limit = [_FIRST_LIMIT]
#: Whether the hook does anything (False when no tracer asks, or once it failed).
_on = [False]
#: Parts of the tracers that keep the registry (the Deferreds view).
_parts: list[Part] = []
#: (part, function(deferred, frame)) told of every Deferred made (--track-deferreds).
_followers: list[tuple[Part, Callable[[Any, Any], None]]] = []

# succeed() and fail() set the result themselves: such a Deferred is born fired.
_BORN_FIRED = (defer.succeed.__code__, defer.fail.__code__)
#: deferToThreadPool: its Deferred is fired by the job it hands the pool.
THREAD_JOB_CODE = threads.deferToThreadPool.__code__
#: id(code) -> whether it is Twisted's or ours, for the code objects met so far
#: (``internal_code`` answers the first time; this saves its call after).
_internal: dict[int, bool] = {}


def sweep() -> None:
    """Forget Deferreds that died or fired (a fired one that pauses again is
    found through the Deferred it then waits on)."""
    done = [
        (key, entry) for key, entry in list(REGISTRY.items())
        if (d := entry[0]()) is None or (d.called and not d.paused)
    ]
    get = REGISTRY.get
    for key, entry in done:
        if get(key) is entry:  # not replaced meanwhile by a new Deferred at that id
            del REGISTRY[key]
    _limit[0] = max(_FIRST_LIMIT, 4 * len(REGISTRY))


def _failed(exc: BaseException) -> None:
    """The registry raised: the view goes off, said once by each tracer's part."""
    for part in _parts:
        if part.on:
            part.fail(exc)
    _parts.clear()
    _refresh()


def _refresh() -> None:
    _on[0] = bool(_parts or _followers)


def _job_key(frame: Any) -> Any:
    """The key of the function deferToThreadPool hands the pool (read once per job)."""
    return callable_key(frame.f_locals.get("f"))


def note(deferred: Any, frame: Any, ref: Any = weakref.ref, clock: Any = _clock,
         internal: Any = _internal, registry: Any = REGISTRY, parts: Any = _parts,
         followers: Any = _followers, limit: Any = _limit, born_fired: Any = _BORN_FIRED,
         job_code: Any = THREAD_JOB_CODE) -> None:
    """Register ``deferred``, made by the code of ``frame``; never raises.

    The hot path: the defaults bind what it reads once, as locals."""
    try:
        code = frame.f_code
        if code is born_fired[0] or code is born_fired[1]:
            return
        if followers:
            for part, follower in followers:
                if part.on:
                    follower(deferred, frame)
        if not parts:
            return
        inside = internal.get(id(code))
        if inside is None:
            inside = internal[id(code)] = internal_code(code)
        user_code, offset = code, frame.f_lasti
        if inside:
            user = frame
            for _ in range(USER_FRAMES):
                user = user.f_back
                if user is None:
                    break
                user_code, offset = user.f_code, user.f_lasti
                if not internal_code(user_code):
                    break
        job = _job_key(frame) if code is job_code else None
        registry[id(deferred)] = (ref(deferred), clock(), code, user_code, offset, job)
        if len(registry) > limit[0]:
            sweep()
    except Exception as exc:  # noqa: BLE001 - never raise into the program
        _failed(exc)


#: What the rewritten ``Deferred.__init__`` runs first.
PROLOGUE = "if _rt_on[0]:\n    _rt_note({params[0]}, _rt_getframe(1))\n"


def _make_init(original: Any) -> Any:
    """``Deferred.__init__`` recompiled with :data:`PROLOGUE` (no frame added),
    or, if Twisted's changed past what the engine accepts, wrapped."""
    getframe, on = sys._getframe, _on
    try:
        hooked = rewrite(original, [], {"_rt_on": on, "_rt_note": note,
                                        "_rt_getframe": getframe}, prologue=PROLOGUE)
    except RewriteError:

        def __init__(self: Any, *args: Any, **kw: Any) -> None:
            original(self, *args, **kw)
            if on[0]:
                note(self, getframe(1))

        return disguise(__init__, original)
    return hooked


def _hook(part: Part) -> None:
    """Hook ``Deferred.__init__`` (once for every tracer and use) while ``part`` is on."""
    shared_patch(part, defer.Deferred, "__init__", _make_init)


def install(rec: Recorder) -> Part:
    """Keep every Deferred made from now on in :data:`REGISTRY` (weakly)."""
    part = rec.part(PART)
    _hook(part)
    _parts.append(part)
    _refresh()

    def release() -> None:
        if part in _parts:
            _parts.remove(part)
        if not _parts:
            REGISTRY.clear()
            _limit[0] = _FIRST_LIMIT
        _refresh()

    part.patcher.on_restore(release)
    return part


def follow(part: Part, follower: Callable[[Any, Any], None]) -> None:
    """Call ``follower(deferred, frame)`` for every Deferred made while ``part``
    is on (``frame``: the code that made it; Deferreds born fired are left out)."""
    _hook(part)
    entry = (part, follower)
    _followers.append(entry)
    _refresh()

    def release() -> None:
        if entry in _followers:
            _followers.remove(entry)
        _refresh()

    part.patcher.on_restore(release)
