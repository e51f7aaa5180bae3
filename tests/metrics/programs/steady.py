"""A service with a known shape, run under ``reactortrace run --metrics`` until SIGTERM
(Twisted stops the reactor; the program then exits with status 3).

Seven timers stay pending (an hour away) beside the LoopingCall's own; the
LoopingCall ticks every 0.1 s and is busy 0.05 s of each tick (utilization
about one half); once, at 0.5 s, a callback blocks the loop for 0.6 s, so
the tick due meanwhile runs about 0.5 s late.
"""

import sys
import time

from twisted.internet import reactor, task

PENDING = 7


def work() -> None:
    time.sleep(0.05)


def block() -> None:
    time.sleep(0.6)


for i in range(PENDING):
    reactor.callLater(3600 + i, lambda: None)
task.LoopingCall(work).start(0.1)
reactor.callLater(0.5, block)
reactor.run()
sys.exit(3)
