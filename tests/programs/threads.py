"""Threads: callFromThread from a plain thread, deferToThread and callInThread jobs."""

import threading

import progkit
from twisted.internet import threads

kit = progkit.start()
reactor = kit.reactor


def on_reactor(value):
    kit.note("from_thread", [value, threading.current_thread().name])
    kit.done()


def plain_thread():
    reactor.callFromThread(on_reactor, 42)


def pool_job(value):
    kit.note("pool_thread", ["pool_job", threading.current_thread().name])
    return value * 2


def failing_job():
    kit.note("pool_thread", ["failing_job", threading.current_thread().name])
    raise KeyError("no such job")


def fire_and_forget():
    kit.note("pool_thread", ["fire_and_forget", threading.current_thread().name])
    reactor.callFromThread(kit.done)


def failed(failure):
    kit.note("job_failure", f"{failure.type.__name__}: {failure.getErrorMessage()}")


def begin():
    threading.Thread(target=plain_thread, name="plain-worker").start()
    result = threads.deferToThread(pool_job, 21)
    result.addCallback(lambda value: kit.note("job_result", value)).addBoth(kit.done)
    threads.deferToThread(failing_job).addErrback(failed).addBoth(kit.done)
    reactor.callInThread(fire_and_forget)


kit.expect(4)
reactor.callWhenRunning(begin)
kit.run()
