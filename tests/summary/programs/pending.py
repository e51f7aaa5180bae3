"""deferred-pending: a Deferred nobody fires stays pending past ``--pending``;
one fired in time is no warning."""

import kit
from twisted.internet import defer

reactor, tracer = kit.start(pending_s=0.3, slow_ms=60_000, late_ms=60_000)
forgotten = defer.Deferred()  # @never
answered = defer.Deferred()
reactor.callLater(0.01, answered.callback, "in time")
reactor.callLater(0.8, reactor.stop)
kit.run(reactor, tracer)
