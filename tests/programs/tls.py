"""TLS over TCP on loopback (needs pyOpenSSL): one round trip, then the client hangs up."""

import os

import progkit
import twisted.test
from twisted.internet import protocol, ssl

kit = progkit.start()
reactor = kit.reactor
with open(os.path.join(os.path.dirname(twisted.test.__file__), "server.pem"), "rb") as pem:
    server_options = ssl.PrivateCertificate.loadPEM(pem.read()).options()


class TlsEcho(protocol.Protocol):
    def dataReceived(self, data):
        kit.note("server_received", len(data))
        self.transport.write(data)

    def connectionLost(self, reason):
        kit.note("server_lost", reason.type.__name__)
        port.stopListening().addCallback(kit.done)


class TlsClient(protocol.Protocol):
    def connectionMade(self):
        self.transport.write(b"secret")

    def dataReceived(self, data):
        kit.note("client_received", len(data))
        self.transport.loseConnection()

    def connectionLost(self, reason):
        kit.note("client_lost", reason.type.__name__)
        kit.done()


port = reactor.listenSSL(
    0, protocol.Factory.forProtocol(TlsEcho), server_options, interface="127.0.0.1"
)
kit.expect(2)
reactor.connectSSL(
    "127.0.0.1",
    port.getHost().port,
    protocol.ClientFactory.forProtocol(TlsClient),
    ssl.CertificateOptions(verify=False),
)
kit.run()
