"""A twistd application that ticks every 20 ms and writes each tick count to a
file, so that a test knows the daemon's reactor is running."""

import os

from twisted.application import internet, service

state = {"ticks": 0}


def beat():
    state["ticks"] += 1
    with open(os.environ["DAEMON_MARKER"], "w") as marker:
        marker.write(f"{os.getpid()} {state['ticks']}")


application = service.Application("daemon")
internet.TimerService(0.02, beat).setServiceParent(application)
