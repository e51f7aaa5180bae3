"""Blocks 3 s in a timer; its own SIGTERM handler (set as the reactor starts) stops it."""

import signal
import sys
import time

from twisted.internet import reactor


def on_term(signum, frame):
    print("handled SIGTERM", flush=True)
    reactor.callFromThread(reactor.stop)


def job_that_waits():
    open(sys.argv[1], "w").write("blocked")
    time.sleep(3.0)
    print("block over", flush=True)


reactor.callWhenRunning(signal.signal, signal.SIGTERM, on_term)
reactor.callLater(0.5, job_that_waits)
reactor.run()
print("stopped", flush=True)
sys.exit(7)
