"""A small service that gets stuck: the subject of ``blocked.svg``.

An echo server and a client that talks to it every 200 ms, a heartbeat, and,
two seconds in, a nightly report job that calls a blocking API on the
reactor's thread and hangs there for 30 s.
"""

import time

from twisted.internet import protocol, reactor, task


class Echo(protocol.Protocol):
    def dataReceived(self, data):
        self.transport.write(data)


class Chatter(protocol.Protocol):
    def connectionMade(self):
        self.ticks = task.LoopingCall(self.transport.write, b"ping")
        self.ticks.start(0.2)


def heartbeat():
    pass


def fetch_report_over_a_blocking_api():
    time.sleep(30)  # a synchronous HTTP client, say


def nightly_report():
    fetch_report_over_a_blocking_api()


port = reactor.listenTCP(0, protocol.Factory.forProtocol(Echo), interface="127.0.0.1")
protocol.ClientCreator(reactor, Chatter).connectTCP("127.0.0.1", port.getHost().port)
task.LoopingCall(heartbeat).start(1.0)
reactor.callLater(2.0, nightly_report)
reactor.run()
