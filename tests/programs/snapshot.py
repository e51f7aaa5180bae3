"""snapshot() in the middle of a run: pending timers, open connections, statistics.

After ROUND_TRIPS echoes, with a timer due in 60 s, a LoopingCall every 30 s
and COUNTED calls of one function done, the program takes a snapshot, then
cancels everything and stops.
"""

import progkit
from twisted.internet import protocol, task

ROUND_TRIPS = 4
COUNTED = 7

kit = progkit.start()
reactor = kit.reactor


def far_away():
    kit.note("far_away", True)


def every_half_minute():
    kit.note("ticks", True)


def counted(remaining):
    kit.program["counted"] = kit.program.get("counted", 0) + 1
    if remaining > 1:
        reactor.callLater(0, counted, remaining - 1)
    else:
        ready.append("counted")
        maybe_snapshot()


class Echo(protocol.Protocol):
    def dataReceived(self, data):
        self.transport.write(data)


class Client(protocol.Protocol):
    def connectionMade(self):
        self.trips = 0
        self.transport.write(b"ping" * (self.trips + 1))

    def dataReceived(self, data):
        kit.note("received", len(data))
        self.trips += 1
        if self.trips < ROUND_TRIPS:
            self.transport.write(b"ping" * (self.trips + 1))
        else:
            kit.program["sent"] = [4 * (n + 1) for n in range(ROUND_TRIPS)]
            ready.append(self)
            # after this read has been dispatched (and recorded)
            reactor.callLater(0, maybe_snapshot)


def maybe_snapshot():
    if len(ready) < 2 or not isinstance(ready[-1], Client):
        return
    client = ready[-1]
    if kit.tracer is not None:
        snapshot = kit.tracer.snapshot()
        kit.tracer_facts["snapshot"] = snapshot.to_dict()
        kit.tracer_facts["client_port"] = client.transport.getHost().port
    far.cancel()
    looping.stop()
    client.transport.loseConnection()
    listening.stopListening()
    reactor.callLater(0.01, reactor.stop)


ready: list = []
far = reactor.callLater(60, far_away)  # @far
looping = task.LoopingCall(every_half_minute)
looping.start(30, now=False)  # @looping
reactor.callLater(0, counted, COUNTED)
listening = reactor.listenTCP(0, protocol.Factory.forProtocol(Echo), interface="127.0.0.1")
kit.program["server_port"] = listening.getHost().port
reactor.connectTCP(
    "127.0.0.1", listening.getHost().port, protocol.ClientFactory.forProtocol(Client)
)
kit.run()
