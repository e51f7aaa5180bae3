"""``reactortrace summary TRACE``: what a recorded run did, and what went wrong."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from ..core.encoding import dumps
from ..formats.summary import DEFAULT_TOP
from . import options as opts

#: Columns of the tables when stdout is not a terminal (and COLUMNS is unset).
PIPE_WIDTH = 140


def main(argv: Sequence[str]) -> int:
    """Print a trace's summary: Rich tables, or JSON with ``--json``."""
    parser = opts.parser(
        "summary",
        "Tables of a recorded trace: warnings, slowest dispatches with their stacks, "
        "hottest callables, timer lateness by site, connections.",
        epilog=opts.DURATIONS_EPILOG,
    )
    parser.add_argument("trace", help="a .json or .jsonl trace")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--top", type=opts.whole_number("--top"), default=DEFAULT_TOP,
                        metavar="N", help=f"rows per table (default {DEFAULT_TOP})")
    opts.add(parser, *opts.THRESHOLDS)
    args = parser.parse_args(argv)
    opts.thresholds_from(args)  # a bad value is refused before the trace is read
    from ..core.diagnose import Thresholds
    from ..formats.summary import summarize_file

    # What the trace was recorded with, unless told otherwise here.
    trace, summary = summarize_file(
        args.trace, lambda meta: opts.thresholds_from(args, Thresholds.from_meta(meta)), args.top
    )
    if not trace.complete:
        sys.stderr.write(
            f"reactortrace: {args.trace} was cut short (its program did not finish writing it); "
            f"this summary covers the {summary['trace']['events']} events it holds\n"
        )
    if args.json:
        from orjson import OPT_INDENT_2

        sys.stdout.write(dumps(summary, option=OPT_INDENT_2).decode() + "\n")
    else:
        from rich.console import Console

        from ..formats.text import render

        console = Console()
        if not console.is_terminal and "COLUMNS" not in os.environ:
            console = Console(width=PIPE_WIDTH)
        render(summary, console)
    return 0
