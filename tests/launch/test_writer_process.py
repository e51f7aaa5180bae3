"""``run -o``: the writer process writes the trace, and the program's ring
stands behind it (a writer that cannot start, or dies, changes nothing for the
user), and a JSON Lines stream it writes survives SIGKILL of the program."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import reactortrace
from reactortrace.launch import session

from ..live.fakes import wait_until

TIMEOUT = 60

TICKS = """
import os, sys
from twisted.internet import reactor, task
{setup}
ticks = []

def tick():
    ticks.append(1)
    if len(ticks) == 200:
        open(sys.argv[1], "w").write(str(os.getpid()))
    if len(ticks) == {stop_after}:
        reactor.stop()
    else:
        reactor.callLater({delay}, tick)

reactor.callWhenRunning(tick)
reactor.run()
"""
#: Ticks that make more records (three each) than run writes in the program.
MANY = session.IN_PROCESS_UP_TO // 3 + 1000

#: Makes the writer process fail at once (its command exits), in the program.
BROKEN_WRITER = """
from reactortrace.instrumentation import capture
capture.writer_command = lambda: [sys.executable, "-c", "raise SystemExit(3)"]
"""


def run(tmp_path: Path, out: Path, stop_after: int, setup: str = "",
        delay: float = 0) -> subprocess.Popen[str]:
    program = tmp_path / "ticks.py"
    program.write_text(TICKS.format(setup=textwrap.dedent(setup), stop_after=stop_after,
                                    delay=delay))
    return subprocess.Popen(
        [sys.executable, "-m", "reactortrace", "run", "--no-tui", "-o", str(out),
         str(program), str(tmp_path / "pid")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def ticks_in(trace: reactortrace.Trace) -> int:
    """Ticks run by a timer (the first is run by the reactor's start)."""
    return sum(1 for event in trace.by_kind("timer") if event.name.endswith("tick"))


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
@pytest.mark.parametrize("writer", ["working", "broken"])
@pytest.mark.parametrize("ticks", [400, MANY])
def test_the_trace_is_written_whole_whether_or_not_the_writer_works(
    tmp_path: Path, fmt: str, writer: str, ticks: int
) -> None:
    out = tmp_path / f"trace.{fmt}"
    process = run(tmp_path, out, ticks, BROKEN_WRITER if writer == "broken" else "")
    _, err = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 0, err
    trace = reactortrace.load(str(out))
    assert trace.complete and trace.snapshot is not None
    assert ticks_in(trace) == ticks - 1
    assert trace.snapshot.loop.events == len(trace.events)
    assert f"wrote {out} ({len(trace.events)} events)" in err
    assert "Traceback" not in err


def test_a_stream_written_by_the_writer_survives_sigkill_of_the_program(tmp_path: Path) -> None:
    out = tmp_path / "trace.jsonl"
    process = run(tmp_path, out, 10**9, delay=0.001)
    try:
        pid_file = tmp_path / "pid"
        wait_until(lambda: pid_file.exists() and pid_file.read_text() != "", TIMEOUT)
        # The stream keeps up: the 200th tick is on disk within the interval.
        wait_until(lambda: out.exists() and out.read_bytes().count(b'"kind":"timer"') >= 200,
                   TIMEOUT)
        os.kill(int(pid_file.read_text()), signal.SIGKILL)
        process.communicate(timeout=TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    trace = reactortrace.load(str(out))
    assert not trace.complete
    assert ticks_in(trace) >= 200
    assert [event.seq for event in trace.events] == sorted({e.seq for e in trace.events})


#: After the stop's write: a callback runs at exit, and an in-process write fails.
AFTER_THE_STOP = """
import atexit
from twisted.internet import defer
from reactortrace.instrumentation.tracer import Tracer

def in_process(*args, **kwargs):
    raise AssertionError("the trace was written in the program")

Tracer.export = in_process

def after_the_stop(value):
    return value

def at_exit():
    d = defer.Deferred()
    d.addCallback(after_the_stop)
    d.callback(None)

atexit.register(at_exit)
"""


def run_whole(tmp_path: Path, fmt: str, setup: str) -> tuple[reactortrace.Trace, str]:
    """The trace of MANY ticks with ``setup``, written as ``fmt``, and run's stderr."""
    out = tmp_path / f"trace.{fmt}"
    process = run(tmp_path, out, MANY, setup)
    _, err = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 0, err
    trace = reactortrace.load(str(out))
    assert trace.complete and trace.snapshot is not None
    return trace, err


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_what_is_recorded_after_the_stop_is_written_by_the_writer_too(
    tmp_path: Path, fmt: str
) -> None:
    trace, err = run_whole(tmp_path, fmt, AFTER_THE_STOP)
    assert "written in the program" not in err
    assert ticks_in(trace) == MANY - 1
    last = trace.events[-1]
    assert (last.kind, last.name.rsplit(".", 1)[-1]) == ("deferred", "after_the_stop")
    assert [event.seq for event in trace.events] == list(range(len(trace.events)))
    # Counted in the snapshot the writer wrote last, with the ticks.
    names = {row.name.rsplit(".", 1)[-1] for row in trace.snapshot.callables}
    assert {"after_the_stop", "tick"} <= names


#: Callbacks run before the reactor does: the writer takes them before the
#: path it writes is decided (as the reactor starts).
BEFORE_THE_RUN = """
from twisted.internet import defer

def before_the_run(value):
    return value

for n in range(2000):
    defer.succeed(n).addCallback(before_the_run)
"""


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_what_is_recorded_before_the_reactor_runs_is_written_first(
    tmp_path: Path, fmt: str
) -> None:
    trace, _ = run_whole(tmp_path, fmt, BEFORE_THE_RUN)
    early = [event.seq for event in trace.events if event.name.endswith("before_the_run")]
    first_tick = next(event.seq for event in trace.by_kind("timer") if event.name.endswith("tick"))
    assert len(early) == 2000 and early[-1] < first_tick
    assert [event.seq for event in trace.events] == list(range(len(trace.events)))
    assert ticks_in(trace) == MANY - 1


#: Something is recorded while the writer writes (as a watchdog's late report of
#: a slow dispatch is): a callback runs as each write starts.
DURING_THE_WRITE = """
from twisted.internet import defer
from reactortrace.instrumentation.capture import Capture

def during_the_write(value):
    return value

writes = Capture.write

def write(self, *args, **kwargs):
    defer.succeed(None).addCallback(during_the_write)
    return writes(self, *args, **kwargs)

Capture.write = write
"""


def test_a_trace_is_written_once_when_records_arrive_during_its_write(tmp_path: Path) -> None:
    trace, err = run_whole(tmp_path, "json", DURING_THE_WRITE)
    # The stop's write took the new record: the exit has nothing new to write.
    assert err.count("wrote ") == 1, err
    last = trace.events[-1]
    assert last.name.endswith("during_the_write")
    assert f"({len(trace.events)} events)" in err


#: A ring of 500 records, wrapped many times over, written as Chrome by a
#: writer process and then in the program, the clock stopped in between.
WRAPPED_CHROME = """
import sys
from twisted.internet import reactor
import reactortrace
from reactortrace.instrumentation import capture

tracer = reactortrace.instrument(reactor, max_events=500)
writer = capture.Capture(tracer, sys.argv[1] + ".capture.chrome.json", "chrome",
                         interval=0.005)
steps = []

def step():
    steps.append(1)
    if len(steps) < 3000:
        reactor.callLater(0, step)
    else:
        reactor.stop()

reactor.callWhenRunning(step)
reactor.run()
stopped = tracer.recorder.clock()
tracer.recorder.clock = lambda: stopped
writer.write(final=True)
writer.close()
tracer.export(sys.argv[1] + ".chrome.json")
tracer.close()
"""


def test_a_chrome_trace_holds_what_the_ring_holds_whoever_writes_it(tmp_path: Path) -> None:
    program = tmp_path / "wrapped.py"
    program.write_text(WRAPPED_CHROME)
    done = subprocess.run([sys.executable, str(program), str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr
    exported, captured = (json.loads((tmp_path / f"out.{way}chrome.json").read_text())
                          for way in ("", "capture."))
    info = captured["otherData"]["reactortrace"]
    # The writer let go of what fell out of the ring, as the ring did.
    assert 0 < info["events"] <= 500 and info["dropped"] >= 3 * 3000 - 500
    # Every slice, arrow and name alike. (The loop's counters may differ a
    # little: the first iteration kept starts where the one before it ended,
    # which the writer saw and the program's ring no longer holds.)
    def drawn(doc: dict[str, Any]) -> list[dict[str, Any]]:
        return [event for event in doc["traceEvents"] if event["ph"] != "C"]

    assert len(drawn(captured)) > 500
    assert drawn(captured) == drawn(exported)
    assert captured["otherData"] == exported["otherData"]
