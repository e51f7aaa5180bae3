"""The options the commands share, in one table, and the parser every command uses.

Each command builds an :class:`argparse.ArgumentParser` (:func:`parser`) and
adds the shared options it takes by name (:func:`add`). Durations are read by
one parser (:func:`reactortrace.core.units.parse_duration`): ``50``, ``50ms``
and ``0.05s`` mean the same to ``--slow`` here, to ``summary`` and to the
pytest plugin.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn

from ..core.diagnose import Thresholds
from ..core.units import MS, S, parse_duration
from ..errors import UsageError
from ..formats import FORMATS

PROG = "reactortrace"


class Parser(argparse.ArgumentParser):
    """argparse that raises :class:`UsageError` instead of printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def parser(command: str, description: str, **kwargs: Any) -> Parser:
    """The parser of ``reactortrace COMMAND``."""
    return Parser(
        prog=f"{PROG} {command}",
        description=description,
        allow_abbrev=False,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        **kwargs,
    )


def duration_in(unit: int, name: str) -> Callable[[str], float]:
    """An argparse ``type``: a duration, returned as a number of ``unit``."""

    def parse(text: str) -> float:
        try:
            ns = parse_duration(text, unit)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        if ns <= 0:
            raise argparse.ArgumentTypeError(f"{name} must be above zero, not {text!r}")
        return ns / unit

    parse.__name__ = "duration"
    return parse


def whole_number(name: str, minimum: int = 1) -> Callable[[str], int]:
    """An argparse ``type``: an integer at least ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text.replace("_", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{name} must be at least {minimum}, not {value}")
        return value

    parse.__name__ = "number"
    return parse


def absolute_path(text: str) -> str:
    """An argparse ``type``: a path, made absolute where the user typed it."""
    return os.path.abspath(text)


@dataclass(frozen=True)
class Option:
    """One shared option: its flags and argparse keywords."""

    flags: tuple[str, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)


_DEFAULTS = Thresholds()

#: Every option more than one command takes, by name.
OPTIONS: dict[str, Option] = {
    "output": Option(("-o", "--output"), dict(
        metavar="FILE", type=absolute_path,
        help="write the trace to FILE (a relative path is relative to here)",
    )),
    "format": Option(("--format",), dict(
        choices=FORMATS, metavar="FORMAT",
        help="json, jsonl (written as the program runs: survives a kill -9) or chrome "
             "(Perfetto); default: from the file name (.jsonl, .chrome.json, else json)",
    )),
    "redact": Option(("--redact",), dict(
        action="store_true",
        help="fit to share: argv after the program's name, the host name, directories of "
             "paths, network addresses (hashed) and object ids removed",
    )),
    "no_tui": Option(("--no-tui",), dict(
        action="store_true", help="no terminal UI: record only",
    )),
    "detach_on_quit": Option(("--detach-on-quit",), dict(
        action="store_true",
        help="with the TUI: quitting (q or Ctrl+C) leaves the program running, its output "
             "appended to a file; otherwise quitting stops it (SIGINT, SIGTERM after 3 s, "
             "then SIGKILL)",
    )),
    "history": Option(("--history",), dict(
        metavar="MIN", type=duration_in(60 * S, "--history"),
        help="minutes of events the TUI's event log keeps to browse (default 5; "
             "at most 100,000 events)",
    )),
    "slow": Option(("--slow",), dict(
        metavar="MS", type=duration_in(MS, "--slow"),
        help=f"dispatches this long are slow: the watchdog takes the blocking stack "
             f"(default {_DEFAULTS.slow_ms:g} ms)",
    )),
    "late": Option(("--late",), dict(
        metavar="MS", type=duration_in(MS, "--late"),
        help=f"timers firing this late are late (default {_DEFAULTS.late_ms:g} ms)",
    )),
    "pending": Option(("--pending",), dict(
        metavar="S", type=duration_in(S, "--pending"),
        help=f"Deferreds unfired (with Deferred tracking), or connections half-closed, "
             f"this long warn (default {_DEFAULTS.pending_s:g} s)",
    )),
    "idle": Option(("--idle",), dict(
        metavar="S", type=duration_in(S, "--idle"),
        help=f"connections without data this long are idle (default {_DEFAULTS.idle_s:g} s)",
    )),
    "metrics": Option(("--metrics",), dict(
        metavar="HOST:PORT",
        help="serve Prometheus metrics of the loop on http://HOST:PORT/metrics "
             "(needs reactortrace[metrics])",
    )),
    "otlp": Option(("--otlp",), dict(
        metavar="URL",
        help="push the loop's metrics and slow-dispatch spans to the OTLP/HTTP collector "
             "at URL, such as http://localhost:4318 (needs reactortrace[metrics])",
    )),
}

THRESHOLDS = ("slow", "late", "pending", "idle")
DURATIONS_EPILOG = "Durations are numbers in the unit shown, or carry their own: 50ms, 0.5s, 2m."


def add(target: Any, *names: str, **overrides: Any) -> dict[str, bool]:
    """Add the shared options ``names`` to a parser (or argument group), with
    ``overrides`` of their argparse keywords (a command's own help text, say).

    Returns, for each flag added, whether it takes a value.
    """
    takes_value: dict[str, bool] = {}
    for name in names:
        option = OPTIONS[name]
        kwargs = {**option.kwargs, **overrides}
        action = target.add_argument(*option.flags, dest=name, **kwargs)
        for flag in option.flags:
            takes_value[flag] = action.nargs != 0
    return takes_value


def thresholds_from(args: argparse.Namespace, base: Thresholds | None = None) -> Thresholds:
    """The thresholds given by the threshold options (the others keep ``base``'s)."""
    return Thresholds.from_options(
        {name: getattr(args, name, None) for name in THRESHOLDS}, base
    )
