"""A twistd application that ticks every 20 ms and writes each tick count to a
file, so that a test knows the daemon's reactor is running. The fifth tick
blocks the reactor for 0.4 s (the watchdog must see it)."""

import os
import time

from twisted.application import internet, service

state = {"ticks": 0}


def beat():
    state["ticks"] += 1
    if state["ticks"] == 5:
        time.sleep(0.4)
    with open(os.environ["DAEMON_MARKER"], "w") as marker:
        marker.write(f"{os.getpid()} {state['ticks']}")


application = service.Application("daemon")
internet.TimerService(0.02, beat).setServiceParent(application)
