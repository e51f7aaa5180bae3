"""A program whose observable behaviour must not change when it is traced.

It records the order of its calls, return values, the exceptions its errbacks
see (with their tracebacks), what Twisted logs (a raising timer, an unhandled
error in a Deferred), and it ends through ``task.react`` with ``sys.exit(3)``
in a callback: the exit status must be 3 traced or not.
"""

import gc
import sys

import progkit
from twisted.internet import defer, task, threads
from twisted.logger import formatEvent, globalLogPublisher

kit = progkit.start()
reactor = kit.reactor
logged: list[str] = []


def observe(event):
    text = formatEvent(event)
    failure = event.get("log_failure")
    if failure is not None:
        text += "\n" + failure.getTraceback()
    logged.append(text)


globalLogPublisher.addObserver(observe)


def step(name, value=None):
    kit.note("order", name)
    return value


def raising_timer():
    step("raising_timer")
    raise LookupError("timer failed")


def thread_job(value):
    if value < 0:
        raise ArithmeticError(f"negative: {value}")
    return value ** 2


def seen(failure):
    kit.note("errbacks", [failure.type.__name__, failure.getErrorMessage(), failure.getTraceback()])
    return "handled"


def unhandled(value):
    raise RuntimeError(f"nobody handled {value}")


def lose_a_failure():
    """A Deferred that fails with nobody listening: Twisted logs it when collected."""
    d = defer.Deferred()
    d.addCallback(unhandled)
    d.addCallback(step, "skipped_after_unhandled")
    d.callback("me")
    del d
    gc.collect()


@defer.inlineCallbacks
def generator(value):
    step("generator_start")
    doubled = yield task.deferLater(reactor, 0.001, lambda: value * 2)
    step("generator_resumed")
    try:
        yield threads.deferToThread(thread_job, -doubled)
    except ArithmeticError as exc:
        step("generator_caught")
        return f"caught {exc}"


async def coroutine(value):
    step("coroutine_start")
    squared = await threads.deferToThread(thread_job, value)
    step("coroutine_resumed")
    return squared + 1


def exit_now(results):
    kit.program["results"] = results
    kit.program["logged"] = logged
    step("exit")
    sys.exit(3)


@defer.inlineCallbacks
def scenario():
    """Each step waits for the one before, so the order of calls is fixed."""
    reactor.callLater(0, raising_timer)
    results = [(yield task.deferLater(reactor, 0.001, step, "after_timer", "timer-done"))]
    lose_a_failure()
    chain = defer.succeed(1)
    chain.addCallback(lambda v: step("first", v + 1))
    chain.addCallback(lambda v: step("second", v / 0))
    chain.addCallback(lambda v: step("skipped", v))
    chain.addErrback(seen)
    results.append((yield chain))
    results.append((yield generator(5)))
    results.append((yield defer.Deferred.fromCoroutine(coroutine(4))))
    results.append((yield threads.deferToThread(thread_job, -1).addErrback(seen)))
    return results


def main(reactor):
    return scenario().addCallback(exit_now)


kit.react(main)
