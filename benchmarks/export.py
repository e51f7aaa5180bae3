"""Export speed and memory: a million events to JSON and to Chrome format.

    python benchmarks/export.py [--events N] [--recorded] [--check]

The default trace is synthetic but shaped like a busy server's: loop
iterations, timers scheduled from dispatches and fired later with Deferred
callbacks nested inside them, socket reads and writes, thread-pool jobs on
worker threads, connections opening and closing. ``--recorded`` also records
a real traced program (a ``callLater(0)`` chain with a Deferred per step)
and times ``write_parts`` on its resolved events, and ``Tracer.export`` end to
end (resolution of the ring and the final snapshot included).

Each export runs in a fresh child process, so that peak memory (the child's
maximum resident set, and tracemalloc's peak of Python allocations during the
export alone) belongs to that export. Targets: JSON <= 2 s, Chrome <= 3 s for
1,000,000 events. Exit status 0 unless ``--check`` is given and one is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from typing import Any

TARGETS = {"json": 2.0, "chrome": 3.0}
DEFAULT_EVENTS = 1_000_000
PROTOCOLS = ("app.web.HTTPChannel", "app.db.PGProtocol", "app.cache.RedisProtocol")
CALLABLES = (
    "app.web.Resource.render_GET",
    "app.db.Pool._on_row",
    "twisted.internet.task.LoopingCall.__call__",
    "app.cache.Client._expire",
)


def synthetic_events(count: int) -> list[Any]:
    """``count`` events in recording order (a dispatch after the callbacks it ran)."""
    from reactortrace.core.events import Event

    events: list[Event] = []
    add = events.append
    seq = 0
    ts = 1_000
    timer = 0
    conn = 0
    open_conns: list[int] = []
    pending: list[tuple[int, str]] = []
    step = 0
    while seq < count:
        step += 1
        start = ts
        # a timer fires, running two Deferred callbacks and scheduling another timer
        if pending:
            fired, name = pending.pop(0)
            t0 = ts + 2_000
            add(Event(seq, t0 + 500, 1_200, "deferred", CALLABLES[1],
                      {"outcome": "success", "failure": None, "errback": False,
                       "site": "app/db.py:88", "line": None}))
            add(Event(seq + 1, t0 + 2_000, 800, "deferred", CALLABLES[0],
                      {"outcome": "success", "failure": None, "errback": False,
                       "site": "app/web.py:12", "line": 40}))
            timer += 1
            add(Event(seq + 2, t0 + 3_000, 0, "timer.schedule", CALLABLES[3],
                      {"timer": timer, "site": "app/cache.py:30", "delay": 5_000_000,
                       "due": t0 + 5_003_000, "looping": False}))
            pending.append((timer, CALLABLES[3]))
            add(Event(seq + 3, t0, 4_000, "timer", name,
                      {"timer": fired, "site": "app/cache.py:30", "delay": 5_000_000,
                       "late": 20_000, "looping": False, "error": None}))
            seq += 4
            ts = t0 + 4_000
        else:
            timer += 1
            add(Event(seq, ts + 100, 0, "timer.schedule", CALLABLES[2],
                      {"timer": timer, "site": "app/main.py:10", "delay": 1_000_000,
                       "due": ts + 1_000_100, "looping": True}))
            pending.append((timer, CALLABLES[2]))
            seq += 1
        # a connection comes and goes now and then
        if step % 50 == 1:
            conn += 1
            open_conns.append(conn)
            add(Event(seq, ts + 100, 0, "conn.open", PROTOCOLS[conn % 3],
                      {"conn": conn, "fd": 10 + conn % 100, "type": "tcp",
                       "local": "127.0.0.1:8080", "peer": f"127.0.0.1:{40000 + conn % 20000}",
                       "transport": "twisted.internet.tcp.Server"}))
            seq += 1
        if step % 50 == 25 and open_conns:
            add(Event(seq, ts + 100, 0, "conn.close", PROTOCOLS[open_conns[0] % 3],
                      {"conn": open_conns.pop(0), "reason": "ConnectionDone"}))
            seq += 1
        # a read with a nested callback, then a write
        if open_conns:
            c = open_conns[-1]
            t0 = ts + 1_000
            add(Event(seq, t0 + 3_000, 2_500, "deferred", CALLABLES[0],
                      {"outcome": "success", "failure": None, "errback": False,
                       "site": "app/web.py:12", "line": None}))
            add(Event(seq + 1, t0, 9_000, "io.read", PROTOCOLS[c % 3],
                      {"conn": c, "fd": 10 + c % 100, "bytes": 512, "error": None}))
            add(Event(seq + 2, t0 + 10_000, 3_000, "io.write", PROTOCOLS[c % 3],
                      {"conn": c, "fd": 10 + c % 100, "bytes": 2048, "buffered": 0,
                       "error": None}))
            seq += 3
            ts = t0 + 13_000
        # a thread-pool job on one of four workers
        if step % 20 == 0:
            add(Event(seq, ts - 5_000, 40_000, "thread", "app.db.blocking_query",
                      {"source": "pool", "wait": 3_000,
                       "thread": f"PoolThread-twisted.internet.reactor-{step % 4}",
                       "error": None}))
            seq += 1
        wait = 200_000
        ts += 1_000 + wait
        add(Event(seq, start, ts - start, "iteration", "iteration", {"wait": wait}))
        seq += 1
    del events[count:]
    return events


def synthetic_trace(count: int) -> Any:
    from reactortrace.core.trace import Trace

    meta = {
        "program": "server.py", "argv": ["server.py"], "pid": 4242, "python": "3.11",
        "twisted": "26.10.0", "reactor": "twisted.internet.epollreactor.EPollReactor",
        "start_wall": time.time(), "options": {"max_events": count},
    }
    return Trace(meta=meta, events=synthetic_events(count))


# -- children -------------------------------------------------------------------


def _measure(action: Any) -> dict[str, float]:
    """Time ``action``; the resident set's peak before and after tells its memory.

    (tracemalloc would tell Python allocations exactly, but it slows them
    down several times, which would spoil the timing.) CPU time is given
    beside wall time: on a loaded machine it is the steadier of the two.
    """
    before = _rss_mb()
    started, cpu = time.perf_counter(), time.process_time()
    action()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"seconds": seconds, "cpu": cpu, "rss_before_mb": before, "rss_peak_mb": _rss_mb()}


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_synthetic(fmt: str, count: int, out: str) -> dict[str, float]:
    """``write_parts`` of a synthetic trace's event list."""
    from reactortrace.formats import write_parts

    trace = synthetic_trace(count)
    return _measure(lambda: write_parts(out, trace.meta, trace.events, lambda: None, 0, fmt))


def _recorded_tracer(count: int) -> Any:
    """A tracer that recorded ``count`` events of a callLater(0) chain with Deferreds."""
    from twisted.internet import epollreactor

    epollreactor.install()
    from twisted.internet import defer, reactor

    import reactortrace

    tracer = reactortrace.instrument(reactor, max_events=count)

    def step() -> None:
        d: defer.Deferred[int] = defer.Deferred()
        d.addCallback(lambda value: value)
        d.callback(1)
        if tracer.recorder.ring.total < count:
            reactor.callLater(0, step)
        else:
            reactor.stop()

    reactor.callWhenRunning(step)
    reactor.run()
    return tracer


def child_recorded_write(fmt: str, count: int, out: str) -> dict[str, float]:
    """``write_parts`` of a recorded program's events (resolved beforehand, untimed)."""
    from reactortrace.formats import write_parts

    tracer = _recorded_tracer(count)
    snapshot = tracer.snapshot()
    events = tracer.events()
    return _measure(
        lambda: write_parts(out, tracer.meta, events, lambda: snapshot, tracer.dropped, fmt)
    )


def child_recorded_export(fmt: str, count: int, out: str) -> dict[str, float]:
    """``Tracer.export`` end to end: resolving the ring, the snapshot, writing."""
    tracer = _recorded_tracer(count)
    return _measure(lambda: tracer.export(out, fmt))


CHILDREN = {
    "synthetic": ("synthetic trace", child_synthetic),
    "recorded-write": ("recorded, write_parts", child_recorded_write),
    "recorded-export": ("recorded, Tracer.export", child_recorded_export),
}


# -- parent -----------------------------------------------------------------------


def run_child(source: str, fmt: str, count: int, workdir: str) -> dict[str, Any]:
    out = os.path.join(workdir, f"{source}.{fmt}")
    command = [sys.executable, __file__, "--child", source, fmt, str(count), out]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr else "failed"}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["bytes"] = os.path.getsize(out)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=DEFAULT_EVENTS)
    parser.add_argument("--recorded", action="store_true",
                        help="also record a real program and time its export (slower)")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        source, fmt, count, out = args.child
        print(json.dumps(CHILDREN[source][1](fmt, int(count), out)))
        return 0
    sources = list(CHILDREN) if args.recorded else ["synthetic"]
    missed = False
    print(f"{args.events:,} events; targets: json <= {TARGETS['json']} s, "
          f"chrome <= {TARGETS['chrome']} s (scaled to the event count)")
    print(f"{'source':<25} {'format':<7} {'wall s':>7} {'cpu s':>6} {'target':>7} {'file MB':>8} "
          f"{'RSS before MB':>13} {'RSS peak MB':>11} {'added MB':>8}")
    with tempfile.TemporaryDirectory(prefix="rt-export-bench-") as workdir:
        for source in sources:
            label = CHILDREN[source][0]
            for fmt in ("json", "chrome"):
                result = run_child(source, fmt, args.events, workdir)
                if "error" in result:
                    print(f"{label:<25} {fmt:<7} error: {result['error']}")
                    missed = True
                    continue
                target = TARGETS[fmt] * args.events / DEFAULT_EVENTS
                ok = result["seconds"] <= target
                missed |= not ok
                added = result["rss_peak_mb"] - result["rss_before_mb"]
                print(f"{label:<25} {fmt:<7} {result['seconds']:7.2f} {result['cpu']:6.2f} "
                      f"{target:7.2f} {result['bytes'] / 1e6:8.1f} "
                      f"{result['rss_before_mb']:13.1f} {result['rss_peak_mb']:11.1f} "
                      f"{added:8.1f}  {'ok' if ok else 'SLOW'}")
    return 1 if (args.check and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
