"""100,000 chained ``callLater(0)`` calls: each schedules the next.

    python call_later_chain.py [--scale X]
"""

import argparse

from twisted.internet import reactor

parser = argparse.ArgumentParser()
parser.add_argument("--scale", type=float, default=1.0)
left = max(1, round(100_000 * parser.parse_args().scale))


def step():
    global left
    left -= 1
    if left:
        reactor.callLater(0, step)
    else:
        reactor.stop()


reactor.callLater(0, step)
reactor.run()
