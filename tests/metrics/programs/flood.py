"""Forty callbacks in a row, each blocking the loop 60 ms (slow at --slow 50), then exit 0."""

import time

from twisted.internet import reactor

FLOOD = 40


def slow() -> None:
    time.sleep(0.06)


for i in range(FLOOD):
    reactor.callLater(0.01 * i, slow)
reactor.callLater(0.5, reactor.stop)
reactor.run()
