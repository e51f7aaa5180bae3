"""Trace: the in-memory form of a loaded file."""

from __future__ import annotations

from reactortrace.core.state import LoopState
from reactortrace.core.trace import Trace

from .builders import EventLog


def test_by_kind_and_duration(sample_log: EventLog) -> None:
    trace = Trace(events=sample_log.events)
    timers = trace.by_kind("timer.schedule")
    assert [e.args["timer"] for e in timers] == [1, 2]
    assert all(e.kind == "timer.schedule" for e in timers)
    assert trace.duration == max(e.ts + e.dur for e in sample_log.events)
    assert Trace().duration == 0


def test_state_at_replays_only_what_had_ended(sample_log: EventLog) -> None:
    trace = Trace(events=sample_log.events, dropped=4)
    before = trace.state_at(4_000)  # both timers pending, timer 2 already reset
    assert [(t.timer, t.due_in) for t in before.timers] == [
        (1, 5_002_000 - 4_000),
        (2, 12_000_000 - 4_000),
    ]
    assert [c.conn for c in before.connections] == [1]
    assert before.dropped == 4 and before.ts == 4_000
    after_fire = trace.state_at(5_020_000)
    assert [t.timer for t in after_fire.timers] == [2]
    end = trace.state_at(trace.duration)
    assert end.timers == () and end.connections == ()


def test_final_snapshot_prefers_the_recorded_one(sample_log: EventLog) -> None:
    state = LoopState()
    state.feed(sample_log.events[:3])
    recorded = state.snapshot()
    assert Trace(events=sample_log.events, snapshot=recorded).final_snapshot() is recorded
    replayed = Trace(events=sample_log.events).final_snapshot()
    assert replayed.ts == max(e.ts + e.dur for e in sample_log.events)
    assert replayed.loop.events == len(sample_log.events)
