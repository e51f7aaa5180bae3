"""One timer blocks the loop for about a second: half asleep, half burning CPU, with a
garbage collection in between. A thread of the program looks at ``snapshot()`` while it
blocks, as a live view would.
"""

import gc
import threading
import time

import progkit

kit = progkit.start()
reactor = kit.reactor
sleeping, spinning = threading.Event(), threading.Event()


def sleep_a_while():
    sleeping.set()
    time.sleep(0.6)  # @sleeping


def spin_a_while():
    spinning.set()
    end = time.thread_time() + 0.6  # CPU time: the same on a busy machine
    while time.thread_time() < end:  # @spinning
        pass


def job_that_blocks():
    sleep_a_while()
    gc.collect()
    spin_a_while()


def look_while_blocked():
    for phase in (sleeping, spinning):
        phase.wait(30)
        time.sleep(0.35)  # well into the phase: past the slow threshold, a few samples in
        if kit.tracer is None:
            continue
        snapshot = kit.tracer.snapshot()
        blocked = snapshot.blocked
        kit.note("seen", None if blocked is None else {
            "name": blocked.name, "site": blocked.site, "function": blocked.function,
            "made_at": blocked.made_at, "elapsed": blocked.elapsed, "waiting": blocked.waiting,
            "stack": list(blocked.stack[:blocked.user_frames]),
            "utilization": snapshot.loop.utilization, "lag": snapshot.loop.lag,
        })


threading.Thread(target=look_while_blocked, daemon=True).start()
reactor.callLater(0.2, job_that_blocks)  # @scheduled
reactor.callLater(1.8, reactor.stop)
kit.run()
