"""``reactortrace run --no-tui``: this process becomes the program.

Its pid, its signals and its exit status are then the program's own; the
recording starts inside it, from the bootstrap.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from ..errors import UsageError
from .env import program_environment
from .target import Target


def session_config(target: Target, options: dict[str, Any], pid: int | None) -> dict[str, Any]:
    """What the session in the program is told: ``options`` and who it is."""
    return {**options, "pid": pid, "program": target.name, "argv": target.program_argv()}


def exec_program(target: Target, options: dict[str, Any]) -> None:
    """Become the program (never returns unless exec fails)."""
    env = program_environment(session_config(target, options, os.getpid()))
    argv = target.argv()
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvpe(argv[0], argv, env)
    except OSError as exc:
        raise UsageError(f"cannot run {argv[0]}: {exc.strerror or exc}") from None
