"""A plain Twisted program, started without reactortrace: a LoopingCall, a
timer far in the future, a listening port and a client that talks to it.

``plain.py REACTOR SECONDS [--idle | --block]``: runs SECONDS seconds at
most, or until SIGUSR1; then prints its counts and, once its reactor has
stopped, whether every class Twisted and reactortrace touch is as it was at
start-up, and exits with status 3 (its
own, to be checked). ``--idle``: no timers and no I/O, only a stop after
SECONDS (from a thread). ``--block``: after start-up one callback blocks the
reactor (sleeping) for SECONDS.
"""

import importlib
import signal
import sys
import threading
import time

REACTORS = {
    "epoll": "twisted.internet.epollreactor",
    "poll": "twisted.internet.pollreactor",
    "select": "twisted.internet.selectreactor",
    "asyncio": "twisted.internet.asyncioreactor",
}
importlib.import_module(REACTORS[sys.argv[1]]).install()

from twisted.internet import protocol, reactor, task  # noqa: E402

WATCHED = ("twisted.internet.base", "twisted.internet.defer", "twisted.internet.tcp",
           "twisted.internet.abstract", "twisted.internet.posixbase", "twisted.internet.task",
           "twisted.internet._newtls", "twisted.python.threadpool", REACTORS[sys.argv[1]])


def classes():
    """Every attribute of every class of the modules above, and the reactor's own."""
    found = {}
    for name in WATCHED:
        module = sys.modules.get(name)
        for klass in vars(module).values() if module else ():
            if isinstance(klass, type):
                for attr, value in vars(klass).items():
                    found[(name, klass.__qualname__, attr)] = value
    found["reactor keys"] = sorted(vars(reactor))
    return found


AT_START = {}

seconds = float(sys.argv[2])
mode = sys.argv[3] if len(sys.argv) > 3 else ""
counts = {"ticks": 0, "echoed": 0}


class Echo(protocol.Protocol):
    def dataReceived(self, data):
        self.transport.write(data)


class Talker(protocol.Protocol):
    def connectionMade(self):
        self.loop = task.LoopingCall(self.transport.write, b"ping")
        self.loop.start(0.05)

    def dataReceived(self, data):
        counts["echoed"] += len(data)

    def connectionLost(self, reason):
        if self.loop.running:
            self.loop.stop()


def tick():
    counts["ticks"] += 1


def far_away():
    print("far_away fired", flush=True)


def stop():
    print(f"ticks>0={counts['ticks'] > 0} echoed>0={counts['echoed'] > 0}", flush=True)
    reactor.stop()


def changed():
    now = classes()
    return sorted(str(key) for key in AT_START.keys() | now.keys()
                  if AT_START.get(key) is not now.get(key) and AT_START.get(key) != now.get(key))


signal.signal(signal.SIGUSR1, lambda *_: reactor.callFromThread(stop))


def block():
    print("blocking", flush=True)
    time.sleep(seconds)


if mode == "--idle":
    timer = threading.Timer(seconds, lambda: reactor.callFromThread(stop))
    timer.daemon = True
    timer.start()
elif mode == "--block":
    reactor.callLater(0.2, block)
    reactor.callLater(0.3, stop)
else:
    task.LoopingCall(tick).start(0.02)
    reactor.callLater(3600, far_away)
    factory = protocol.ServerFactory.forProtocol(Echo)
    port = reactor.listenTCP(0, factory, interface="127.0.0.1")
    client = protocol.ClientFactory.forProtocol(Talker)
    reactor.connectTCP("127.0.0.1", port.getHost().port, client)
    reactor.callLater(seconds, stop)


def started():
    AT_START.update(classes())
    print("ready", flush=True)


reactor.callWhenRunning(started)
reactor.run()
print(f"changed={changed()}", flush=True)
sys.exit(3)
