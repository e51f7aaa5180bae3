"""Turn the cheap keys recorded on the hot path into readable names.

The recorder stores a code object, a class or a ready string for each callable
(never the callable itself, which could keep the program's objects alive).
Names are resolved here, later and off the reactor thread, and cached.
"""

from __future__ import annotations

import os
import sys
import types
from typing import Any

_module_of_file: dict[str, str] = {}
_names: dict[int, tuple[Any, str]] = {}
_aliases: dict[int, tuple[Any, Any]] = {}


def alias(key: Any, stands_for: Any) -> None:
    """Name ``key`` (a wrapper's code) as ``stands_for`` (what it wraps)."""
    _aliases[id(key)] = (key, stands_for)


def _unalias(key: Any) -> Any:
    entry = _aliases.get(id(key))
    return entry[1] if entry is not None and entry[0] is key else key


def module_for_file(filename: str) -> str:
    """The dotted module name of a source file, or its stem if unknown."""
    name = _module_of_file.get(filename)
    if name is None:
        for mod_name, module in list(sys.modules.items()):
            if getattr(module, "__file__", None) == filename:
                name = mod_name
                break
        else:
            name = os.path.splitext(os.path.basename(filename))[0]
        _module_of_file[filename] = name
    return name


def key_name(key: Any) -> str:
    """A qualified name for a recorded callable key."""
    if isinstance(key, str):
        return key
    key = _unalias(key)
    cached = _names.get(id(key))
    if cached is not None and cached[0] is key:
        return cached[1]
    if isinstance(key, types.CodeType):
        module = module_for_file(key.co_filename)
        name = f"{module}.{key.co_qualname}" if module != "__main__" else key.co_qualname
    elif isinstance(key, type):
        name = f"{key.__module__}.{key.__qualname__}"
        if key.__module__ == "builtins":
            name = key.__qualname__
    elif key is None:
        name = "?"
    elif hasattr(key, "__qualname__"):
        owner = getattr(key, "__objclass__", None)
        home = getattr(key, "__module__", None) or getattr(owner, "__module__", None)
        name = key.__qualname__
        if home and home != "builtins":
            name = f"{home}.{name}"
    else:
        name = repr(key)
    _names[id(key)] = (key, name)
    return name


def class_name(cls: Any) -> str | None:
    """``module.Class`` for a class, None for None."""
    if cls is None:
        return None
    return key_name(cls) if isinstance(cls, type) else str(cls)


_lines: dict[int, tuple[types.CodeType, dict[int, int]]] = {}


def line_at(code: types.CodeType, offset: int) -> int:
    """The source line of the instruction at ``offset`` (an ``f_lasti``) in ``code``."""
    cached = _lines.get(id(code))
    if cached is None or cached[0] is not code:
        table: dict[int, int] = {}
        for start, end, line in code.co_lines():
            if line is not None:
                for at in range(start, end, 2):
                    table[at] = line
        cached = _lines[id(code)] = (code, table)
    return cached[1].get(offset, code.co_firstlineno)


def site(code: types.CodeType | None, offset: int | None) -> str | None:
    """``file:line`` for a code object and an instruction offset (``f_lasti``)."""
    if code is None:
        return None
    line = line_at(code, offset) if offset is not None and offset >= 0 else code.co_firstlineno
    return f"{code.co_filename}:{line}"


def definition_site(key: Any) -> str | None:
    """Where a callable key was defined, if it is Python code."""
    key = _unalias(key)
    if isinstance(key, types.CodeType):
        return f"{key.co_filename}:{key.co_firstlineno}"
    return None
