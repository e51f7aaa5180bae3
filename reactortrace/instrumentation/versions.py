"""What differs between the Twisted releases reactortrace accepts, found out once.

Every fact here is probed from the installed Twisted, never assumed from a
version number, and each probe has a fallback that keeps recording (with a
name less precise, say) when the fact cannot be found:

- ``Deferred``'s chain of callbacks is ``_callbacks`` from 25.5, ``callbacks``
  before (25.5 keeps a deprecated ``callbacks`` property: never touch it);
- ``deferLater``'s inner ``cb`` holds the user's callable in a closure cell
  named ``callable``;
- asyncio's ``callFromThread`` schedules a ``lambda`` through ``callLater``;
- ``inlineCallbacks`` resumes through ``_gotResultInlineCallbacks``, whose
  arguments hold the generator and its ``_CancellationStatus`` (``deferred``:
  the Deferred its caller holds, ``waitingOn``: the one it waits on);
- a Deferred chained to another (a callback returned it) waits through a
  ``_CONTINUE`` entry in the other's callbacks;
- the reactor's wakers provide ``twisted.internet._signals._IWaker``.

``callLater``'s parameter names (asyncio's were ``seconds, f`` before 26.10,
``delay, callable`` since) need no probe here: :mod:`.specs` reads them from
the function it rewrites.
"""

from __future__ import annotations

import types
from typing import Any

from twisted.internet import asyncioreactor, defer, task


def _inner_code(function: Any, name: str) -> types.CodeType | None:
    """The code object of the function ``name`` defined inside ``function``."""
    code = getattr(function, "__code__", None)
    for const in getattr(code, "co_consts", ()):
        if isinstance(const, types.CodeType) and const.co_name == name:
            return const
    return None


def _chain_attribute() -> str | None:
    fresh: defer.Deferred[None] = defer.Deferred()
    for name in ("_callbacks", "callbacks"):
        if isinstance(vars(fresh).get(name), list):
            return name
    return None


#: The instance attribute holding a Deferred's callbacks (None: not found).
DEFERRED_CHAIN: str | None = _chain_attribute()
#: ``deferLater``'s inner function, and the name of its cell with the callable.
DEFER_LATER_CODE: types.CodeType | None = _inner_code(task.deferLater, "cb")
DEFER_LATER_CELL = "callable"
#: The lambda asyncio's ``callFromThread`` hands to ``callLater``.
ASYNCIO_FROM_THREAD: types.CodeType | None = _inner_code(
    asyncioreactor.AsyncioSelectorReactor.callFromThread, "<lambda>"
)
#: The callback through which ``inlineCallbacks`` resumes a generator.
INLINE_RESUME: Any = getattr(defer, "_gotResultInlineCallbacks", None)
#: The class of ``inlineCallbacks``' status (None: not found).
INLINE_STATUS: Any = getattr(defer, "_CancellationStatus", None)
#: The marker of a chained Deferred's entry in the callbacks it waits on.
CONTINUE: Any = getattr(defer, "_CONTINUE", None)


def _waker_interface() -> Any:
    try:
        from twisted.internet import _signals
    except ImportError:
        return None
    interface = getattr(_signals, "_IWaker", None)
    return interface if hasattr(interface, "providedBy") else None


#: The interface the reactor's own wakers provide (None: tell them by class name).
WAKER: Any = _waker_interface()


def deferred_chain(deferred: Any) -> list[Any]:
    """The callbacks waiting on ``deferred`` (empty if unknown)."""
    if DEFERRED_CHAIN is None:
        return []
    chain = vars(deferred).get(DEFERRED_CHAIN)
    return chain if isinstance(chain, list) else []


def is_waker(selectable: Any) -> bool:
    """Whether ``selectable`` is one of the reactor's wakers."""
    if WAKER is not None:
        return bool(WAKER.providedBy(selectable))
    return "Waker" in type(selectable).__name__


def facts() -> dict[str, Any]:
    """What was found, for ``reactortrace doctor``."""
    return {
        "deferred chain": DEFERRED_CHAIN,
        "deferLater callable": DEFER_LATER_CODE is not None,
        "asyncio callFromThread": ASYNCIO_FROM_THREAD is not None,
        "inlineCallbacks resume": INLINE_RESUME is not None,
        "inlineCallbacks status": INLINE_STATUS is not None,
        "chained Deferred marker": CONTINUE is not None,
        "waker interface": None if WAKER is None else f"{WAKER.__module__}.{WAKER.__name__}",
    }
