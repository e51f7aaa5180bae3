"""Text from a trace made safe to show: no control characters reach a terminal.

A trace may be crafted: a callable name holding ``ESC ] 2 ; ... BEL`` would
retitle the terminal that prints it, ``ESC [ 2 J`` clear it, a carriage return
overwrite what was said. Every string read from a trace file or a live stream
goes through :func:`printable`, which shows such characters as visible escapes
(``\\x1b``, ``\\r``, ``\\u202e``) instead. Rich markup is a separate matter:
the UI and the text report show these strings as plain ``Text``, never as markup.
"""

from __future__ import annotations

from typing import Any

_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r", "\\": "\\\\"}


def _escape(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(text: str) -> str:
    """``text`` with every non-printable character (C0, DEL, C1, bidi and other
    format controls, unassigned) replaced by a visible escape.

    Printable text is returned as it is (the common case costs one check).
    A backslash is doubled only in text that had something to escape, so an
    escape shown can be told from the same characters typed.
    """
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() and char != "\\" else _escape(char) for char in text)


def printable_all(value: Any, depth: int = 0) -> Any:
    """``value`` (JSON data) with :func:`printable` applied to every string in it."""
    if type(value) is str:
        return printable(value)
    if depth > 64:
        return value
    if type(value) is dict:
        return {printable(str(k)): printable_all(v, depth + 1) for k, v in value.items()}
    if type(value) is list:
        return [printable_all(v, depth + 1) for v in value]
    return value


def printable_args(args: dict[str, Any]) -> dict[str, Any]:
    """``args`` of an event, its strings (and lists of strings) made printable in place."""
    for key, value in args.items():
        if type(value) is str:
            if not value.isprintable():
                args[key] = printable(value)
        elif type(value) is list:
            args[key] = [printable(v) if type(v) is str else v for v in value]
    return args

