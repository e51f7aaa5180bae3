"""Healthy: a client connects through ``HostnameEndpoint`` (the name resolved on
a thread, the connection attempts made later from callbacks) to a server whose
protocol arms a ``TimeoutMixin`` timer; the client's protocol arms and
disarms one too. Timers Twisted makes after those asynchronous steps are sited
at the user's lines."""

import kit
from twisted.internet import endpoints, protocol
from twisted.protocols import policies

reactor, tracer = kit.start(slow_ms=1000, late_ms=1000)


class Greeter(protocol.Protocol, policies.TimeoutMixin):
    def connectionMade(self):
        self.setTimeout(30)  # @server_timeout
        self.transport.write(b"hello")

    def dataReceived(self, data):
        self.resetTimeout()


class Visitor(protocol.Protocol, policies.TimeoutMixin):
    def connectionMade(self):
        self.setTimeout(20)  # @client_timeout

    def dataReceived(self, data):
        self.setTimeout(None)
        self.transport.loseConnection()
        reactor.callLater(0.05, reactor.stop)  # @stop


port = reactor.listenTCP(0, protocol.Factory.forProtocol(Greeter), interface="127.0.0.1")  # @listen
endpoint = endpoints.HostnameEndpoint(reactor, b"localhost", port.getHost().port)
endpoint.connect(protocol.Factory.forProtocol(Visitor))  # @connect
kit.run(reactor, tracer)
