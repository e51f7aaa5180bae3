"""close() restores the reactor exactly, while it runs, and the program goes on.

Run with ``--late``. The same work (a TCP round trip, a UDP datagram, a
thread-pool job, timers, Deferreds) is done three times: untraced (so that
anything Twisted creates lazily exists), traced, and after ``close()``. The
state of the reactor and of the classes reactortrace patches is compared
right before ``instrument()`` and right after ``close()``.
"""

import progkit
from twisted.internet import (
    _signals,
    abstract,
    base,
    defer,
    posixbase,
    process,
    protocol,
    task,
    tcp,
    threads,
    udp,
    unix,
)
from twisted.python import threadpool

kit = progkit.start()
reactor = kit.reactor

CLASSES = [
    defer.Deferred,
    base.DelayedCall,
    threadpool.ThreadPool,
    tcp.Connection,
    tcp.BaseClient,
    tcp.Server,
    tcp.Client,
    tcp.Port,
    udp.Port,
    unix.Server,
    unix.Client,
    unix.Port,
    process.ProcessWriter,
    process.ProcessReader,
    abstract.FileDescriptor,
    _signals._UnixWaker,
    _signals._SIGCHLDWaker,
    task.LoopingCall,
    base.ReactorBase,
    posixbase.PosixReactorBase,
    *type(reactor).__mro__[:-1],
]


def state():
    """What must be the same after close(): the reactor and the classes."""
    loop = getattr(reactor, "_asyncioEventloop", None)
    return {
        "class": type(reactor),
        "reactor": dict(vars(reactor)),
        "classes": {cls: dict(vars(cls)) for cls in CLASSES},
        "selector": dict(vars(loop._selector)) if loop is not None else {},
    }


def differences(before, after):
    """Human-readable differences between two ``state()`` results."""
    found = []
    if after["class"] is not before["class"]:
        found.append(f"reactor class {after['class']!r} is not {before['class']!r}")
    if set(after["reactor"]) != set(before["reactor"]):
        found.append(f"reactor attributes {sorted(set(after['reactor']) ^ set(before['reactor']))}")
    for cls, old in before["classes"].items():
        new = after["classes"][cls]
        for name in sorted(set(old) | set(new)):
            if old.get(name, "<missing>") is not new.get(name, "<missing>"):
                found.append(f"{cls.__module__}.{cls.__qualname__}.{name} changed")
    old, new = before["selector"], after["selector"]
    for name in sorted(set(old) | set(new)):
        if old.get(name, "<missing>") is not new.get(name, "<missing>"):
            found.append(f"asyncio selector attribute {name} changed")
    return found


def wrapped_asyncio_handles():
    """asyncio keeps a bound _readOrWrite in each handle: it must be the original."""
    loop = getattr(reactor, "_asyncioEventloop", None)
    if loop is None:
        return []
    original = type(reactor)._readOrWrite
    wrong = []
    for key in loop._selector.get_map().values():
        for handle in key.data:
            method = handle._args[1] if handle is not None and len(handle._args) > 1 else None
            if getattr(method, "__name__", None) != "_readOrWrite":
                continue  # asyncio's own handles (its self-pipe)
            if method.__func__ is not original:
                wrong.append(repr(handle._args[0]))
    return wrong


class Echo(protocol.Protocol):
    def dataReceived(self, data):
        self.transport.write(data)


class Client(protocol.Protocol):
    def connectionMade(self):
        client.callback(self)

    def dataReceived(self, data):
        self.echoed.callback(data)

    def round_trip(self, data):
        self.echoed = defer.Deferred()
        self.transport.write(data)
        return self.echoed


class Datagrams(protocol.DatagramProtocol):
    def datagramReceived(self, data, addr):
        self.received.callback(data)


def work(connection, label):
    """One of everything; fires with what the program saw."""
    moved = reactor.callLater(10, lambda: None)
    moved.reset(20)
    moved.cancel()
    datagrams.received = defer.Deferred()
    datagram_port.write(label.encode(), ("127.0.0.1", datagram_port.getHost().port))
    steps = [
        connection.round_trip(label.encode()),
        threads.deferToThread(lambda: label.upper()),
        task.deferLater(reactor, 0.001, lambda: label),
        datagrams.received,
    ]
    done = defer.gatherResults(steps)
    return done.addCallback(lambda results: kit.note("work", [label, results]))


def close(tracer):
    tracer.close()
    kit.tracer_facts["events_at_close"] = [e.to_dict() for e in tracer.events()]


@defer.inlineCallbacks
def scenario():
    connection = yield client
    yield work(connection, "untraced")
    before = state()
    tracer = kit.instrument() if kit.traced else None
    yield work(connection, "traced")
    if tracer is not None:
        # closed from inside a timer, as a program (or the TUI) would do it
        yield task.deferLater(reactor, 0, close, tracer)
    after = state()
    kit.program["differences"] = differences(before, after)
    kit.program["asyncio_handles_wrapped"] = wrapped_asyncio_handles()
    yield work(connection, "closed")
    if tracer is not None:
        kit.tracer_facts["events_at_end"] = [e.to_dict() for e in tracer.events()]
    kit.done()


client = defer.Deferred()
datagrams = Datagrams()
datagram_port = reactor.listenUDP(0, datagrams, interface="127.0.0.1")
listening = reactor.listenTCP(0, protocol.Factory.forProtocol(Echo), interface="127.0.0.1")
reactor.connectTCP(
    "127.0.0.1", listening.getHost().port, protocol.ClientFactory.forProtocol(Client)
)
kit.expect(1)
reactor.callWhenRunning(lambda: scenario().addErrback(kit.crashed))
kit.run(lambda: kit.program.update(final_class=type(reactor).__qualname__))
