"""TLS over TCP on loopback (needs pyOpenSSL): one round trip, then the client hangs up."""

import os

import progkit
import twisted.test
from twisted.internet import protocol, ssl

kit = progkit.start()
reactor = kit.reactor
with open(os.path.join(os.path.dirname(twisted.test.__file__), "server.pem"), "rb") as pem:
    server_options = ssl.PrivateCertificate.loadPEM(pem.read()).options()


Echo, Client = progkit.round_trip(kit, b"secret", lambda: port.stopListening())


class TlsEcho(Echo):
    pass


class TlsClient(Client):
    pass


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
