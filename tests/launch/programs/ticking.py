"""A reactor ticking away with no SIGHUP handler of its own (Twisted sets none)."""

import sys

from twisted.internet import reactor, task

task.LoopingCall(lambda: None).start(0.01)
reactor.callLater(0.2, lambda: open(sys.argv[1], "w").write("running"))
reactor.run()
