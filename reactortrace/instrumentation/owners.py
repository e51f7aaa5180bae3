"""The user's line behind what Twisted does later, on an object's behalf.

A port, connector or ``HostnameEndpoint`` is noted here with the user's line
that made it (``listenTCP``, ``endpoint.connect(...)``). What Twisted does for
it after an asynchronous step (connect once a name is resolved, arm a
protocol's ``TimeoutMixin`` timer for an accepted connection) has no user
frame on the stack; the objects on the stack (each frame's ``self``, and a
protocol's transport) still say whose it is.
"""

from __future__ import annotations

import weakref
from typing import Any

from .sites import LIMIT, LOOP_NAMES

#: Port, connector or endpoint -> (code, offset) of the user's line that made it
#: (``(None, -1)``: made before the tracer came, where is not known).
MADE_AT: "weakref.WeakKeyDictionary[Any, tuple[Any, int]]" = weakref.WeakKeyDictionary()


def _noted(obj: Any) -> tuple[Any, int] | None:
    try:
        return MADE_AT.get(obj)
    except TypeError:  # not weakly referable: not one of ours
        return None


def _attribute(obj: Any, name: str) -> Any:
    """``obj.name`` from its instance dict only: no property or ``__getattr__``
    of the program's runs for a look like this."""
    try:
        values = object.__getattribute__(obj, "__dict__")
    except AttributeError:
        return None
    return values.get(name) if type(values) is dict else None


def recorded_site(selectable: Any) -> tuple[Any, int] | None:
    """The site noted for a port or connection, its connector's, or its port's
    (an accepted connection); None if none is noted."""
    for owner in (
        selectable, _attribute(selectable, "connector"), _attribute(selectable, "server")
    ):
        found = _noted(owner) if owner is not None else None
        if found is not None:
            return found
    return None


def owner_site(frame: Any) -> tuple[Any, int] | None:
    """The site of the nearest object on the stack (a frame's ``self``, or the
    transport of a protocol that is one) whose making the user's code asked
    for; the walk stops at the reactor's loop. None if there is none."""
    for _ in range(LIMIT):
        if frame is None or frame.f_code.co_name in LOOP_NAMES:
            break
        owner = frame.f_locals.get("self")
        if owner is not None:
            found = _noted(owner)
            if found is None:
                transport = _attribute(owner, "transport")
                found = recorded_site(transport) if transport is not None else None
            if found is not None and found[0] is not None:
                return found
        frame = frame.f_back
    return None
