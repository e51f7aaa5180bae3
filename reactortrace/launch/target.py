"""What ``reactortrace run`` starts: a script, a module, or a command."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..errors import UsageError


@dataclass
class Target:
    """What to run: a script, a module, or a command."""

    kind: str  # "script", "module" or "command"
    name: str
    args: list[str] = field(default_factory=list)

    def argv(self) -> list[str]:
        """The command line that runs it."""
        if self.kind == "script":
            return [sys.executable, self.name, *self.args]
        if self.kind == "module":
            return [sys.executable, "-m", self.name, *self.args]
        return [self.name, *self.args]

    def program_argv(self) -> list[str]:
        """``sys.argv`` as the program will see it (for the trace's meta)."""
        return [self.name, *self.args]

    @property
    def label(self) -> str:
        """How messages name the program: the script's or command's name, or the module."""
        return os.path.basename(self.name) if self.kind != "module" else self.name

    def check(self) -> None:
        """Refuse, in one line, what cannot be started."""
        if self.kind == "script":
            if not os.path.exists(self.name):
                raise UsageError(f"no such script: {self.name}")
            if os.path.isdir(self.name) and not os.path.exists(
                os.path.join(self.name, "__main__.py")
            ):
                raise UsageError(f"{self.name} is a directory without __main__.py")
        elif self.kind == "module":
            sys.path.insert(0, os.getcwd())
            try:
                spec = importlib.util.find_spec(self.name)
            except (ImportError, ValueError) as exc:
                raise UsageError(f"cannot find module {self.name}: {exc}") from None
            finally:
                sys.path.pop(0)
            if spec is None:
                raise UsageError(f"no module named {self.name}")
        else:
            found = shutil.which(self.name)
            if found is None:
                raise UsageError(f"command not found: {self.name}")
            _refuse_isolated(self.name, self.args, found)


#: Options of Python after which it reads no PYTHONPATH or sitecustomize.
_ISOLATING = "IES"
_PYTHON = re.compile(r"python[0-9.]*$")


def _refuse_isolated(name: str, args: Sequence[str], found: str) -> None:
    """A Python started with -I, -E or -S (on its command line or in its
    script's ``#!`` line) never runs the bootstrap: refuse rather than run it
    untraced."""
    if _PYTHON.match(os.path.basename(name)):
        option = isolating_option(args)
    else:
        interpreter = _shebang(found)
        is_python = bool(interpreter) and _PYTHON.match(os.path.basename(interpreter[0]))
        option = isolating_option(interpreter[1:]) if is_python else None
    if option is not None:
        raise UsageError(
            f"{name} runs Python with {option}, which skips PYTHONPATH or sitecustomize, "
            f"where reactortrace starts recording: run it without {option}"
        )


def isolating_option(args: Sequence[str]) -> str | None:
    """The first of -I, -E, -S among Python's own options in ``args``, if any."""
    words = iter(args)
    for arg in words:
        if arg.startswith("--"):
            if arg == "--check-hash-based-pycs":
                next(words, None)  # its value
            continue
        if arg == "-" or not arg.startswith("-"):
            return None  # the script: its own arguments follow
        for index, letter in enumerate(arg[1:], 1):
            if letter in _ISOLATING:
                return f"-{letter}"
            if letter in "cm":
                return None  # the program's own arguments follow
            if letter in "WX":
                if index == len(arg) - 1:
                    next(words, None)  # its value is the next argument
                break
    return None


def _shebang(path: str) -> list[str]:
    """The interpreter of the script at ``path`` and its options, from its ``#!``
    line (through ``env``); empty if it has none."""
    try:
        with open(path, "rb") as script:
            line = script.readline(256)
    except OSError:
        return []
    if not line.startswith(b"#!"):
        return []
    words = line[2:].decode(errors="replace").split()
    if words and os.path.basename(words[0]) == "env":
        words = words[1:]
        while words and words[0].startswith("-"):
            words = words[1:]  # env's own options (-S)
    return words
