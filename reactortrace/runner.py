"""Start a program under recording: ``reactortrace run``.

The program always runs in a fresh interpreter whose ``sitecustomize`` (our
``_bootstrap``) starts the recording; options travel in the environment. Without
the TUI, this process simply becomes the program (``exec``), so its pid, its
signals and its exit status are the program's own.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
from dataclasses import dataclass, field
from typing import Any

from .errors import UsageError

BOOTSTRAP_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_bootstrap")
ENV_CONFIG = "REACTORTRACE_CONFIG"
ENV_PYTHONPATH = "REACTORTRACE_PYTHONPATH"


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
        if self.kind == "module":
            return [self.name, *self.args]
        return [self.name, *self.args]

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


def environment(target: Target, options: dict[str, Any], pid: int | None) -> dict[str, str]:
    """The program's environment: ours, plus the bootstrap and its options."""
    env = dict(os.environ)
    original = env.get("PYTHONPATH", "")
    env[ENV_PYTHONPATH] = original
    env["PYTHONPATH"] = BOOTSTRAP_DIR + (os.pathsep + original if original else "")
    config = dict(options)
    config["pid"] = pid
    config["program"] = target.name
    config["argv"] = target.program_argv()
    env[ENV_CONFIG] = json.dumps(config)
    return env


def exec_program(target: Target, options: dict[str, Any]) -> None:
    """Become the program (never returns unless exec fails)."""
    env = environment(target, options, os.getpid())
    argv = target.argv()
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvpe(argv[0], argv, env)
    except OSError as exc:
        raise UsageError(f"cannot run {argv[0]}: {exc.strerror or exc}") from None
