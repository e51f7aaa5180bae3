"""Timers on every reactor family: fired, cancelled, reset, looping, deferLater, raising."""

from __future__ import annotations

import pytest

from .tracecheck import Run, Runner

MS = 1_000_000
#: How far apart two clocks read around one call may be on a busy machine.
SLACK = 8 * MS


@pytest.fixture
def run(runner: Runner, reactor: str) -> Run:
    return runner.run("timers", reactor).check()


def fired(run: Run, name: str) -> list:
    return run.of("timer", name)


def test_plain_timers_fire_once_each_with_their_site(run: Run) -> None:
    indexes = run.program["plain"]
    timers = fired(run, "plain")
    assert len(timers) == len(indexes) == 3
    assert {t.args["site"] for t in timers} == {run.site("plain")}
    assert [t.args["delay"] for t in timers] == [index * MS for index in indexes]
    assert len({t.args["timer"] for t in timers}) == len(timers)
    assert all(t.args["looping"] is False and t.args["error"] is None for t in timers)


def test_every_fired_timer_was_scheduled_first_and_fired_once(run: Run) -> None:
    scheduled = {e.args["timer"]: e for e in run.of("timer.schedule")}
    ids = [e.args["timer"] for e in run.of("timer")]
    assert len(ids) == len(set(ids))
    for event in run.of("timer"):
        schedule = scheduled[event.args["timer"]]
        # a timer's id is the time it was scheduled
        assert schedule.ts == event.args["timer"] and schedule.seq < event.seq
        assert (schedule.name, schedule.args["site"]) == (event.name, event.args["site"])
        assert event.args["late"] >= 0
        assert event.dur >= 0


def test_cancelled_timer_is_not_fired(run: Run) -> None:
    assert "never" not in run.program
    assert fired(run, "never") == []
    [schedule] = run.of("timer.schedule", "never")
    [cancel] = run.of("timer.cancel", "never")
    assert schedule.args["site"] == run.site("never")
    assert cancel.args == {"timer": schedule.args["timer"], "site": run.site("cancel")}


def _reset_of(run: Run, name: str) -> tuple:
    [schedule] = run.of("timer.schedule", name)
    [reset] = run.of("timer.reset", name)
    [fire] = fired(run, name)
    assert reset.args["timer"] == schedule.args["timer"] == fire.args["timer"]
    return schedule, reset, fire


def test_reset_sooner_moves_the_due_time_earlier(run: Run) -> None:
    schedule, reset, fire = _reset_of(run, "sooner")
    assert schedule.args["delay"] == 30_000 * MS
    # reset(0.01): due 10 ms after the reset, long before the first due time
    assert abs(reset.args["due"] - (reset.ts + 10 * MS)) < SLACK
    assert reset.args["due"] < schedule.args["due"] - 29_000 * MS
    assert fire.ts >= reset.args["due"] - 2 * MS
    assert fire.ts < schedule.args["due"]


def test_reset_later_moves_the_due_time_later(run: Run) -> None:
    schedule, reset, fire = _reset_of(run, "later")
    assert schedule.args["delay"] == 1 * MS
    assert abs(reset.args["due"] - (reset.ts + 30 * MS)) < SLACK
    assert reset.args["due"] > schedule.args["due"] + 20 * MS
    assert fire.ts >= reset.args["due"] - 2 * MS


def test_delay_pushes_the_due_time_back(run: Run) -> None:
    schedule, reset, fire = _reset_of(run, "delayed")
    assert abs(reset.args["due"] - (schedule.args["due"] + 20 * MS)) < SLACK
    assert fire.ts >= reset.args["due"] - 2 * MS


def test_looping_call_ticks_are_named_by_the_function_at_the_start_site(run: Run) -> None:
    beats = run.program["beat"]
    ticks = fired(run, "beat")
    # start() calls the function once at once; every later beat is a timer
    assert len(ticks) == len(beats) - 1 == 2
    for tick in ticks:
        assert tick.args["looping"] is True
        assert tick.args["site"] == run.site("looping")
    schedules = run.of("timer.schedule", "beat")
    assert len(schedules) == len(ticks)  # the last beat stops the loop: no more
    assert all(s.args["looping"] is True for s in schedules)


def test_defer_later_is_named_by_the_users_callable(run: Run) -> None:
    [fire] = fired(run, "slept")
    assert fire.args["site"] == run.site("defer_later")
    assert fire.args["delay"] == 10 * MS
    assert run.program["slept"] == [True]


def test_raising_timer_records_the_error_and_twisted_still_logs_it(run: Run) -> None:
    [fire] = fired(run, "boom")
    assert fire.args["error"] == "ValueError"
    assert fire.args["site"] == run.site("boom")
    assert run.program["errors"] == ["ValueError: boom in a timer"]
    others = [e for e in run.of("timer") if e.name != "boom"]
    assert all(e.args["error"] is None for e in others)


def test_timer_events_name_user_code_not_reactortrace(run: Run) -> None:
    kinds = ("timer", "timer.schedule", "timer.cancel", "timer.reset", "deferred", "thread")
    leaked = [e for e in run.events if e.kind in kinds and e.name.startswith("reactortrace.")]
    assert leaked == []


def test_untraced_run_behaves_the_same(runner: Runner, reactor: str) -> None:
    traced = runner.run("timers", reactor).check()
    plain = runner.run("timers", reactor, "--untraced")
    assert plain.returncode == 0, plain.describe()
    assert traced.program == plain.program
