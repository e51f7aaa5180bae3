"""The ``reactortrace`` command: one module per subcommand, one table of shared options.

Errors the user can fix (a wrong flag, a missing file, a broken trace) are
printed as one line on stderr with exit status 2, never as a traceback.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

from .. import __version__
from ..errors import ReactorTraceError, UsageError

#: Command -> (module under reactortrace.cli, one line of help).
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("run", "run a Twisted program under the live TUI (or record it only)"),
    "view": ("view", "replay a recorded trace in the TUI: reactortrace view TRACE"),
    "attach": ("attach", "watch (or record) any running Twisted program: reactortrace attach PID"),
    "summary": ("summary", "tables of a trace: warnings, slowest dispatches, hot callables, "
                           "timer lateness, connections"),
    "export": ("export", "convert a trace: reactortrace export TRACE -o OUT [--format F]"),
    "demo": ("demo", "the bundled demo program under the live TUI"),
    "doctor": ("doctor", "check which parts of the recording work with this Twisted and Python"),
}


def usage() -> str:
    """The top-level help."""
    lines = ["usage: reactortrace COMMAND [ARGS...]", "", "commands:"]
    lines += [f"  {name:<9} {text}" for name, (_, text) in COMMANDS.items()]
    lines += ["", f"reactortrace COMMAND --help shows a command's options. Version {__version__}.", ""]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``reactortrace`` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        sys.stdout.write(usage())
        return 0 if args else 2
    if args[0] == "--version":
        sys.stdout.write(f"reactortrace {__version__}\n")
        return 0
    try:
        if args[0] not in COMMANDS:
            raise UsageError(f"unknown command {args[0]!r} (try: {', '.join(COMMANDS)})")
        module = importlib.import_module(f"{__name__}.{COMMANDS[args[0]][0]}")
        status: int = module.main(args[1:])
        return status
    except ReactorTraceError as exc:
        sys.stderr.write(f"reactortrace: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        return 130
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
