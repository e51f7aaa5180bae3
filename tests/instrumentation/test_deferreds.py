"""Deferreds on every reactor family: outcomes, chains, inlineCallbacks, coroutines."""

from __future__ import annotations

import pytest

from .tracecheck import Run, Runner, markers


@pytest.fixture
def run(runner: Runner, reactor: str) -> Run:
    return runner.run("deferreds", reactor).check()


def _one(run: Run, name: str):
    events = run.of("deferred", name)
    assert len(events) == 1, f"{name}: {events}"
    return events[0]


def test_callbacks_and_errbacks_record_their_outcome(run: Run) -> None:
    expected = {
        # name: (errback, outcome, failure)
        "double": (False, "success", None),
        "explode": (False, "failure", "ZeroDivisionError"),
        "reraise": (True, "failure", "ZeroDivisionError"),
        "recover": (True, "success", None),
    }
    for name, (errback, outcome, failure) in expected.items():
        event = _one(run, name)
        assert (event.args["errback"], event.args["outcome"], event.args["failure"]) == (
            errback,
            outcome,
            failure,
        ), name
        assert event.args["line"] is None
        assert event.args["site"].startswith(f"{run.path}:")
    assert run.of("deferred", "skipped") == []
    assert run.program["recovered"] == ["ZeroDivisionError: explode"]
    assert run.program["simple_result"] == ["recovered"]


def test_callbacks_are_recorded_in_the_order_they_ran(run: Run) -> None:
    order = run.program["order"]
    recorded = [e.name for e in run.of("deferred") if e.name in set(order)]
    assert recorded == order


def test_chained_deferred_records_the_inner_callbacks(run: Run) -> None:
    outer, inner, after = (_one(run, n) for n in ("chain_outer", "chain_inner", "chain_after"))
    assert outer.seq < inner.seq < after.seq
    assert all(e.args["outcome"] == "success" for e in (outer, inner, after))
    assert run.program["chain_result"] == [20]


@pytest.mark.parametrize(
    ("function", "first", "second"),
    [
        ("generator_flow", "gen_first", "gen_second"),
        ("coroutine_flow", "coro_first", "coro_second"),
    ],
)
def test_resumptions_are_named_by_the_function_with_the_line_it_waited_at(
    run: Run, function: str, first: str, second: str
) -> None:
    lines = markers(run.path)
    resumed = run.of("deferred", function)
    assert [e.args["line"] for e in resumed] == [lines[first], lines[second]]
    assert all(e.args["outcome"] == "success" for e in resumed)
    assert all(e.args["site"].startswith(f"{run.path}:") for e in resumed)
    internal = [e.name for e in run.of("deferred") if "_gotResultInlineCallbacks" in e.name]
    assert internal == []


def test_untraced_run_behaves_the_same(runner: Runner, reactor: str) -> None:
    traced = runner.run("deferreds", reactor).check()
    plain = runner.run("deferreds", reactor, "--untraced")
    assert plain.returncode == 0, plain.describe()
    assert traced.program == plain.program
