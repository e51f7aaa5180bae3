"""``reactortrace attach PID|SOCKET``: the TUI on a program started with ``--listen``."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import UsageError
from . import options as opts


def main(argv: Sequence[str]) -> int:
    """Watch a running program live."""
    parser = opts.parser("attach", "Watch a program started with 'reactortrace run --listen'.")
    parser.add_argument("target", metavar="PID|SOCKET")
    args = parser.parse_args(argv)
    from ..live.client import LiveFeed
    from ..live.paths import resolve_target
    from ..say import say
    from ..tui.run import UIFailed, require_terminal, show

    feed = LiveFeed(resolve_target(args.target))
    try:
        require_terminal("attach")
    except UsageError:
        feed.close()
        raise
    try:
        show(feed)
    except UIFailed as exc:
        say(f"{exc}; the program goes on")
        return 1
    return 0
