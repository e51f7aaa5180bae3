"""Deferreds: callbacks, errbacks, chained Deferreds, inlineCallbacks and coroutines."""

import progkit
from twisted.internet import defer, task

kit = progkit.start()
reactor = kit.reactor


def double(value):
    kit.note("order", "double")
    return value * 2


def explode(value):
    kit.note("order", "explode")
    raise ZeroDivisionError("explode")


def skipped(value):
    kit.note("order", "skipped")
    return value


def recover(failure):
    kit.note("order", "recover")
    kit.note("recovered", f"{failure.type.__name__}: {failure.getErrorMessage()}")
    return "recovered"


def reraise(failure):
    kit.note("order", "reraise")
    return failure


def chain_outer(value):
    kit.note("order", "chain_outer")
    inner = defer.Deferred()
    inner.addCallback(chain_inner)
    reactor.callLater(0.005, inner.callback, value + 1)
    return inner


def chain_inner(value):
    kit.note("order", "chain_inner")
    return value * 10


def chain_after(value):
    kit.note("order", "chain_after")
    kit.note("chain_result", value)


def later(value, delay=0.002):
    return task.deferLater(reactor, delay, lambda: value)


@defer.inlineCallbacks
def generator_flow():
    first = yield later(1)  # @gen_first
    second = yield later(first + 1)  # @gen_second
    kit.note("generator_result", second)
    return second


async def coroutine_flow():
    first = await later(10)  # @coro_first
    second = await later(first + 1)  # @coro_second
    kit.note("coroutine_result", second)
    return second


def begin():
    d = defer.succeed(5)
    d.addCallback(double)
    d.addCallback(explode)
    d.addCallback(skipped)
    d.addErrback(reraise)
    d.addErrback(recover)
    d.addCallback(lambda value: kit.note("simple_result", value))

    chained = defer.Deferred()
    chained.addCallback(chain_outer).addCallback(chain_after).addBoth(kit.done)
    reactor.callLater(0.001, chained.callback, 1)

    generator_flow().addBoth(kit.done)
    defer.Deferred.fromCoroutine(coroutine_flow()).addBoth(kit.done)


kit.expect(3)
reactor.callWhenRunning(begin)
kit.run()
