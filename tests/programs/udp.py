"""UDP on loopback: a sender sends DATAGRAMS datagrams, the receiver answers the last."""

import progkit
from twisted.internet import protocol

DATAGRAMS = 4

kit = progkit.start()
reactor = kit.reactor


class Receiver(protocol.DatagramProtocol):
    def datagramReceived(self, data, addr):
        kit.note("received", len(data))
        if len(kit.program["received"]) == DATAGRAMS:
            self.transport.write(b"ok", addr)


class Sender(protocol.DatagramProtocol):
    def startProtocol(self):
        for index in range(DATAGRAMS):
            data = b"d" * (index + 1)
            kit.note("sent", len(data))
            self.transport.write(data, ("127.0.0.1", receiver.getHost().port))

    def datagramReceived(self, data, addr):
        kit.note("answer", data.decode())
        receiver.stopListening()
        sender.stopListening()
        kit.done()


receiver = reactor.listenUDP(0, Receiver(), interface="127.0.0.1")
kit.expect(1)
sender = reactor.listenUDP(0, Sender(), interface="127.0.0.1")
kit.program["ports"] = [receiver.getHost().port, sender.getHost().port]
kit.run()
