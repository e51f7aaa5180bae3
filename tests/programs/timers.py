"""Timers: plain, cancelled, reset sooner and later, delayed, LoopingCall, deferLater, raising."""

import progkit
from twisted.internet import task
from twisted.logger import globalLogPublisher

PLAIN = 3
TICKS = 3

kit = progkit.start()
reactor = kit.reactor
errors: list[str] = []


def on_log(event):
    failure = event.get("log_failure")
    if failure is not None:
        errors.append(f"{failure.type.__name__}: {failure.getErrorMessage()}")


globalLogPublisher.addObserver(on_log)


def plain(index):
    kit.note("plain", index)
    kit.done()


def never():
    kit.note("never", True)


def sooner():
    kit.note("sooner", True)
    kit.done()


def later():
    kit.note("later", True)
    kit.done()


def delayed():
    kit.note("delayed", True)
    kit.done()


def boom():
    kit.done()
    raise ValueError("boom in a timer")


def beat():
    kit.note("beat", True)
    if len(kit.program["beat"]) == TICKS:
        looping.stop()


def slept():
    kit.note("slept", True)
    return "slept"


def schedule():
    for index in range(PLAIN):
        reactor.callLater(0.001 * index, plain, index)  # @plain
    cancelled = reactor.callLater(0.002, never)  # @never
    cancelled.cancel()  # @cancel
    soon = reactor.callLater(30, sooner)  # @sooner
    soon.reset(0.01)  # @reset_sooner
    late = reactor.callLater(0.001, later)  # @later
    late.reset(0.03)  # @reset_later
    moved = reactor.callLater(0.01, delayed)  # @delayed
    moved.delay(0.02)  # @delay
    reactor.callLater(0, boom)  # @boom
    looping.start(0.005).addCallback(kit.done)  # @looping
    task.deferLater(reactor, 0.01, slept).addCallback(kit.done)  # @defer_later


looping = task.LoopingCall(beat)
kit.expect(PLAIN + 3 + 1 + 1 + 1)
reactor.callWhenRunning(schedule)
kit.run(lambda: kit.program.update(errors=errors))
