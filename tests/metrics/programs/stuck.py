"""Blocks its reactor for good (until killed), after saying so."""

import time

from twisted.internet import reactor


def stuck() -> None:
    print("STUCK", flush=True)
    while True:
        time.sleep(0.05)


reactor.callLater(0.1, stuck)
reactor.run()
