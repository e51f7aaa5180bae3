"""Blocks the loop once in ``block()`` (0.3 s), says when it began, and ends with status 3.

Prints ``BLOCK <wall ns>`` at the start of the blocking call and ``TICKS <n>
<seconds>`` (ticks of a 0.05 s LoopingCall and how long they took) and ``END
<wall time>`` at the end.
Logs everything to stderr: nothing of reactortrace's exporters may show there.
"""

import logging
import sys
import time

from twisted.internet import reactor, task

logging.basicConfig(level=logging.DEBUG)
ticks = []


def block() -> None:
    print("BLOCK", time.time_ns(), flush=True)
    time.sleep(0.3)  # the blocking line


def tick() -> None:
    ticks.append(time.monotonic())
    if len(ticks) == 25:
        reactor.stop()


reactor.callLater(0.2, block)
task.LoopingCall(tick).start(0.05)
reactor.run()
print("TICKS", len(ticks), f"{ticks[-1] - ticks[0]:.3f}", flush=True)
print("END", time.time(), flush=True)
sys.exit(3)
