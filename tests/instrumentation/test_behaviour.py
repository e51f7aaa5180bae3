"""Tracing changes nothing the program can see, even when reactortrace itself breaks."""

from __future__ import annotations

from .tracecheck import Runner, normalize


def test_traced_and_untraced_runs_observe_the_same_things(runner: Runner, reactor: str) -> None:
    traced = runner.run("behaviour", reactor).check(status=3)
    plain = runner.run("behaviour", reactor, "--untraced")
    assert plain.returncode == 3, plain.describe()
    assert "exit" in plain.program["order"]
    for key in ("order", "results"):
        assert traced.program[key] == plain.program[key], key
    assert normalize(repr(traced.program["errbacks"])) == normalize(repr(plain.program["errbacks"]))


def test_twisted_logs_the_same_errors_traced_or_not(runner: Runner, reactor: str) -> None:
    traced = runner.run("behaviour", reactor).check(status=3)
    plain = runner.run("behaviour", reactor, "--untraced")
    logged = [normalize(text) for text in traced.program["logged"]]
    assert logged == [normalize(text) for text in plain.program["logged"]]
    assert "Unhandled error in Deferred:" in logged
    assert any("RuntimeError: nobody handled me" in text for text in logged)
    assert any("LookupError: timer failed" in text for text in logged)
    assert normalize(traced.stderr) == normalize(plain.stderr)
    assert traced.stdout == plain.stdout


def test_a_failing_part_is_logged_once_turned_off_and_unnoticed(
    runner: Runner, reactor: str
) -> None:
    run = runner.run("failing", reactor).check()
    plain = runner.run("failing", reactor, "--untraced")
    assert plain.returncode == 0, plain.describe()
    assert "crashed" not in run.program, run.program["crashed"]
    assert run.program == plain.program

    failures = run.tracer["failures"]
    parts = [failure.split(":", 1)[0] for failure in failures]
    assert {"deferreds", "timers", "threads"} <= set(parts)
    assert len(parts) == len(set(parts)), failures
    assert all("RuntimeError: interner broke" in failure for failure in failures)
    warnings = run.tracer["warnings"]
    assert len(warnings) == len(parts), warnings
    for part in parts:
        assert len([w for w in warnings if f" {part} " in w]) == 1, (part, warnings)

    # The Deferred part broke at the first new callback: later calls of a
    # known one are no longer recorded.
    order = run.program["order"]
    before_break = order[: order.index("fresh_callback 1")]
    assert run.tracer["known_events"] == sum(step.startswith("known") for step in before_break)
    assert len([step for step in order if step.startswith("known")]) > run.tracer["known_events"]
