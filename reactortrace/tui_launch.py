"""The commands that open the TUI: ``view``, ``attach``, and ``run`` with the TUI.

Textual is imported here only when a TUI is about to open (``--no-tui`` runs
never load it), and only through :mod:`reactortrace.tui`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from .core.feed import DETACH, Feed
from .errors import UsageError
from .runner import Target, environment

#: What the app returns when the user asks to leave the program running.
#: Seconds of waiting for the program's reactor before saying so.
WAIT_NOTICE = 2.0


def say(message: str) -> None:
    """One line on stderr, from reactortrace (the terminal may be gone: then nothing)."""
    try:
        sys.stderr.write(f"reactortrace: {message}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def require_terminal(command: str) -> None:
    """The TUI needs a terminal on stdin and stdout."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError(f"{command} shows a terminal UI: run it in a terminal")


def show(feed: Feed, title: str | None = None) -> Any:
    """Run the TUI on ``feed`` until the user quits; the app's return value.

    SIGTERM and SIGHUP (the terminal went away) quit the TUI as ``q`` would,
    so whoever called this can still stop or detach the program cleanly.
    """
    from .tui.app import ReactorTraceApp

    app = ReactorTraceApp(feed, title=title)
    try:
        with _quit_on_signals(app.exit):
            app.run()
    finally:
        app.close_feed()
    return app.return_value


@contextmanager
def _quit_on_signals(quit_app: Any) -> Iterator[None]:
    signums = (signal.SIGTERM, signal.SIGHUP)
    previous = {signum: signal.getsignal(signum) for signum in signums}
    for signum in signums:
        signal.signal(signum, lambda *_: quit_app())
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


# -- view and attach ----------------------------------------------------------


def view(path: str) -> int:
    """``reactortrace view TRACE``: replay a recorded trace."""
    from .core.replay import ReplayFeed
    from .core.tracefile import load

    trace = load(path)
    note = f"reactortrace: {path} was cut short; showing the events it holds\n"
    if not trace.complete:
        sys.stderr.write(note)
    require_terminal("view")
    show(ReplayFeed(trace))
    if not trace.complete:
        sys.stderr.write(note)  # again: the TUI's screen hid the first one
    return 0


def attach(target: str) -> int:
    """``reactortrace attach PID|SOCKET``: watch a program started with ``--listen``."""
    from .live.client import LiveFeed
    from .live.paths import resolve_target

    feed = LiveFeed(resolve_target(target))
    try:
        require_terminal("attach")
    except UsageError:
        feed.close()
        raise
    show(feed)
    return 0


# -- run with the TUI ------------------------------------------------------------


def watch(target: Target, options: dict[str, Any], *, detach_on_quit: bool = False) -> int:
    """Run the program as a child under the TUI; its exit status (0 if detached).

    Quitting stops the program (SIGINT, SIGTERM, SIGKILL); with
    ``detach_on_quit`` it is left running and its output goes to a file.
    """
    from .live.child import ChildProgram, ProgramFeed
    from .live.paths import private_dir

    directory = private_dir()
    config = {**options, "listen": directory, "tui": True}
    env = environment(target, config, None)
    env.setdefault("PYTHONUNBUFFERED", "1")  # output lines as they are printed
    child = ChildProgram(target.argv(), env, directory)
    name = os.path.basename(target.name)
    try:
        live = child.connect(on_wait=_wait_notice(name, child.pid))
        if live is None:
            status = child.wait()
            child.close()
            _echo(child.output.take())
            say(f"{name} exited with status {status} before it started a Twisted reactor")
            return status
        try:
            result = show(ProgramFeed(child, live))
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
        status = _stop(child, ended=live.ended)
    except KeyboardInterrupt:  # while waiting for the reactor
        status = child.stop(grace=0.5)
    child.close()
    _echo(child.output.take())
    return status


def _stop(child: Any, *, ended: bool) -> int:
    """Stop the program; a second Ctrl+C kills it at once."""
    from .live.child import GRACE

    try:
        if ended and child.running():
            # Its reactor has stopped: it is writing its trace. Let it finish.
            try:
                return child.wait(GRACE)
            except subprocess.TimeoutExpired:
                pass
        return child.stop(GRACE, say)
    except KeyboardInterrupt:
        return child.stop(grace=0.0)


def _wait_notice(name: str, pid: int) -> Any:
    told = False

    def on_wait(seconds: float) -> None:
        nonlocal told
        if seconds >= WAIT_NOTICE and not told:
            told = True
            say(f"waiting for {name} (pid {pid}) to start a Twisted reactor (Ctrl+C stops it)")

    return on_wait


def _echo(lines: Iterable[str]) -> None:
    """Program output the TUI did not show (it came after the TUI closed)."""
    try:
        for line in lines:
            sys.stdout.write(line + "\n")
        sys.stdout.flush()
    except (OSError, ValueError):
        pass  # the terminal was closed (SIGHUP): nowhere to show them

