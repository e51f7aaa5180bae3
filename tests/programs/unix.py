"""A UNIX socket server and client: one round trip, then the client hangs up."""

import os
import tempfile

import progkit
from twisted.internet import protocol

kit = progkit.start()
reactor = kit.reactor
path = os.path.join(tempfile.mkdtemp(prefix="rt-unix-"), "sock")
kit.program["path"] = path


Echo, Client = progkit.round_trip(kit, b"hello unix", lambda: port.stopListening())


class UnixEcho(Echo):
    pass


class UnixClient(Client):
    pass


port = reactor.listenUNIX(path, protocol.Factory.forProtocol(UnixEcho))
kit.expect(2)
reactor.connectUNIX(path, protocol.ClientFactory.forProtocol(UnixClient))
kit.run()
