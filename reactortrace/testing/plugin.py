"""pytest plugin: a reactortrace trace per test, and the tests that blocked the reactor.

    pytest --reactortrace=DIR [--reactortrace-format json|jsonl|chrome]
    pytest --reactortrace-slow=MS

Registered through the ``pytest11`` entry point ``reactortrace``; it does
nothing unless one of its options is given, and it never imports
``twisted.internet.reactor`` (that would install the default reactor before a
plugin such as pytest-twisted, or the tests, install the one they want).
Instead it wraps ``twisted.internet.main.installReactor`` and instruments the
first real reactor installed, or the one already installed when a test starts.

The reactor is instrumented once; a test's trace holds the events that began
from the start of its setup until the next test starts. pytest-twisted runs
the reactor in a greenlet that is switched out while pytest runs outside it:
the dispatch that delivers a test's result stays suspended until the next test
switches the reactor back in. That is why a test's trace is written when the
next test ends (the last one's when the session ends), and why time spent
switched out is not counted as blocking the reactor.
"""

from __future__ import annotations

import os

import pytest

from ..cli.options import duration_in
from ..core.units import MS
from ..formats import FORMATS


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("reactortrace", "record the Twisted reactor with reactortrace")
    group.addoption(
        "--reactortrace",
        metavar="DIR",
        default=None,
        help="write a reactortrace trace of each test to DIR (file name from the test id)",
    )
    group.addoption(
        "--reactortrace-format",
        choices=FORMATS,
        default="json",
        help="format of the per-test traces (default: json)",
    )
    group.addoption(
        "--reactortrace-redact",
        action="store_true",
        help="write the per-test traces fit to share: argv after the program's name, the "
             "host name, directories of paths, network addresses (hashed) and object ids "
             "removed",
    )
    group.addoption(
        "--reactortrace-slow",
        metavar="MS",
        type=duration_in(MS, "--reactortrace-slow"),
        default=None,
        help="list the tests during which one dispatch blocked the reactor longer than MS ms",
    )


def pytest_configure(config: pytest.Config) -> None:
    directory = config.getoption("reactortrace")
    slow_ms = config.getoption("reactortrace_slow")
    if directory is None and slow_ms is None:
        return
    if directory is not None:
        directory = os.path.abspath(directory)  # before any test changes directory
        try:
            os.makedirs(directory, exist_ok=True)
        except OSError as exc:
            raise pytest.UsageError(f"--reactortrace: cannot create {directory}: {exc}") from None
    from .recorder import PerTestRecorder

    recorder = PerTestRecorder(directory, config.getoption("reactortrace_format"), slow_ms,
                               redact=config.getoption("reactortrace_redact"))
    config.pluginmanager.register(recorder, "reactortrace-recorder")
    recorder.start()
