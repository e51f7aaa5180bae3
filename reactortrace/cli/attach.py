"""``reactortrace attach PID|SOCKET``: the TUI on a running program, or a recording.

A pid of a program not started by reactortrace is attached to by injection
(see :mod:`reactortrace.inject`); quitting detaches. A program that already
serves a live socket (``run --listen``, or attached by another viewer) is
watched through it.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Sequence

from ..core.units import S
from ..errors import UsageError
from . import options as opts

DESCRIPTION = """\
Watch a running Twisted program live: one started with 'reactortrace run
--listen', or any Python process running a Twisted reactor, by its pid
(injected with gdb; quitting detaches and leaves it as it was)."""


def build_parser() -> opts.Parser:
    parser = opts.parser("attach", DESCRIPTION, epilog=opts.DURATIONS_EPILOG)
    parser.add_argument("target", metavar="PID|SOCKET")
    opts.add(parser, "output", help=(
        "write what was recorded to FILE when detaching (written by the program itself)"))
    opts.add(parser, "format")
    opts.add(parser, "no_tui", help="no terminal UI: record, then detach (needs a pid)")
    parser.add_argument("--duration", metavar="S", type=opts.duration_in(S, "--duration"),
                        help="with --no-tui: detach after this long (default: when the "
                             "program ends, or on Ctrl+C)")
    opts.add(parser, "slow", "history")
    return parser


def main(argv: Sequence[str]) -> int:
    """Watch or record a running program."""
    args = build_parser().parse_args(argv)
    if args.duration is not None and not args.no_tui:
        raise UsageError("--duration goes with --no-tui")
    if not args.target.isdigit():
        if args.no_tui or args.output:
            raise UsageError("--no-tui and -o need a pid, not a socket")
        return _watch_socket(args.target, args.history)
    pid = int(args.target)
    if args.output:
        from ..formats import format_for
        from ..formats.files import check_output

        check_output(args.output)
        args.format = args.format or format_for(args.output)
    elif args.no_tui:
        args.output = os.path.abspath(f"reactortrace-{pid}.json")
        args.format = args.format or "json"
    from ..inject.attacher import Blocked, attach
    from ..inject.process import inspect

    inspect(pid)  # a wrong pid is said before anything else
    if not args.no_tui:
        from ..tui.run import require_terminal

        require_terminal("attach")

    try:
        attached = attach(pid, output=args.output, format=args.format, slow_ms=args.slow)
    except Blocked as exc:
        sys.stdout.write("".join(f"{line}\n" for line in exc.stack))
        sys.stdout.flush()
        raise
    if not attached.injected and (args.no_tui or args.output):
        # Served already (run --listen, or attached by someone else): the
        # program's recording comes over its socket, on request.
        return _save_served(attached.socket, args)
    try:
        if args.no_tui:
            _record(attached, args.duration)
        else:
            _show(attached, args.history)
        if args.output and attached.written is None:
            _said(attached.write())
    finally:
        attached.detach()
    return 0


def _watch_socket(path: str, history: float | None) -> int:
    from ..live.paths import resolve_target

    return _show_path(resolve_target(path), history)


def _show(attached: object, history: float | None) -> None:
    from ..inject.attacher import Attached

    assert isinstance(attached, Attached)
    _show_path(attached.socket, history)


def _show_path(path: str, history: float | None) -> int:
    from ..live.client import LiveFeed
    from ..say import say
    from ..tui.run import UIFailed, require_terminal, show

    feed = LiveFeed(path)
    try:
        require_terminal("attach")
    except UsageError:
        feed.close()
        raise
    try:
        show(feed, history=history)
    except UIFailed as exc:
        say(f"{exc}; the program goes on")
        return 1
    return 0


def _save_served(path: str, args: object) -> int:
    """Watch (or, with --no-tui, wait --duration), then ask the program serving
    ``path`` for its whole recording and write it to ``-o``."""
    from ..formats import write
    from ..live.client import LiveFeed
    from ..say import say

    status = 0
    if not getattr(args, "no_tui"):
        status = _show_path(path, getattr(args, "history"))
    elif getattr(args, "duration"):
        try:
            time.sleep(getattr(args, "duration"))
        except KeyboardInterrupt:
            pass
    output, fmt = getattr(args, "output"), getattr(args, "format")
    feed = LiveFeed(path)
    try:
        trace = feed.save_trace()
    finally:
        feed.close()
    write(trace, output, fmt)
    dropped = f", {trace.dropped} dropped" if trace.dropped else ""
    say(f"wrote {output} ({len(trace.events)} events{dropped})")
    return status


def _record(attached: object, duration: float | None) -> None:
    """Let the program run, recorded, for ``duration`` seconds (or until it ends)."""
    from ..inject.attacher import Attached
    from ..say import say

    assert isinstance(attached, Attached)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    deadline = None if duration is None else time.monotonic() + duration
    try:
        say(f"attached to process {attached.pid}; recording"
            + (f" for {duration:g} s" if duration else " until it ends or Ctrl+C"))
        while not attached.ended:
            left = 1.0 if deadline is None else min(1.0, deadline - time.monotonic())
            if left <= 0:
                break
            report = attached.poll(left)
            if report is not None and report.get("state") in ("wrote", "write-failed"):
                _said(report)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM ends a headless recording as Ctrl+C does: written, then detached."""
    raise KeyboardInterrupt


def _said(report: dict[str, object]) -> None:
    from ..say import say

    if report.get("state") == "write-failed":
        say(f"could not write {report.get('path')}: {report.get('reason')}")
    elif report.get("path"):
        dropped = f", {report['dropped']} dropped" if report.get("dropped") else ""
        say(f"wrote {report['path']} ({report.get('events')} events{dropped})")
