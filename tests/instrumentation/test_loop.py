"""System events and loop iterations on every reactor family."""

from __future__ import annotations

from .tracecheck import Runner


def test_startup_and_shutdown_system_events(runner: Runner, reactor: str) -> None:
    run = runner.run("timers", reactor).check()
    system = run.of("system")
    assert [e.name for e in system] == ["startup", "shutdown"]
    assert all(e.args["phase"] == e.name for e in system)
    startup, shutdown = system
    fired = run.of("timer", "plain")
    assert startup.seq < fired[0].seq
    assert shutdown.seq > max(e.seq for e in run.of("timer") if e.name != "shutdown")


def test_iterations_split_waiting_from_busy_time(runner: Runner, reactor: str) -> None:
    for name in ("timers", "echo"):
        run = runner.run(name, reactor).check()
        iterations = run.of("iteration")
        assert len(iterations) > 0, name
        for event in iterations:
            assert 0 <= event.args["wait"] <= event.dur, (name, event)
        # iterations follow each other: one starts where the previous one ended
        for before, after in zip(iterations, iterations[1:]):
            assert after.ts >= before.ts + before.dur - 1_000, (name, before, after)
        # the program waited for its timers: some iteration waited at all
        assert sum(e.args["wait"] for e in iterations) > 0, name
