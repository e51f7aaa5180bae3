"""The program the viewer benchmark watches: zero-delay timers, paced or flat out.

    python viewer_program.py paced RATE SECONDS DELAY   # about RATE events a second
    python viewer_program.py work TIMERS DELAY          # TIMERS timer dispatches, flat out

Each zero-delay timer is two recorded events (scheduled, fired). ``paced``
keeps the count of timers fired on the schedule of RATE events a second,
topping up every 5 ms (less often below 8,000 events a second), for SECONDS. ``work`` runs 100 chains of zero-delay
calls until TIMERS have run. Either starts DELAY seconds after the reactor
(time for a viewer to attach) and prints one JSON line about the work alone:
``seconds`` (wall), ``cpu`` (CPU seconds of the whole process, every thread,
so a live server's work counts) and ``timers``.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any, Callable

from twisted.internet import reactor
from twisted.internet.task import LoopingCall

EVENTS_PER_TIMER = 2
#: Seconds between two top-ups: 5 ms on a busy program, up to 100 ms on a
#: quiet one (whose top-ups would otherwise be most of its events).
TICK = 0.005
MAX_TICK = 0.1
CHAINS = 100


def noop() -> None:
    pass


class Window:
    """Wall and CPU time from :meth:`open` to :meth:`close`; stops the reactor."""

    def __init__(self) -> None:
        self.result: dict[str, Any] = {}

    def open(self) -> None:
        self.wall = time.perf_counter()
        self.cpu = time.process_time()

    def close(self, timers: int) -> None:
        self.result = {
            "seconds": time.perf_counter() - self.wall,
            "cpu": time.process_time() - self.cpu,
            "timers": timers,
        }
        reactor.stop()


def paced(window: Window, rate: float, seconds: float) -> Callable[[], None]:
    fired = 0

    def top_up() -> None:
        nonlocal fired
        elapsed = time.perf_counter() - window.wall
        if elapsed >= seconds:
            loop.stop()
            window.close(fired)
            return
        due = int(elapsed * rate / EVENTS_PER_TIMER)
        for _ in range(min(due - fired, 5_000)):
            reactor.callLater(0, noop)
            fired += 1

    loop = LoopingCall(top_up)

    def begin() -> None:
        window.open()
        loop.start(min(MAX_TICK, max(TICK, EVENTS_PER_TIMER * 20 / rate)))

    return begin


def work(window: Window, timers: int) -> Callable[[], None]:
    left = timers

    def step() -> None:
        nonlocal left
        left -= 1
        if left > 0:
            reactor.callLater(0, step)
        elif left == 0:
            window.close(timers)

    def begin() -> None:
        window.open()
        for _ in range(CHAINS):
            reactor.callLater(0, step)

    return begin


def main(argv: list[str]) -> int:
    window = Window()
    if argv[:1] == ["paced"] and len(argv) == 4:
        begin, delay = paced(window, float(argv[1]), float(argv[2])), float(argv[3])
    elif argv[:1] == ["work"] and len(argv) == 3:
        begin, delay = work(window, int(argv[1])), float(argv[2])
    else:
        sys.stderr.write(__doc__ or "")
        return 2
    reactor.callLater(delay, begin)
    reactor.run()
    print(json.dumps(window.result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
