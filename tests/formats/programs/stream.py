"""A traced Twisted program that streams its trace as JSON Lines.

    python stream.py REACTOR OUT [SECONDS]

A LoopingCall ticks every millisecond and fires a Deferred each time. Without
SECONDS the program runs until it is killed. With SECONDS it stops itself,
closes the stream, and also exports the tracer's whole trace to OUT.json, to
compare with what was streamed.
"""

import importlib
import sys

REACTORS = {
    "epoll": "twisted.internet.epollreactor",
    "poll": "twisted.internet.pollreactor",
    "select": "twisted.internet.selectreactor",
    "asyncio": "twisted.internet.asyncioreactor",
}

importlib.import_module(REACTORS[sys.argv[1]]).install()

from twisted.internet import defer, reactor, task  # noqa: E402

import reactortrace  # noqa: E402
from reactortrace.formats.stream import StreamWriter  # noqa: E402

out = sys.argv[2]
seconds = float(sys.argv[3]) if len(sys.argv) > 3 else None
tracer = reactortrace.instrument(reactor)
stream = StreamWriter(out, tracer.meta, tracer.new_events, interval=0.05)


def tick():
    d = defer.Deferred()
    d.addCallback(lambda value: value + 1)
    d.callback(1)


task.LoopingCall(tick).start(0.001)
if seconds is not None:
    reactor.callLater(seconds, reactor.stop)
print("running", flush=True)
reactor.run()
stream.close(tracer.snapshot, tracer.dropped)
tracer.export(out + ".json")
tracer.close()
