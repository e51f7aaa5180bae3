"""50,000 Deferreds with 3 callbacks each, then an ``inlineCallbacks`` loop awaiting
as many already-fired Deferreds.

    python deferreds.py [--scale X]
"""

import argparse

from twisted.internet import defer, reactor

parser = argparse.ArgumentParser()
parser.add_argument("--scale", type=float, default=1.0)
SIZE = max(1, round(50_000 * parser.parse_args().scale))


def add_one(value):
    return value + 1


def double(value):
    return value * 2


@defer.inlineCallbacks
def loop():
    total = 0
    for n in range(SIZE):
        total += yield defer.succeed(n)
    return total


def main():
    total = 0
    for n in range(SIZE):
        d = defer.Deferred()
        d.addCallback(add_one)
        d.addCallback(double)
        d.addCallback(lambda value: value)
        d.callback(n)
        total += d.result
    assert total == SIZE * (SIZE + 1)
    loop().addCallback(lambda _: reactor.stop())


reactor.callWhenRunning(main)
reactor.run()
