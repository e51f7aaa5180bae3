"""A failure in one of reactortrace's own threads never reaches the program.

The program exits 99 from a strict ``threading.excepthook`` if any thread's
exception escapes; it must instead run to its end, with one log line and no
traceback. A failed ring keeper turns every part off, so that the ring stays
bounded (nothing more is appended); a failed watchdog turns itself off.
"""

from __future__ import annotations

import pytest

from .tracecheck import Runner


@pytest.mark.parametrize("fault", ["keeper", "watchdog"])
def test_a_failing_thread_changes_nothing_for_the_program(
    runner: Runner, reactor: str, fault: str
) -> None:
    run = runner.run("thread_faults", reactor, "--fault", fault)
    assert run.returncode == 0, run.stderr
    assert run.program["done"] == [True]
    assert "Traceback" not in run.stderr
    assert run.stderr.count("recording failed and is now off") >= 1
    assert f"injected into the {fault}" in run.stderr
    recording = run.trace.meta["recording"]
    if fault == "keeper":
        # Every part is off: 20,000 timers later the ring has not grown.
        assert all(not status["on"] for status in recording.values()), recording
        grew = run.program["total_after"][0] - run.program["total_at_fault"][0]
        assert grew < 100, grew
    else:
        assert recording["watchdog"]["on"] is False
        assert recording["timers"]["on"] is True
