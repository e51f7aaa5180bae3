"""One of reactortrace's own threads fails mid-run; the program must not notice.

    python thread_faults.py --reactor R --out TRACE --fault keeper|watchdog

The program installs a strict ``threading.excepthook`` (it exits with status 99
on any thread's uncaught exception), breaks the named thread's work after the
first second, then schedules 20,000 more timers.
"""

import os
import sys
import threading

import progkit

FAULT = sys.argv[sys.argv.index("--fault") + 1]
del sys.argv[sys.argv.index("--fault"):sys.argv.index("--fault") + 2]

threading.excepthook = lambda args: os._exit(99)
kit = progkit.start()
reactor = kit.reactor
tracer = kit.tracer


def broken(*args, **kwargs):
    raise RuntimeError(f"injected into the {FAULT}")


def break_it():
    if FAULT == "keeper":
        tracer._keeper.tick = broken
    else:
        tracer._watchdog.sample = broken
    kit.note("total_at_fault", tracer.recorder.ring.total)
    reactor.callLater(0.5, chain, 20_000)  # after the thread has met the fault


def chain(left):
    if left:
        reactor.callLater(0, chain, left - 1)
    else:
        kit.note("total_after", tracer.recorder.ring.total)
        kit.note("done", True)
        reactor.stop()


reactor.callLater(0.2, break_it)
kit.run()
