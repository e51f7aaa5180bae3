"""``reactortrace run``: run a Twisted program under the live TUI, or record it only."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

from ..errors import UsageError
from ..launch.target import Target
from . import options as opts

USAGE = (
    "reactortrace run [OPTIONS] (SCRIPT [ARGS...] | -m MODULE [ARGS...] | -- COMMAND [ARGS...])"
)
DESCRIPTION = """\
Run a Twisted program under reactortrace. In a terminal the live TUI opens
and the program runs as a child process, its output in the Output tab (6).
Without the TUI (--no-tui, or when not in a terminal) reactortrace becomes
the program: same pid, signals and exit status."""
EPILOG = f"""\
{opts.DURATIONS_EPILOG}

The exit status is the program's own (128+N if a signal N ended it), also
when quitting the TUI stopped it; 0 when it was left running (detached)."""


def build_parser() -> tuple[opts.Parser, dict[str, bool]]:
    """The parser of run's own options, and which of its flags take a value."""
    parser = opts.parser("run", DESCRIPTION, usage=USAGE, epilog=EPILOG)
    takes = opts.add(parser, "output", help=(
        "write the trace to FILE when the program ends (without the TUI the default is "
        "reactortrace-PID.json; with the TUI no trace is written unless -o is given)"
    ))
    takes.update(opts.add(parser, "format"))
    takes.update(opts.add(parser, "redact", help=(
        "write the trace fit to share: argv after the program's name, the host name, "
        "directories of paths, network addresses (hashed) and object ids removed"
    )))
    takes.update(opts.add(parser, "no_tui", help=(
        "record only: no TUI (the default when not in a terminal); reactortrace becomes "
        "the program (same pid and status)"
    )))
    takes.update(_add(parser, "--listen", action="store_true",
                      help="serve the live view for 'reactortrace attach PID' "
                           "(always on with the TUI)"))
    takes.update(opts.add(parser, "detach_on_quit", "history", *opts.THRESHOLDS))
    takes.update(_add(parser, "--track-deferreds", action="store_true",
                      help="record every Deferred made and fired, to find those pending "
                           "too long (about 3 us more per Deferred)"))
    takes.update(_add(parser, "--deferred-view", action="store_true",
                      help="list the pending Deferreds and what each waits on (Deferreds "
                           "tab, snapshot, summary; about 1.7 us more per Deferred; "
                           "on with --track-deferreds)"))
    takes.update(_add(parser, "--max-events", metavar="N",
                      type=opts.whole_number("--max-events"),
                      help="events kept in memory (default 1000000)"))
    takes.update(opts.add(parser, "metrics", "otlp"))
    takes.update(_add(parser, "-q", "--quiet", action="store_true",
                      help="no messages from reactortrace in the program's output"))
    return parser, takes


def _add(parser: opts.Parser, *flags: str, **kwargs: Any) -> dict[str, bool]:
    action = parser.add_argument(*flags, **kwargs)
    return {flag: action.nargs != 0 for flag in flags}


def split(argv: Sequence[str], takes_value: dict[str, bool]) -> tuple[list[str], Target | None]:
    """run's own options, and what to run: at the first ``--``, ``-m`` or other
    word that is not an option (or an option's value)."""
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            if i + 1 >= len(argv):
                raise UsageError("'--' must be followed by a command to run")
            return list(argv[:i]), Target("command", argv[i + 1], list(argv[i + 2 :]))
        if arg == "-m":
            if i + 1 >= len(argv):
                raise UsageError("-m needs a module name")
            return list(argv[:i]), Target("module", argv[i + 1], list(argv[i + 2 :]))
        if arg.startswith("-") and arg != "-":
            flag = arg.split("=", 1)[0]
            i += 2 if takes_value.get(flag) and "=" not in arg else 1
            continue
        return list(argv[:i]), Target("script", arg, list(argv[i + 1 :]))
    return list(argv), None


def parse(argv: Sequence[str]) -> tuple[dict[str, Any], Target]:
    """The options the session takes, and what to run."""
    parser, takes_value = build_parser()
    own, target = split(argv, takes_value)
    args = parser.parse_args(own)
    if target is None:
        raise UsageError(f"nothing to run; usage: {USAGE}")
    options: dict[str, Any] = {
        "no_tui": args.no_tui,
        "quiet": args.quiet,
        "detach_on_quit": args.detach_on_quit,
    }
    for name in ("output", "format", "redact", "listen", "track_deferreds", "deferred_view",
                 "max_events", "metrics", "otlp", "history"):
        value = getattr(args, name)
        if value:
            options[name] = value
    if args.slow is not None:
        options["slow_ms"] = args.slow
    thresholds = {name: getattr(args, name) for name in ("late", "pending", "idle")}
    thresholds = {name: value for name, value in thresholds.items() if value is not None}
    if thresholds:
        options["thresholds"] = thresholds
    return options, target


def main(argv: Sequence[str]) -> int:
    """Record a program, under the TUI when in a terminal."""
    options, target = parse(argv)
    target.check()
    if options.get("metrics") or options.get("otlp"):
        from ..metrics import check_options

        check_options(options.get("metrics"), options.get("otlp"))
    with_tui = not options.pop("no_tui") and sys.stdin.isatty() and sys.stdout.isatty()
    detach_on_quit = bool(options.pop("detach_on_quit", False))
    history = options.pop("history", None)  # the TUI's, not the program's
    if not options.get("output") and not with_tui:
        options["output"] = os.path.abspath(f"reactortrace-{os.getpid()}.json")
    if options.get("output"):
        from ..formats import format_for
        from ..formats.files import check_output

        check_output(str(options["output"]))
        if options.get("format") is None:
            options["format"] = format_for(str(options["output"]))
    if with_tui:
        from ..launch.watch import watch

        return watch(target, options, detach_on_quit=detach_on_quit, history=history)
    if options.get("listen"):
        from ..live.paths import private_dir

        options["listen"] = private_dir()
    from ..launch.program import exec_program

    exec_program(target, options)
    return 0  # not reached: exec replaced this process
