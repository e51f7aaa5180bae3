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

import inspect
import itertools
import sys
import weakref
from time import perf_counter as _clock
from typing import Any

from twisted.internet import defer, threads

from .callables import callable_key
from .recorder import Part, Recorder
from .shared import disguise, shared_patch
from .sites import internal_code

PART = "deferred-view"

#: id(deferred) -> Entry: (weakref, made at (clock), serial, maker code,
#: user code, user instruction offset, thread-pool job key or None)
Entry = tuple[Any, float, int, Any, Any, int, Any]
REGISTRY: dict[int, Entry] = {}
#: Ids handed out in order: the view's "#12".
SERIALS = itertools.count(1)
#: How many frames above a Twisted-made Deferred are searched for user code.
USER_FRAMES = 8
#: The table is swept when it grows past this (then set to twice what is left).
_FIRST_LIMIT = 4_096
_limit = [_FIRST_LIMIT]
#: Whether the hook records (False once it failed, or when no tracer asks).
_on = [False]
_parts: list[Part] = []
#: id() of the code of our hooks on ``Deferred.__init__`` (other hooks skip their frames).
HOOK_CODES: set[int] = set()

# succeed() and fail() set the result themselves: such a Deferred is born fired.
_SUCCEED = defer.succeed.__code__
_FAIL = defer.fail.__code__
#: deferToThreadPool: its Deferred is fired by the job it hands the pool.
THREAD_JOB_CODE = threads.deferToThreadPool.__code__


def sweep() -> None:
    """Forget Deferreds that died or fired (a fired one that pauses again is
    found through the Deferred it then waits on)."""
    for key, entry in list(REGISTRY.items()):
        deferred = entry[0]()
        if deferred is None or (deferred.called and not deferred.paused):
            if REGISTRY.get(key) is entry:
                del REGISTRY[key]
    _limit[0] = max(_FIRST_LIMIT, 2 * len(REGISTRY))


def _failed(exc: BaseException) -> None:
    """The hook raised: the view goes off, said once by each tracer's part."""
    _on[0] = False
    for part in _parts:
        if part.on:
            part.fail(exc)


def _job_key(frame: Any) -> Any:
    """The key of the function deferToThreadPool hands the pool (read once per job)."""
    return callable_key(frame.f_locals.get("f"))


def note(deferred: Any, frame: Any) -> None:
    """Register ``deferred``, made by the code of ``frame``."""
    code = frame.f_code
    if code is _SUCCEED or code is _FAIL:
        return
    user = frame
    for _ in range(USER_FRAMES):
        if not internal_code(user.f_code):
            break
        above = user.f_back
        if above is None:
            break
        user = above
    job = _job_key(frame) if code is THREAD_JOB_CODE else None
    REGISTRY[id(deferred)] = (
        weakref.ref(deferred), _clock(), next(SERIALS), code, user.f_code, user.f_lasti, job,
    )
    if len(REGISTRY) > _limit[0]:
        sweep()


def _plain_signature(original: Any) -> bool:
    """Whether ``original`` is ``__init__(self, canceller=None)``, as in every
    release we accept (the hook then avoids packing ``*args, **kw``)."""
    try:
        parameters = list(inspect.signature(original).parameters.values())
    except (TypeError, ValueError):
        return False
    return [(p.name, p.kind, p.default) for p in parameters] == [
        ("self", inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.empty),
        ("canceller", inspect.Parameter.POSITIONAL_OR_KEYWORD, None),
    ]


def _make_init(original: Any) -> Any:
    getframe, on = sys._getframe, _on

    if _plain_signature(original):

        def __init__(self: Any, canceller: Any = None) -> None:
            original(self, canceller)
            if on[0]:
                try:
                    note(self, getframe(1))
                except Exception as exc:  # noqa: BLE001 - never raise into the program
                    _failed(exc)

    else:

        def __init__(self: Any, *args: Any, **kw: Any) -> None:  # type: ignore[misc]
            original(self, *args, **kw)
            if on[0]:
                try:
                    note(self, getframe(1))
                except Exception as exc:  # noqa: BLE001
                    _failed(exc)

    HOOK_CODES.add(id(__init__.__code__))
    return disguise(__init__, original)


def install(rec: Recorder) -> Part:
    """Keep every Deferred made from now on in :data:`REGISTRY` (weakly)."""
    part = rec.part(PART)
    shared_patch(part, defer.Deferred, "__init__", _make_init)
    _parts.append(part)
    _on[0] = True

    def release() -> None:
        if part in _parts:
            _parts.remove(part)
        if not _parts:
            _on[0] = False
            REGISTRY.clear()
            _limit[0] = _FIRST_LIMIT

    part.patcher.on_restore(release)
    return part
