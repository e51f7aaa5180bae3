"""missed-ticks: a call from a thread holds the loop for BLOCK seconds while a
LoopingCall's tick is due; the tick fires late and the ticks meanwhile are skipped.

Only the LoopingCall is a timer, and lateness below its interval is no
warning: nothing else can be late, however loaded the machine is.
"""

import threading
import time

import kit
from twisted.internet import task

BLOCK = 0.6
INTERVAL = 0.1
reactor, tracer = kit.start(slow_ms=60_000, late_ms=INTERVAL * 1000)
go = threading.Event()
ticks = []


def hold_the_loop():
    time.sleep(BLOCK)


def tick():
    ticks.append(time.monotonic())
    if len(ticks) == 2:
        go.set()  # the thread asks the reactor to run hold_the_loop
    elif len(ticks) == 5:
        loop.stop()
        reactor.stop()


def ask_from_a_thread():
    go.wait(30)
    reactor.callFromThread(hold_the_loop)


threading.Thread(target=ask_from_a_thread, daemon=True).start()
loop = task.LoopingCall(tick)
loop.start(INTERVAL)  # @loop_start
kit.run(reactor, tracer)
