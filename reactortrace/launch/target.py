"""What ``reactortrace run`` starts: a script, a module, or a command."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
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
        elif shutil.which(self.name) is None:
            raise UsageError(f"command not found: {self.name}")
