"""A program whose timer blocks the reactor for a long time (the end-to-end tests' subject).

    python stuck.py MARKER [SECONDS]

A LoopingCall ticks; one second in, ``job_that_waits`` writes MARKER and then
sleeps SECONDS (20 by default) on the reactor's thread.
"""

import sys
import time

from twisted.internet import reactor, task


def tick():
    pass


def wait_for_the_disk(seconds):
    time.sleep(seconds)  # the blocking line


def job_that_waits():
    with open(sys.argv[1], "w") as marker:
        marker.write("blocked")
    wait_for_the_disk(float(sys.argv[2]) if len(sys.argv) > 2 else 20.0)


task.LoopingCall(tick).start(0.2)
reactor.callLater(1.0, job_that_waits)
reactor.run()
