"""reactortrace breaks inside: each part that fails is logged once and turned off.

After a first round of work, the recorder's interner (which every part uses
for objects it has not seen yet) is made to raise. A second and third round
with new callables then make each part fail; the program must not notice.
"""

import logging
import threading

import progkit
from twisted.internet import defer, task, threads

kit = progkit.start()
reactor = kit.reactor
warnings: list[str] = []


class Collect(logging.Handler):
    def emit(self, record):
        warnings.append(record.getMessage())


logging.getLogger().addHandler(Collect(logging.WARNING))


def known(value):
    kit.note("order", f"known {value}")
    return value


def fresh_callback(value):
    kit.note("order", f"fresh_callback {value}")
    return value + 1


def fresh_timer(label):
    kit.note("order", f"fresh_timer {label}")


def fresh_job(value):
    return [value, threading.current_thread().name.startswith("PoolThread")]


def broken(obj):
    raise RuntimeError("interner broke")


@defer.inlineCallbacks
def round_of_work(label):
    value = yield defer.succeed(1).addCallback(known).addCallback(fresh_callback)
    kit.note("values", value)
    yield task.deferLater(reactor, 0.001, fresh_timer, label)
    kit.note("jobs", (yield threads.deferToThread(fresh_job, label)))


@defer.inlineCallbacks
def scenario():
    yield defer.succeed(0).addCallback(known)
    if kit.tracer is not None:
        kit.tracer.recorder.interner.add = broken
    for label in ("second", "third"):
        yield round_of_work(label)
    if kit.tracer is not None:
        kit.tracer_facts["failures"] = kit.tracer.failures
        kit.tracer_facts["warnings"] = [w for w in warnings if "reactortrace" in w]
        kit.tracer_facts["known_events"] = len(
            [e for e in kit.tracer.events() if e.kind == "deferred" and e.name == "known"]
        )
    kit.done()


kit.expect(1)
reactor.callWhenRunning(lambda: scenario().addErrback(kit.crashed))
kit.run()
