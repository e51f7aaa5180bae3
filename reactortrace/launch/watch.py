"""``reactortrace run`` under the TUI: the program as a child process, watched live.

Quitting stops the program (SIGINT, SIGTERM, SIGKILL); with ``detach_on_quit``
(or the detach key) it is left running and its output goes to a file.
Textual is imported only when the TUI opens, through :mod:`reactortrace.tui`.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterable
from typing import Any

from ..core.feed import DETACH
from ..say import say
from ..tui.run import UIFailed, show
from .env import program_environment
from .program import session_config
from .target import Target

#: Seconds of waiting for the program's reactor before saying so.
WAIT_NOTICE = 2.0


def watch(target: Target, options: dict[str, Any], *, detach_on_quit: bool = False,
          history: float | None = None) -> int:
    """Run the program as a child under the TUI; its exit status (0 if detached).
    ``history``: minutes of events the event log keeps (None: its default)."""
    from ..live.paths import private_dir
    from .child import ChildProgram, ProgramFeed

    directory = private_dir()
    config = session_config(target, {**options, "listen": directory, "tui": True}, None)
    env = program_environment(config)
    env.setdefault("PYTHONUNBUFFERED", "1")  # output lines as they are printed
    name = target.label
    child = ChildProgram(target.argv(), env, directory, name)
    try:
        live = child.connect(on_wait=_wait_notice(name, child.pid))
        if live is None:
            status = child.wait()
            child.close()
            _echo(child.output.take())
            say(f"{name} exited with status {status} before it started a Twisted reactor")
            return status
        feed = ProgramFeed(child, live)
        try:
            result = show(feed, history=history)
        except UIFailed as exc:
            # The program is not to blame: it goes on, as on a detaching quit.
            if child.running():
                path = child.detach()
                say(f"{exc}; {name} (pid {child.pid}) goes on running, its output in {path}; "
                    f"watch it again with: reactortrace attach {child.pid}")
            else:
                say(str(exc))
            return 1
        except BaseException:
            child.stop(grace=0.5)
            raise
        if (detach_on_quit or result == DETACH) and child.running():
            path = child.detach()
            say(
                f"{name} (pid {child.pid}) goes on running; its output goes to {path}; "
                f"watch it again with: reactortrace attach {child.pid}"
            )
            return 0
        _echo(feed.shown)  # what the Output tab showed stays in the terminal
        if child.running():  # the viewer waited for a blocked program unless it was killed
            _say_if_blocked(name, live.latest.blocked)
        status = _stop(child, ended=live.ended)
    except KeyboardInterrupt:  # while waiting for the reactor
        status = child.stop(grace=0.5)
    child.close()
    _echo(child.output.take())
    return status


def _stop(child: Any, *, ended: bool) -> int:
    """Stop the program; a second Ctrl+C kills it at once."""
    from .child import GRACE

    try:
        if ended and child.running():
            # Its reactor has stopped: it is writing its trace. Let it finish.
            try:
                return int(child.wait(GRACE))
            except subprocess.TimeoutExpired:
                pass
        return int(child.stop(GRACE, say))
    except KeyboardInterrupt:
        return int(child.stop(grace=0.0))


def _say_if_blocked(name: str, blocked: Any) -> None:
    """Quitting while the reactor is stuck: say what happens while the user waits."""
    if blocked is None:
        return
    from ..core.units import duration

    say(f"{name} is blocked in {blocked.name} ({duration(blocked.elapsed)} so far): "
        f"it writes its trace first, then is stopped (SIGINT, SIGTERM, SIGKILL); "
        f"Ctrl+C kills it now")


def _wait_notice(name: str, pid: int) -> Callable[[float], None]:
    told = False

    def on_wait(seconds: float) -> None:
        nonlocal told
        if seconds >= WAIT_NOTICE and not told:
            told = True
            say(f"waiting for {name} (pid {pid}) to start a Twisted reactor (Ctrl+C stops it)")

    return on_wait


def _echo(lines: Iterable[str]) -> None:
    """Program output lines, printed in the terminal (those the TUI showed, once
    it has closed, and those that came after)."""
    try:
        for line in lines:
            sys.stdout.write(line + "\n")
        sys.stdout.flush()
    except (OSError, ValueError):
        pass  # the terminal was closed (SIGHUP): nowhere to show them
