"""Pending Deferreds, and what each waits on, seen by snapshots taken on another thread.

Once a client connection is up the program sets up, all pending at once: a
Deferred chained to another that a timer fires, an ``inlineCallbacks`` function
waiting on ``deferLater``, a coroutine awaiting a thread-pool job, a Deferred a
client protocol fires when data arrives, a DeferredList and nested coroutines.
A first snapshot (``healthy``) is taken from a thread of its own; then two
Deferreds are made to wait on each other (after 3,000 more pending ones), and a
second snapshot (``cycle``) is taken. Then the job and the connection are let go, and the reactor stops.
"""

import dataclasses
import threading

import progkit
from twisted.internet import defer, protocol, task, threads

kit = progkit.start()
reactor = kit.reactor
release_job = threading.Event()
kept = []
MANY = 3_000
arrivals = []


class Waiter(protocol.Protocol):
    """A client whose Deferred fires when the server's data arrives."""

    def connectionMade(self):
        self.arrived = defer.Deferred()  # @conn_deferred
        arrivals.append(self.arrived)
        scenarios(self)

    def dataReceived(self, data):
        self.arrived, arrived = None, self.arrived
        if arrived is not None:
            arrived.callback(data)


class Quiet(protocol.Protocol):
    """The server side: says something only when told."""

    def connectionMade(self):
        servers.append(self)


servers = []


@defer.inlineCallbacks
def sleeper():
    yield task.deferLater(reactor, 30, lambda: None)  # @deferlater


def job():
    release_job.wait(30)
    return "done"


async def awaits_thread():
    return await threads.deferToThread(job)  # @thread_await


async def inner_coroutine():
    await task.deferLater(reactor, 30, lambda: None)  # @inner_await


async def outer_coroutine():
    await inner_coroutine()  # @outer_await


def scenarios(client):
    inner = defer.Deferred()  # @chain_inner
    reactor.callLater(30, inner.callback, 1)  # @chain_timer
    outer = defer.Deferred()  # @chain_outer
    outer.addCallback(lambda _: inner)
    outer.callback(None)
    listed = defer.DeferredList([defer.Deferred(), defer.Deferred()])  # @deferred_list
    kept.extend([outer, inner, listed, sleeper(), defer.ensureDeferred(awaits_thread()),
                 defer.ensureDeferred(outer_coroutine()), client.arrived])
    reactor.callLater(0.05, snapshot_from_a_thread, "healthy", make_cycle)


def make_cycle():
    # Many more pending, younger than all above, older than the cycle: the
    # snapshot lists the oldest and every Deferred in a deadlock, and counts the rest.
    kept.extend(defer.Deferred() for _ in range(MANY))  # @many
    first = defer.Deferred()  # @cycle_first
    second = defer.Deferred()  # @cycle_second
    first.addCallback(lambda _: second)
    second.addCallback(lambda _: first)
    first.callback(1)
    second.callback(2)
    kept.extend([first, second])
    reactor.callLater(0.01, snapshot_from_a_thread, "cycle", finish)


def snapshot_from_a_thread(label, then):
    def take():
        try:
            # Walked now: a snapshot may hand out the last walk again when that
            # one was slow (a loaded machine), and this one comes 10 ms after it.
            view = kit.tracer.pending_deferreds(fresh=True)
            facts = dataclasses.asdict(view) if view is not None else None
        except Exception as exc:  # noqa: BLE001 - the facts say what went wrong
            facts = {"error": repr(exc)}
        reactor.callFromThread(stored, facts)

    def stored(facts):
        kit.tracer_facts[label] = facts
        then()

    threading.Thread(target=take).start()


def finish():
    release_job.set()
    servers[0].transport.write(b"hello")
    client = arrivals[0]
    client.addCallback(lambda data: kit.note("received", data.decode()))
    client.addBoth(lambda _: reactor.stop())


def begin():
    port = reactor.listenTCP(0, protocol.Factory.forProtocol(Quiet), interface="127.0.0.1")
    creator = protocol.ClientCreator(reactor, Waiter)
    creator.connectTCP("127.0.0.1", port.getHost().port).addErrback(kit.crashed)


reactor.callWhenRunning(begin)
kit.run()
