"""Healthy: a static web server and an Agent client on one reactor, large files
through flow control, a LoopingCall whose function returns a Deferred,
deferToThread, and ``reactor.stop()`` with the server still listening."""

import os
import tempfile

import kit
from twisted.internet import defer, task, threads
from twisted.web import client, server, static

BIG = 1024 * 1024
# A lenient slow threshold: the test runs every program on every reactor at
# once on a small machine, where a busy core can stretch any dispatch or delay
# a tick.
reactor, tracer = kit.start(slow_ms=1000, late_ms=1000)
root = tempfile.mkdtemp()
with open(os.path.join(root, "big.bin"), "wb") as f:
    f.write(os.urandom(BIG))
with open(os.path.join(root, "index.html"), "wb") as f:
    f.write(b"<html>hello</html>")


def refresh():
    """A LoopingCall's function that returns a Deferred."""
    return task.deferLater(reactor, 0.005, lambda: None)  # @defer_later


def checksum():
    with open(os.path.join(root, "big.bin"), "rb") as f:
        return len(f.read())


@defer.inlineCallbacks
def fetch_all(port):
    agent = client.Agent(reactor)
    base = f"http://127.0.0.1:{port}/".encode()
    for name in (b"index.html", b"big.bin", b"big.bin", b"index.html"):
        response = yield agent.request(b"GET", base + name)  # @request
        body = yield client.readBody(response)
        assert response.code == 200 and body
    size = yield threads.deferToThread(checksum)
    assert size == BIG


def done(_):
    loop.stop()
    reactor.stop()  # the server still listens, Agent's pool may hold a connection


site = server.Site(static.File(root))
listening = reactor.listenTCP(0, site, interface="127.0.0.1")  # @listen
loop = task.LoopingCall(refresh)
loop.start(0.02)  # @loop_start
fetch_all(listening.getHost().port).addBoth(done)  # @fetch
kit.run(reactor, tracer)
