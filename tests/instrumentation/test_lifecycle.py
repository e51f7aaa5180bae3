"""instrument() and close() on every reactor family: late, exact undo, only real reactors."""

from __future__ import annotations

from .tracecheck import Run, Runner


def test_instrumenting_a_running_reactor_sees_connections_made_before(
    runner: Runner, reactor: str
) -> None:
    run = runner.run("late", reactor, "--late").check()
    sent = run.program["client_sent"]
    before = run.tracer["instrumented_after"]
    assert sent[0] == before
    after = sum(sent[1:])
    server = [e for e in run.opened(type="tcp") if e.name == "__main__.Server"]
    client = [e for e in run.opened(type="tcp.client") if e.name == "__main__.Client"]
    assert len(server) == len(client) == 1
    for conn in (server[0].args["conn"], client[0].args["conn"]):
        reads = run.io(conn)
        assert len(reads) >= len(sent) - 1
        assert sum(e.args["bytes"] for e in reads) == after
        assert sum(e.args["bytes"] for e in run.io(conn, "io.write")) == after
    assert run.program["client_received"] == sent


def _restore_run(runner: Runner, reactor: str, *flags: str) -> Run:
    run = runner.run("restore", reactor, "--late", *flags)
    assert run.returncode == 0, run.describe()
    assert "crashed" not in run.program, run.program["crashed"]
    return run


def test_close_restores_the_reactor_and_classes_exactly(runner: Runner, reactor: str) -> None:
    control = _restore_run(runner, reactor, "--untraced")
    assert control.program["differences"] == []  # the comparison itself sees no noise
    run = _restore_run(runner, reactor)
    assert run.program["differences"] == []
    assert run.program["asyncio_handles_wrapped"] == []
    assert run.program["final_class"] == control.program["final_class"]


def test_the_program_works_the_same_before_during_and_after_tracing(
    runner: Runner, reactor: str
) -> None:
    run = _restore_run(runner, reactor)
    control = _restore_run(runner, reactor, "--untraced")
    assert run.program["work"] == control.program["work"]
    assert [label for label, _ in run.program["work"]] == ["untraced", "traced", "closed"]


def test_nothing_is_recorded_after_close(runner: Runner, reactor: str) -> None:
    run = _restore_run(runner, reactor)
    at_close = run.tracer["events_at_close"]
    at_end = run.tracer["events_at_end"]
    assert any(e["name"] == "work.<locals>.<lambda>" for e in at_close)
    late = [e for e in at_end if e not in at_close]
    assert late == [], f"recorded after close(): {late}"


def test_only_real_reactors_are_instrumented_and_only_once(runner: Runner, reactor: str) -> None:
    run = runner.run("fakes", reactor)
    assert run.returncode == 0, run.describe()
    for target in ("clock", "memory", "twice"):
        name, is_ours = run.program[target]
        assert is_ours, f"{target}: raised {name}, not a ReactorTraceError"
    assert run.program["failures"] == run.program["again_failures"] == []
