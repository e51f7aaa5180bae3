"""Cheap keys for callables, taken on the reactor thread.

A key is a code object (functions and methods), a class, or a builtin function
or method descriptor: always an object that lives as long as the program, never
the callable's instance or closure, so it can be interned by identity. Wrappers that Twisted puts
around user code (LoopingCall, deferLater, partial) are seen through.
"""

from __future__ import annotations

import functools
import types
from typing import Any

from twisted.internet import defer, task

from . import versions

_FUNCTION = types.FunctionType
_METHOD = types.MethodType
_BUILTIN = types.BuiltinFunctionType
_LOOPING = task.LoopingCall
_PARTIAL = functools.partial
_DEFERRED_CALLBACK = defer.Deferred.callback


def callable_key(func: Any, depth: int = 0) -> Any:
    """The key that names ``func`` in a trace."""
    kind = type(func)
    if kind is _FUNCTION:
        wrapped = func.__dict__.get("__wrapped__")  # a decorator's wrapper
        if wrapped is not None and depth < 5:
            return callable_key(wrapped, depth + 1)
        return func.__code__
    if kind is _METHOD:
        inner = func.__func__
        if inner is _DEFERRED_CALLBACK:
            return _deferred_target(func.__self__, depth)
        return callable_key(inner, depth + 1) if depth < 5 else kind
    if kind is _LOOPING:
        return callable_key(func.f, depth + 1) if depth < 5 else kind
    if kind is _PARTIAL:
        return callable_key(func.func, depth + 1) if depth < 5 else kind
    if kind is _BUILTIN:
        # A bound builtin method holds its instance: key it by the unbound one.
        owner = getattr(func, "__self__", None)
        if owner is not None and not isinstance(owner, types.ModuleType):
            return getattr(type(owner), func.__name__, kind)
        return func
    if isinstance(func, type):
        return func
    return kind


def _deferred_target(deferred: Any, depth: int) -> Any:
    """Name ``deferLater``'s timer by the user's callable, not Deferred.callback."""
    callbacks = versions.deferred_chain(deferred)
    if callbacks:
        first = callbacks[0][0][0]
        code = versions.DEFER_LATER_CODE
        if getattr(first, "__code__", None) is code and code is not None and first.__closure__:
            cells = dict(zip(code.co_freevars, first.__closure__))
            target = cells.get(versions.DEFER_LATER_CELL)
            if target is not None:
                try:
                    value = target.cell_contents
                except ValueError:
                    value = None
                if value is not None and depth < 5:
                    return callable_key(value, depth + 1)
    return _DEFERRED_CALLBACK.__code__
