"""``reactortrace view TRACE``: the TUI on a recorded trace, with replay keys."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from . import options as opts


def main(argv: Sequence[str]) -> int:
    """Replay a recorded trace in the TUI (shown as soon as its first events are read)."""
    parser = opts.parser("view", "Replay a recorded trace in the TUI.")
    parser.add_argument("trace", help="a trace file (json or jsonl)")
    opts.add(parser, "history")
    args = parser.parse_args(argv)
    from ..core.replay import ReplayFeed
    from ..formats.loading import BackgroundLoad
    from ..say import say
    from ..tui.run import UIFailed, require_terminal, show

    loading = BackgroundLoad(args.trace)
    try:
        trace = loading.opening()
        note = f"reactortrace: {args.trace} was cut short; showing the events it holds\n"
        if loading.done and not trace.complete:
            sys.stderr.write(note)
        require_terminal("view")
        try:
            show(ReplayFeed(trace, loading=loading), history=args.history)
        except UIFailed as exc:
            say(str(exc))
            return 1
    finally:
        loading.close()
    if loading.error is not None:
        say(f"{loading.error}; the view showed the events before it")
        return 2
    if loading.done and not trace.complete:
        sys.stderr.write(note)  # again: the TUI's screen hid the first one
    return 0
