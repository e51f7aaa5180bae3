"""Healthy: the application wraps the reactor's poller to time its waits (large
Twisted servers do), and the loop idles longer than the slow threshold."""

import time

import kit

# Generous thresholds (every program runs on every reactor at once): a real
# dispatch never takes 300 ms here, an idle wait of 900 ms would look like one.
reactor, tracer = kit.start(slow_ms=300, late_ms=1000)


class TimedPoller:
    """Times every wait of the poller it wraps."""

    def __init__(self, poller):
        self._poller = poller
        self.waited = 0.0

    def poll(self, *args, **kwargs):
        start = time.monotonic()
        try:
            return self._poller.poll(*args, **kwargs)
        finally:
            self.waited += time.monotonic() - start

    def __getattr__(self, name):
        return getattr(self._poller, name)


if hasattr(reactor, "_poller"):  # epoll, poll (select and asyncio have none)
    reactor._poller = TimedPoller(reactor._poller)

ticks = []
for i in range(4):  # idle 900 ms between ticks: three times the slow threshold
    reactor.callLater(0.9 * (i + 1), ticks.append, i)
reactor.callLater(4.0, reactor.stop)
kit.run(reactor, tracer)
