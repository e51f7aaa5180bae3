"""``reactortrace demo``: the bundled demo program under the live TUI."""

from __future__ import annotations

from collections.abc import Sequence

from . import options as opts
from . import run


def main(argv: Sequence[str]) -> int:
    """Run the bundled demo (record it only with ``--no-tui``)."""
    parser = opts.parser(
        "demo", "Run the bundled demo program under the live TUI (or record it only)."
    )
    parser.add_argument("-o", "--output", metavar="FILE",
                        help="also write the demo's trace to FILE (by default no file is "
                             "written, except with --no-tui: reactortrace-PID.json)")
    parser.add_argument("--duration", type=opts.duration_in(opts.S, "--duration"),
                        metavar="S", help="stop the demo after S seconds (default: run until q)")
    opts.add(parser, "no_tui", "detach_on_quit")
    args = parser.parse_args(argv)
    run_argv = ["-o", args.output] if args.output else []
    if args.no_tui:
        run_argv.append("--no-tui")
    if args.detach_on_quit:
        run_argv.append("--detach-on-quit")
    run_argv += ["-m", "reactortrace.demo"]
    if args.duration is not None:
        run_argv += ["--duration", str(args.duration)]
    return run.main(run_argv)
