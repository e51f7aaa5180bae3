"""``reactortrace export TRACE -o OUT``: convert a trace between formats."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from . import options as opts


def main(argv: Sequence[str]) -> int:
    """Convert a trace between formats."""
    parser = opts.parser("export", "Convert a trace between formats.")
    parser.add_argument("trace", help="a trace file (json or jsonl)")
    opts.add(parser, "output", "format", "redact")
    args = parser.parse_args(argv)
    if args.output is None:
        parser.error("the following arguments are required: -o/--output")
    from ..formats import load, write
    from ..formats.files import check_output

    check_output(args.output)
    trace = load(args.trace)
    if args.redact:
        from ..formats.redact import redact

        trace = redact(trace)
    write(trace, args.output, args.format)
    if not trace.complete:
        sys.stderr.write(f"reactortrace: {args.trace} was cut short; exported what it holds\n")
    return 0
