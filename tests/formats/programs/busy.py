"""A small Twisted program with every kind of dispatch, traced and exported.

    python busy.py REACTOR OUT [--compare]

REACTOR is epoll, poll, select or asyncio. The program serves TCP echo,
talks to itself (reads with a Deferred fired inside them, replies scheduled
with callLater from inside the read), ticks a LoopingCall, cancels a timer,
runs two jobs in the thread pool and one callFromThread from a plain thread,
then stops and exports the trace as OUT.json and OUT.chrome.json.

With ``--compare`` (Deferreds tracked too) the same recording is also
written every other way, to be compared: by writer processes fed as it runs
(OUT.capture.json, OUT.capture.jsonl, OUT.capture.chrome.json), from one list
of events (``write(tracer.trace())``: OUT.whole.json, OUT.whole.chrome.json),
and as a live viewer saw it:
every event its replica resolved from the raw records the live server sent,
and its last snapshot (OUT.live.json). Batches, chunks and updates are made
tiny so that their edges fall everywhere, and the clock stops after the run
so that every snapshot is taken at the same moment.
"""

import importlib
import sys
import threading

REACTORS = {
    "epoll": "twisted.internet.epollreactor",
    "poll": "twisted.internet.pollreactor",
    "select": "twisted.internet.selectreactor",
    "asyncio": "twisted.internet.asyncioreactor",
}
ROUNDS = 5

importlib.import_module(REACTORS[sys.argv[1]]).install()

from twisted.internet import defer, endpoints, protocol, reactor, task, threads  # noqa: E402

import reactortrace  # noqa: E402

compare = "--compare" in sys.argv
tracer = reactortrace.instrument(reactor, track_deferreds=compare, deferred_view=False)
if compare:
    from reactortrace.instrumentation import capture
    from reactortrace.instrumentation import tracer as tracer_module

    capture.SHIP_RECORDS = 7
    tracer_module.EXPORT_CHUNK = 5
    captures = [capture.Capture(tracer, f"{sys.argv[2]}.capture.{ending}", fmt, interval=0.005)
                for fmt, ending in (("json", "json"), ("jsonl", "jsonl"),
                                    ("chrome", "chrome.json"))]

    import tempfile

    from reactortrace.instrumentation.shipping import RecordShipper
    from reactortrace.live import protocol as live_protocol
    from reactortrace.live.client import LiveFeed
    from reactortrace.live.server import LiveServer

    live_protocol.UPDATE_RECORDS = 7
    live = LiveServer(RecordShipper(tracer), tempfile.mkdtemp(dir="/tmp") + "/live.sock",
                      interval=0.005)
    live.start()
    viewer = LiveFeed(live.path, max_events=10**6, sample=10**6)


def on_echo(data):
    return data.upper()


def pool_job(n):
    return sum(range(n))


def from_thread():
    done.append("thread")


def tick():
    ticks.append(1)
    if len(ticks) == 3:
        looping.stop()


class Echo(protocol.Protocol):
    def dataReceived(self, data):
        self.transport.write(data)


class Client(protocol.Protocol):
    def connectionMade(self):
        self.remaining = ROUNDS
        self.send()

    def send(self):
        self.transport.write(b"ping")

    def dataReceived(self, data):
        d = defer.Deferred()
        d.addCallback(on_echo)
        d.callback(data)
        self.remaining -= 1
        if self.remaining:
            reactor.callLater(0.001, self.send)
        else:
            self.transport.loseConnection()

    def connectionLost(self, reason):
        client_done.callback(None)


done: list[str] = []
ticks: list[int] = []
client_done: defer.Deferred = defer.Deferred()
looping = task.LoopingCall(tick)
reactor.callLater(30, lambda: None).cancel()  # scheduled outside any dispatch, never fires


@defer.inlineCallbacks
def main():
    server = endpoints.TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1")
    port = yield server.listen(protocol.Factory.forProtocol(Echo))
    client = endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port)
    yield client.connect(protocol.Factory.forProtocol(Client))
    threading.Thread(target=reactor.callFromThread, args=(from_thread,), name="plain").start()
    yield defer.gatherResults([
        client_done,
        looping.start(0.002),
        threads.deferToThread(pool_job, 1000),
        threads.deferToThread(pool_job, 2000),
    ])
    yield port.stopListening()
    reactor.stop()


reactor.callWhenRunning(main)
reactor.run()
if compare:
    from reactortrace.formats import write

    stopped = tracer.recorder.clock()
    tracer.recorder.clock = lambda: stopped
    for each in captures:
        each.write(final=True)
    whole = tracer.trace()
    write(whole, sys.argv[2] + ".whole.json")
    write(whole, sys.argv[2] + ".whole.chrome.json")
    live.finish()
    polled = []
    while not viewer.ended:
        polled.extend(viewer.poll().events)
    polled.extend(viewer.poll().events)
    seen = reactortrace.Trace(meta=tracer.meta, events=polled,
                              snapshot=viewer.latest, dropped=viewer.viewer_dropped)
    viewer.close()
    write(seen, sys.argv[2] + ".live.json")
# Chrome first: its export leaves the state to be fed by the JSON export's.
tracer.export(sys.argv[2] + ".chrome.json")
tracer.export(sys.argv[2] + ".json")
tracer.close()
