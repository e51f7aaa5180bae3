"""A part that cannot be installed, or fails later, turns off alone and says so in the data.

These tests instrument reactors in this process that are never installed or
run: what is checked is set-up and undoing, and what the tracer reports.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

import pytest
from twisted.internet import defer
from twisted.internet.epollreactor import EPollReactor

from reactortrace.core.diagnose import RECORDING_OFF
from reactortrace.core.trace import Trace
from reactortrace.formats.summary import summarize
from reactortrace.instrumentation import specs
from reactortrace.instrumentation.rewrite import Timed
from reactortrace.instrumentation.tracer import Tracer


def never(stmt: ast.stmt) -> bool:
    return False


@pytest.fixture
def reactor() -> Iterator[Any]:
    made = EPollReactor()
    yield made
    for reader in list(made.getReaders()):
        made.removeReader(reader)


def test_a_callLater_that_cannot_be_rewritten_is_wrapped_and_noted(
    reactor: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(specs, "call_later", lambda: [Timed(never, "_rt_scheduled", "")])
    tracer = Tracer(reactor, watchdog=False)
    try:
        reactor.callLater(5, print)
        [record] = [e for e in tracer.events() if e.kind == "timer.schedule"]
        assert record.name == "print"
        status = tracer.recording()["timers"]
        assert status["on"] is True and "callLater" in status["notes"][0]
    finally:
        tracer.close()


def test_a_failure_at_set_up_turns_its_part_off_and_undoes_its_patches(
    reactor: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    cls = type(reactor)
    before = {name: cls.__dict__.get(name)
              for name in ("runUntilCurrent", "callLater", "addReader")}
    monkeypatch.setattr(specs, "do_write", lambda: [Timed(never, "_rt_bytes", "")])
    monkeypatch.setattr(specs, "run_until_current",
                        lambda threads: [Timed(never, "_rt_timer", "")])
    with caplog.at_level("WARNING", logger="reactortrace"):
        tracer = Tracer(reactor, watchdog=False)
    try:
        assert {name: cls.__dict__.get(name) for name in before} == before
        recording = tracer.recording()
        assert recording["timers"]["on"] is False
        assert "runUntilCurrent" in recording["timers"]["why"]
        assert recording["loop"] == {"on": True, "why": None}
        # io had patched addReader before doWrite was refused: undone too.
        assert recording["io"]["on"] is False and "doWrite" in recording["io"]["why"]
        assert [r.getMessage() for r in caplog.records].count(
            f"reactortrace: timers recording failed and is now off: {recording['timers']['why']}"
        ) == 1
        [warning] = [w for w in tracer.snapshot().warnings
                     if w["code"] == RECORDING_OFF and w["subject"] == "timers"]
        assert warning["subject"] == "timers" and "no timers" in warning["message"]
        trace = tracer.trace()
        assert trace.meta["recording"]["timers"]["on"] is False
    finally:
        tracer.close()
    assert {name: cls.__dict__.get(name) for name in before} == before


def test_a_part_failing_while_the_program_runs_is_in_meta_summary_and_snapshot(
    reactor: Any,
) -> None:
    tracer = Tracer(reactor, watchdog=False)
    try:
        tracer.recorder.parts["deferreds"].fail(RuntimeError("interner broke"))
        d: defer.Deferred[int] = defer.Deferred()
        d.addCallback(lambda value: value + 1)
        d.callback(1)  # runs unrecorded, and still runs
        assert d.result == 2
        trace = tracer.trace()
    finally:
        tracer.close()
    assert trace.meta["recording"]["deferreds"] == {
        "on": False, "why": "RuntimeError: interner broke"
    }
    assert not [e for e in trace.events if e.kind == "deferred"]
    summary = summarize(trace)
    assert summary["trace"]["recording_off"] == {"deferreds": "RuntimeError: interner broke"}
    codes = [w["code"] for w in summary["warnings"]]
    assert codes.count(RECORDING_OFF) == 1
    # Without the warning event (fallen out of the ring), meta still says it.
    bare = Trace(trace.meta, [e for e in trace.events if e.kind != "warning"], None)
    assert [w["subject"] for w in summarize(bare)["warnings"]
            if w["code"] == RECORDING_OFF] == ["deferreds"]


def test_close_leaves_a_patch_the_program_made_after_us(reactor: Any) -> None:
    cls = type(reactor)
    original = cls.__dict__.get("callLater")
    tracer = Tracer(reactor, watchdog=False)
    ours = cls.__dict__["callLater"]

    def theirs(self: Any, *args: Any, **kw: Any) -> Any:  # a profiler's wrapper
        return ours(self, *args, **kw)

    cls.callLater = theirs
    try:
        tracer.close()
        assert cls.__dict__["callLater"] is theirs
        assert any("callLater" in kept for kept in tracer.recording()["timers"].get("kept", []))
    finally:
        if original is None:
            del cls.callLater
        else:
            cls.callLater = original
