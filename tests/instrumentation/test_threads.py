"""Threads on every reactor family: callFromThread, deferToThread, callInThread."""

from __future__ import annotations

import pytest

from .tracecheck import Run, Runner


@pytest.fixture
def run(runner: Runner, reactor: str) -> Run:
    return runner.run("threads", reactor).check()


def test_call_from_thread_runs_on_the_reactor_named_by_the_callable(run: Run) -> None:
    assert run.program["from_thread"] == [[42, "MainThread"]]
    [event] = run.of("thread", "on_reactor")
    assert event.args["source"] == "reactor"
    assert event.args["wait"] is not None and event.args["wait"] >= 0
    assert event.args["error"] is None
    assert run.of("timer", "on_reactor") == []


def test_pool_jobs_are_recorded_from_the_worker(run: Run) -> None:
    thread_of = dict(run.program["pool_thread"])
    for name in ("pool_job", "fire_and_forget", "failing_job"):
        [job] = run.of("thread", name)
        assert job.args["source"] == "pool"
        assert job.args["thread"] == thread_of[name]
        assert job.args["thread"].startswith("PoolThread")
        assert job.args["wait"] is not None and job.args["wait"] >= 0
        assert job.args["error"] == ("KeyError" if name == "failing_job" else None)
    assert run.program["job_result"] == [42]


def test_a_failing_pool_job_records_its_error(run: Run) -> None:
    [job] = run.of("thread", "failing_job")
    assert job.args["source"] == "pool"
    assert job.args["error"] == "KeyError"
    assert job.args["thread"].startswith("PoolThread")
    assert run.program["job_failure"] == ["KeyError: 'no such job'"]
    [errback] = run.of("deferred", "failed")
    assert errback.args["errback"] is True


def test_untraced_run_behaves_the_same(runner: Runner, reactor: str) -> None:
    traced = runner.run("threads", reactor).check()
    plain = runner.run("threads", reactor, "--untraced")
    assert plain.returncode == 0, plain.describe()
    # which pool thread runs which job is up to the pool; everything else is the same
    for facts in (traced.program, plain.program):
        facts["pool_thread"] = sorted(job for job, _ in facts["pool_thread"])
    assert traced.program == plain.program
