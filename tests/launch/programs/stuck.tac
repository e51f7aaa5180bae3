"""A twistd application whose timer blocks the reactor for 20 s."""

import os
import time

from twisted.application import service
from twisted.internet import reactor


def job_that_waits():
    open(os.environ["STUCK_MARKER"], "w").write("blocked")
    time.sleep(20.0)


application = service.Application("stuck")
reactor.callLater(0.5, job_that_waits)
