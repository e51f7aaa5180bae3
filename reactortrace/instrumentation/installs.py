"""Notice every reactor a program installs, whichever it picks and whenever it does.

``twistd --reactor``, ``trial``, ``asyncioreactor.install()`` and Scrapy all go
through ``twisted.internet.main.installReactor``, looked up when called, so
wrapping it catches every install without importing a reactor ourselves.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any


def installed_reactor() -> Any:
    """The reactor installed already, or None (never installs the default one)."""
    # installReactor puts the reactor itself in sys.modules; importing the
    # module instead would install the default reactor.
    return sys.modules.get("twisted.internet.reactor")


def watch_installs(callback: Callable[[Any], None]) -> Callable[[], None]:
    """Call ``callback(reactor)`` after each ``installReactor``; return the undo.

    The undo restores Twisted's function only if it still holds our wrapper.
    """
    from twisted.internet import main

    original = main.installReactor

    def installReactor(reactor: Any) -> None:
        original(reactor)
        callback(reactor)

    functools.update_wrapper(installReactor, original)
    main.installReactor = installReactor

    def undo() -> None:
        if main.installReactor is installReactor:
            main.installReactor = original

    return undo
