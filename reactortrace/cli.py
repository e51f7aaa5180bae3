"""The ``reactortrace`` command: argument parsing and one function per command.

Errors the user can fix (a wrong flag, a missing file, a broken trace) are
printed as one line on stderr with exit status 2, never as a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from . import __version__
from .core.diagnose import Thresholds
from .errors import ReactorTraceError, UsageError
from .export import FORMATS
from .runner import Target, exec_program

PROG = "reactortrace"


class _Parser(argparse.ArgumentParser):
    """argparse that raises UsageError instead of printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


# -- run ----------------------------------------------------------------------

_RUN_FLAGS = {
    "--no-tui": "no_tui",
    "--quiet": "quiet",
    "-q": "quiet",
    "--listen": "listen",
    "--detach-on-quit": "detach_on_quit",
    "--track-deferreds": "track_deferreds",
}
_RUN_VALUES = {
    "-o", "--output", "--format", "--slow", "--max-events", "--late", "--pending", "--idle",
}
RUN_USAGE = (
    "reactortrace run [-o FILE] [--format json|jsonl|chrome] [--no-tui] [--listen] "
    "[--detach-on-quit] [--slow MS] [--late MS] [--pending S] [--idle S] "
    "[--track-deferreds] [--max-events N] "
    "(SCRIPT [ARGS...] | -m MODULE [ARGS...] | -- COMMAND [ARGS...])"
)
RUN_HELP = f"""usage: {RUN_USAGE}

Run a Twisted program under reactortrace. In a terminal the live TUI opens
and the program runs as a child process, its output in the Output tab (6).

options:
  -o, --output FILE   write the trace to FILE when the program ends (without
                      the TUI the default is reactortrace-PID.json; with the
                      TUI no trace is written unless -o is given)
  --format FORMAT     json, jsonl (written as the program runs: survives a
                      kill -9) or chrome (Perfetto); default: from the file
                      name (.jsonl, .chrome.json, else json)
  --no-tui            record only: no TUI (the default when not in a terminal);
                      reactortrace becomes the program (same pid and status)
  --listen            serve the live view for 'reactortrace attach PID'
                      (always on with the TUI)
  --detach-on-quit    with the TUI: quitting (q or Ctrl+C) leaves the program
                      running, its output appended to a file; otherwise
                      quitting stops it (SIGINT, SIGTERM after 3 s, then SIGKILL)
  --slow MS           dispatches at least this long are slow: the watchdog
                      takes the blocking stack (default 100)
  --late MS           timers firing this late are late (default 100)
  --pending S         Deferreds unfired (with --track-deferreds) or
                      connections half-closed this long warn (default 10)
  --idle S            connections without data this long are idle (default 60)
  --track-deferreds   record every Deferred made and fired, to find those
                      pending too long (about 3 us more per Deferred)
  --max-events N      events kept in memory (default 1000000)
  -q, --quiet         no messages from reactortrace in the program's output

The exit status is the program's own (128+N if a signal N ended it), also
when quitting the TUI stopped it; 0 when it was left running (detached).
"""


def parse_run(argv: Sequence[str]) -> tuple[dict[str, object], Target]:
    """Split ``run``'s own options from the program and its arguments."""
    options: dict[str, object] = {"no_tui": False, "quiet": False}
    i = 0
    while i < len(argv):
        arg = argv[i]
        name, _, inline = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        if arg == "--":
            if i + 1 >= len(argv):
                raise UsageError("'--' must be followed by a command to run")
            return options, Target("command", argv[i + 1], list(argv[i + 2 :]))
        if arg == "-m":
            if i + 1 >= len(argv):
                raise UsageError("-m needs a module name")
            return options, Target("module", argv[i + 1], list(argv[i + 2 :]))
        if name in _RUN_FLAGS:
            options[_RUN_FLAGS[name]] = True
            i += 1
            continue
        if name in _RUN_VALUES:
            if inline:
                value = inline
                i += 1
            elif i + 1 < len(argv):
                value = argv[i + 1]
                i += 2
            else:
                raise UsageError(f"{name} needs a value")
            _set_run_value(options, name, value)
            continue
        if arg.startswith("-") and arg != "-":
            raise UsageError(f"unknown option for run: {arg}")
        return options, Target("script", arg, list(argv[i + 1 :]))
    raise UsageError(f"nothing to run; usage: {RUN_USAGE}")


def _set_run_value(options: dict[str, object], name: str, value: str) -> None:
    if name in ("-o", "--output"):
        options["output"] = os.path.abspath(value)
    elif name == "--format":
        if value not in FORMATS:
            raise UsageError(f"--format must be one of {', '.join(FORMATS)}, not {value!r}")
        options["format"] = value
    elif name in ("--late", "--pending", "--idle"):
        thresholds = dict(options.get("thresholds") or {})  # type: ignore[call-overload]
        thresholds[name[2:]] = value
        Thresholds.from_options(thresholds)  # refuse a bad value now, in one line
        options["thresholds"] = thresholds
    elif name == "--slow":
        options["slow_ms"] = _number(name, value, float, minimum=0.001)
    elif name == "--max-events":
        options["max_events"] = _number(name, value, int, minimum=1)


def _number(name: str, value: str, kind: Callable[[str], float], minimum: float) -> float:
    try:
        number = kind(value)
    except ValueError:
        raise UsageError(f"{name} takes a number, not {value!r}") from None
    if number < minimum:
        raise UsageError(f"{name} must be at least {minimum:g}")
    return number


def cmd_run(argv: Sequence[str]) -> int:
    """``reactortrace run``: record a program, under the TUI when in a terminal."""
    options, target = parse_run(argv)
    target.check()
    with_tui = not options.pop("no_tui") and sys.stdin.isatty() and sys.stdout.isatty()
    detach_on_quit = bool(options.pop("detach_on_quit", False))
    if not options.get("output") and not with_tui:
        options["output"] = os.path.abspath(f"reactortrace-{os.getpid()}.json")
    if options.get("output") and options.get("format") is None:
        from .export import format_for

        options["format"] = format_for(str(options["output"]))
    if with_tui:
        from .tui_launch import watch

        return watch(target, options, detach_on_quit=detach_on_quit)
    if options.get("listen"):
        from .live.paths import private_dir

        options["listen"] = private_dir()
    exec_program(target, options)
    return 0  # not reached: exec replaced this process


# -- view and attach ------------------------------------------------------------


def cmd_view(argv: Sequence[str]) -> int:
    """``reactortrace view``: the TUI on a recorded trace."""
    parser = _Parser(prog=f"{PROG} view", description="Replay a recorded trace in the TUI.")
    parser.add_argument("trace")
    args = parser.parse_args(argv)
    from .tui_launch import view

    return view(args.trace)


def cmd_attach(argv: Sequence[str]) -> int:
    """``reactortrace attach``: the TUI on a program started with ``--listen``."""
    parser = _Parser(
        prog=f"{PROG} attach",
        description="Watch a program started with 'reactortrace run --listen'.",
    )
    parser.add_argument("target", metavar="PID|SOCKET")
    args = parser.parse_args(argv)
    from .tui_launch import attach

    return attach(args.target)


# -- export -------------------------------------------------------------------


def cmd_export(argv: Sequence[str]) -> int:
    """``reactortrace export``: convert a trace between formats."""
    parser = _Parser(prog=f"{PROG} export", description="Convert a trace between formats.")
    parser.add_argument("trace")
    parser.add_argument("-o", "--output", required=True)
    parser.add_argument("--format", choices=("json", "jsonl", "chrome"))
    args = parser.parse_args(argv)
    from .core.tracefile import load
    from .export import write_trace

    trace = load(args.trace)
    write_trace(
        args.output, trace.meta, trace.events, trace.snapshot, trace.dropped, format=args.format
    )
    if not trace.complete:
        sys.stderr.write(f"reactortrace: {args.trace} was cut short; exported what it holds\n")
    return 0


# -- demo ---------------------------------------------------------------------


def cmd_demo(argv: Sequence[str]) -> int:
    """``reactortrace demo``: the bundled demo program under the live TUI."""
    parser = _Parser(
        prog=f"{PROG} demo",
        description="Run the bundled demo program under the live TUI (or record it only).",
    )
    parser.add_argument("-o", "--output", default="reactortrace-demo.json")
    parser.add_argument("--duration", type=float, default=None)
    parser.add_argument("--no-tui", action="store_true", help="record only")
    parser.add_argument(
        "--detach-on-quit", action="store_true", help="quitting leaves the demo running"
    )
    args = parser.parse_args(argv)
    run_argv = ["-o", args.output]
    if args.no_tui:
        run_argv.append("--no-tui")
    if args.detach_on_quit:
        run_argv.append("--detach-on-quit")
    run_argv += ["-m", "reactortrace.demo"]
    if args.duration is not None:
        run_argv += ["--duration", str(args.duration)]
    return cmd_run(run_argv)


def cmd_summary(argv: Sequence[str]) -> int:
    """``reactortrace summary``: Rich tables (or JSON) of a recorded trace."""
    from .summary import cmd_summary as summary

    return summary(argv)


COMMANDS: dict[str, Callable[[Sequence[str]], int]] = {
    "run": cmd_run,
    "summary": cmd_summary,
    "view": cmd_view,
    "attach": cmd_attach,
    "export": cmd_export,
    "demo": cmd_demo,
}

USAGE = f"""usage: reactortrace COMMAND [ARGS...]

commands:
  run       run a Twisted program under the live TUI (or record it only):
            {RUN_USAGE}
  view      replay a recorded trace in the TUI: reactortrace view TRACE
  attach    watch a program started with --listen: reactortrace attach PID|SOCKET
  summary   tables of a trace: warnings, slowest dispatches, hot callables,
            timer lateness, connections: reactortrace summary TRACE [--json]
  export    convert a trace: reactortrace export TRACE -o OUT [--format json|jsonl|chrome]
  demo      the bundled demo program under the live TUI: reactortrace demo [--no-tui]

reactortrace COMMAND --help shows a command's options. Version {__version__}.
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``reactortrace`` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        sys.stdout.write(USAGE)
        return 0 if args else 2
    if args[0] == "--version":
        sys.stdout.write(f"reactortrace {__version__}\n")
        return 0
    command = COMMANDS.get(args[0])
    try:
        if command is None:
            raise UsageError(f"unknown command {args[0]!r} (try: {', '.join(COMMANDS)})")
        if args[0] == "run" and args[1:2] in (["-h"], ["--help"]):
            sys.stdout.write(RUN_HELP)
            return 0
        return command(args[1:])
    except ReactorTraceError as exc:
        sys.stderr.write(f"reactortrace: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
