"""Streaming JSON Lines while a program runs: complete, bounded, and safe to kill."""

from __future__ import annotations

import os
import signal
import threading
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

import reactortrace
from reactortrace.cli import main
from reactortrace.core.events import Event
from reactortrace.errors import TraceFileError
from reactortrace.formats.stream import StreamWriter

from .conftest import run_program

DEADLINE = 30.0


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


class Source:
    """A drain: hands out the events added since the previous call, like a tracer."""

    def __init__(self) -> None:
        self.pending: list[Event] = []
        self.lock = threading.Lock()
        self.seq = 0
        self.calls = 0

    def add(self, count: int) -> None:
        with self.lock:
            for _ in range(count):
                args = {"outcome": "success"}
                self.pending.append(Event(self.seq, self.seq * 1_000, 500, "deferred", "cb", args))
                self.seq += 1

    def __call__(self) -> list[Event]:
        with self.lock:
            self.calls += 1
            taken, self.pending = self.pending, []
            return taken


def lines(path: Path) -> list[bytes]:
    return path.read_bytes().split(b"\n")


def test_events_are_written_while_running_and_close_finishes_the_file(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    source = Source()
    stream = StreamWriter(path, {"program": "app"}, source, interval=0.01)
    source.add(10)
    wait_for(lambda: len(lines(path)) >= 12, "the first batch")  # meta + 10 + ""
    assert not reactortrace.load(str(path)).complete
    source.add(5)
    stream.close({"ts": 99}, 3)
    stream.close({"ts": 100}, 4)  # idempotent: nothing more is written
    trace = reactortrace.load(str(path))
    assert trace.complete and trace.dropped == 3 and trace.snapshot.ts == 99
    assert [e.seq for e in trace.events] == list(range(15))
    assert stream.events_written == 15 and stream.closed


def test_a_snapshot_function_is_called_after_the_last_events_are_taken(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    source = Source()
    stream = StreamWriter(path, {}, source, interval=60)
    source.add(3)

    def snapshot() -> dict[str, int]:
        # a tracer's snapshot() drains pending events: they must be out by now
        assert source() == []
        return {"ts": 1}

    stream.close(snapshot, 0)
    trace = reactortrace.load(str(path))
    assert len(trace.events) == 3 and trace.snapshot is not None


def test_a_failing_snapshot_still_ends_the_file(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    stream = StreamWriter(path, {}, Source(), interval=60)

    def snapshot() -> None:
        raise KeyError("state broke")

    stream.close(snapshot, 2)
    trace = reactortrace.load(str(path))
    assert trace.complete and trace.snapshot is None and trace.dropped == 2


def test_a_failing_drain_stops_streaming_and_close_says_so(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    calls = []

    def drain() -> list[Event]:
        calls.append(1)
        if len(calls) > 1:
            raise RuntimeError("resolver broke")
        return [Event(0, 0, 0, "timer", "app.t", {})]

    stream = StreamWriter(path, {}, drain, interval=0.01)
    wait_for(lambda: stream.error is not None, "the failure")
    with pytest.raises(TraceFileError, match="resolver broke"):
        stream.close(None, 0)
    stream.close(None, 0)  # closed once and for all
    trace = reactortrace.load(str(path))
    assert not trace.complete and len(trace.events) == 1


def test_memory_stays_bounded_however_many_batches(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    source = Source()
    batch, batches = 2_000, 25
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        source.add(batch)
        one_batch = tracemalloc.get_traced_memory()[0] - before  # events held in memory
        tracemalloc.reset_peak()
        stream = StreamWriter(path, {}, source, interval=0.005)
        for _ in range(batches - 1):
            wait_for(lambda: not source.pending, "a batch to be taken")
            source.add(batch)
        stream.close(None, 0)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert len(reactortrace.load(str(path)).events) == batch * batches
    # a few batches at a time (the one waiting, the one being written and its
    # lines), never the whole run
    assert peak < 5 * one_batch < batches * one_batch, (peak, one_batch)


def test_a_program_killed_with_sigkill_leaves_a_loadable_cut_short_trace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "killed.jsonl"
    process = run_program("stream.py", "epoll", str(path))
    try:
        wait_for(lambda: path.exists() and len(lines(path)) > 300, "streamed events")
    finally:
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=DEADLINE)
    assert process.returncode == -signal.SIGKILL
    raw = lines(path)
    complete = raw[:-1]  # after the last newline: nothing, or a line cut while written
    records = [orjson.loads(line) for line in complete]
    assert records[0]["type"] == "meta" and all(r["type"] == "event" for r in records[1:])
    trace = reactortrace.load(str(path))
    assert not trace.complete
    assert [e.seq for e in trace.events] == [r["seq"] for r in records[1:]]
    assert len(trace.events) >= 300 - 2
    assert {"timer", "deferred"} <= {e.kind for e in trace.events}
    out = tmp_path / "killed.json"
    assert main(["export", str(path), "-o", str(out)]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cut short" in err[0]
    assert reactortrace.load(str(out)).events == trace.events


def test_a_program_that_ends_streams_exactly_what_the_tracer_recorded(tmp_path: Path) -> None:
    path = tmp_path / "ended.jsonl"
    process = run_program("stream.py", "asyncio", str(path), "0.4")
    _, stderr = process.communicate(timeout=DEADLINE)
    assert process.returncode == 0, stderr
    streamed = reactortrace.load(str(path))
    whole = reactortrace.load(f"{path}.json")
    assert streamed.complete and streamed.snapshot is not None
    assert streamed.events == whole.events and len(streamed.events) > 100
    assert os.path.getsize(path) > 0
