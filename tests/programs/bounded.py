"""Bounded memory: TIMERS timers through a ring of --max-events events."""

import progkit

TIMERS = 1000

kit = progkit.start(max_events=100)
reactor = kit.reactor


def tick(index):
    kit.program["ticks"] = kit.program.get("ticks", 0) + 1
    kit.done()


def schedule():
    for index in range(TIMERS):
        reactor.callLater(0, tick, index)


def measure():
    if kit.tracer is not None:
        snapshot = kit.tracer.snapshot()
        kit.tracer_facts["snapshot_dropped"] = snapshot.dropped
        kit.tracer_facts["events"] = len(kit.tracer.events())
        kit.tracer_facts["dropped"] = kit.tracer.dropped


kit.program["timers"] = TIMERS
kit.expect(TIMERS)
reactor.callWhenRunning(schedule)
kit.run(after=measure)
