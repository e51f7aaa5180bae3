"""The reactor runs on a thread of its own (as crochet does) and blocks there; SIGTERM
keeps its default action."""

import sys
import threading
import time

from twisted.internet import reactor


def job_that_waits():
    open(sys.argv[1], "w").write("blocked")
    time.sleep(20.0)


reactor.callLater(0.5, job_that_waits)
threading.Thread(target=reactor.run, kwargs={"installSignalHandlers": False},
                 daemon=True).start()
threading.Event().wait()
