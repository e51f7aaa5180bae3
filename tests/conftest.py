"""Settings every test shares."""

from __future__ import annotations

import signal


def pytest_configure() -> None:
    """Programs the tests start meet SIGINT and SIGHUP as a terminal's user would.

    A test run started in the background by a shell without job control (or
    under ``nohup``) inherits those signals ignored, and so would every program
    it starts: the tests that stop programs with them would then wait forever.
    """
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if signal.getsignal(signal.SIGHUP) is signal.SIG_IGN:
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
