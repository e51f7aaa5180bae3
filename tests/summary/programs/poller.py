"""Healthy: the application wraps the reactor's poller to time its waits (large
Twisted servers do), and the loop idles longer than the slow threshold."""

import time

import kit

reactor, tracer = kit.start(slow_ms=50)


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
for i in range(6):  # idle 150 ms between ticks: three times the slow threshold
    reactor.callLater(0.15 * (i + 1), ticks.append, i)
reactor.callLater(1.0, reactor.stop)
kit.run(reactor, tracer)
