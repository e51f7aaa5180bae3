"""The Deferreds view on every reactor family: what each pending Deferred waits on.

``tests/programs/waiting.py`` sets up pending Deferreds of every kind and takes
two snapshots from a thread of its own (as the live server does): one of a
healthy program, one after two Deferreds were made to wait on each other.
"""

from __future__ import annotations

from typing import Any

import pytest

from reactortrace.core.snapshot import PendingDeferreds, Snapshot
from reactortrace.instrumentation.waits import MAX_LISTED

from .tracecheck import Run, Runner


@pytest.fixture
def run(runner: Runner, reactor: str) -> Run:
    return runner.run("waiting", reactor, "--deferred-view").check()


def view(run: Run, label: str) -> PendingDeferreds:
    facts = run.tracer[label]
    assert facts is not None and "error" not in facts, facts
    # The facts hold the view as the snapshot's JSON form would: read it back as one.
    snapshot = Snapshot.from_dict({"ts": 0, "deferreds": facts})
    assert snapshot.deferreds is not None
    return snapshot.deferreds


def made_at(pending: PendingDeferreds, run: Run, marker: str) -> list[Any]:
    return [d for d in pending.deferreds if d.made_at == run.site(marker)]


def one(pending: PendingDeferreds, run: Run, marker: str) -> Any:
    found = made_at(pending, run, marker)
    assert len(found) == 1, (marker, found)
    return found[0]


def timer_scheduled_at(run: Run, marker: str) -> int:
    ids = [e.args["timer"] for e in run.of("timer.schedule") if e.args["site"] == run.site(marker)]
    assert len(ids) == 1, ids
    return int(ids[0])


def test_the_program_runs_as_it_would_untraced(run: Run) -> None:
    assert run.program == {"received": ["hello"]}
    assert run.tracer["failures"] == []


def test_chained_deferred_waits_on_the_one_a_timer_fires(run: Run) -> None:
    pending = view(run, "healthy")
    inner = one(pending, run, "chain_inner")
    outer = one(pending, run, "chain_outer")
    assert outer.waits_on == (inner.id,)
    assert outer.source == "deferred"
    assert inner.source == "timer"
    # The timer is the one the Timers view lists, by the same id.
    assert inner.timer == timer_scheduled_at(run, "chain_timer")
    assert outer.fired_by == inner.detail and outer.fired_by.startswith(f"timer {inner.timer}")
    assert outer.depth == 1 and inner.depth == 0
    assert outer.age is not None and outer.age > 0


def test_inline_callbacks_waits_on_defer_later(run: Run) -> None:
    pending = view(run, "healthy")
    later = one(pending, run, "deferlater")
    assert later.name == "twisted.internet.task.deferLater"
    assert later.source == "timer" and later.timer == timer_scheduled_at(run, "deferlater")
    (generator,) = [d for d in pending.deferreds if d.name == "sleeper"]
    assert generator.kind == "inlineCallbacks"
    assert generator.suspended_at == run.site("deferlater")
    assert generator.waits_on == (later.id,)
    assert generator.fired_by.startswith(f"timer {later.timer}")


def test_coroutine_awaits_a_thread_job(run: Run) -> None:
    pending = view(run, "healthy")
    job = one(pending, run, "thread_await")
    assert job.source == "thread"
    assert job.detail.startswith("thread-pool job") and "job" in job.detail.split()[-1]
    (coroutine,) = [d for d in pending.deferreds if d.name == "awaits_thread"]
    assert coroutine.kind == "coroutine"
    assert coroutine.suspended_at == run.site("thread_await")
    assert coroutine.waits_on == (job.id,)
    assert coroutine.fired_by == job.detail


def test_nested_coroutines_show_every_await(run: Run) -> None:
    pending = view(run, "healthy")
    (coroutine,) = [d for d in pending.deferreds if d.name == "outer_coroutine"]
    assert coroutine.awaits == (
        f"{run.site('outer_await')} outer_coroutine",
        f"{run.site('inner_await')} inner_coroutine",
    )
    assert coroutine.suspended_at == run.site("inner_await")


def test_deferred_waits_on_a_connections_data(run: Run) -> None:
    pending = view(run, "healthy")
    arrived = one(pending, run, "conn_deferred")
    clients = [e for e in run.of("conn.open") if e.name.endswith("Waiter")]
    assert len(clients) == 1, run.of("conn.open")
    assert arrived.source == "connection"
    assert arrived.conn == clients[0].args["conn"]
    assert "Waiter" in arrived.detail


def test_deferred_list_waits_on_each_of_its_deferreds(run: Run) -> None:
    pending = view(run, "healthy")
    (listed,) = [d for d in pending.deferreds if d.kind == "DeferredList"]
    assert len(listed.waits_on) == 2
    members = [d for d in pending.deferreds if d.id in listed.waits_on]
    assert len(members) == 2 and all(m.source == "nothing" for m in members)


def test_healthy_program_has_no_deadlock(run: Run) -> None:
    pending = view(run, "healthy")
    assert pending.deadlocks == ()
    assert not any(d.deadlock for d in pending.deferreds)
    assert pending.total == len(pending.deferreds) and pending.omitted == 0


def test_two_deferreds_waiting_on_each_other_are_a_deadlock(run: Run) -> None:
    pending = view(run, "cycle")
    first = one(pending, run, "cycle_first")
    second = one(pending, run, "cycle_second")
    assert pending.deadlocks == ((first.id, second.id),)
    assert first.waits_on == (second.id,) and second.waits_on == (first.id,)
    assert first.deadlock and second.deadlock
    assert first.fired_by == f"deadlock: #{first.id} → #{second.id} → #{first.id}"
    # Nothing else is caught up in it, and the rest keep their numbers.
    assert sum(d.deadlock for d in pending.deferreds) == 2
    healthy = {d.id: d.made_at for d in view(run, "healthy").deferreds}
    assert all(healthy[i] == d.made_at for d in pending.deferreds if (i := d.id) in healthy)
    assert set(healthy) <= {d.id for d in pending.deferreds}


def test_thousands_pending_are_counted_not_all_listed(run: Run) -> None:
    pending = view(run, "cycle")
    healthy = view(run, "healthy")
    assert pending.total == healthy.total + 3_000 + 2
    # The oldest 200 (the healthy ones, then the oldest of the 3,000), and the
    # cycle, younger than all of them.
    assert len(pending.deferreds) == MAX_LISTED + 2
    assert pending.omitted == pending.total - len(pending.deferreds)
    many = made_at(pending, run, "many")
    assert len(many) == MAX_LISTED - healthy.total
    ages = [d.age for d in pending.deferreds if d.age is not None]
    assert ages[:MAX_LISTED] == sorted(ages[:MAX_LISTED], reverse=True)


def test_the_trace_file_keeps_the_last_view(run: Run) -> None:
    assert run.trace is not None and run.trace.snapshot is not None
    final = run.trace.snapshot.deferreds
    assert final is not None
    # At the end the cycle and the 30 s timers are still pending.
    assert len(final.deadlocks) == 1
    assert any(d.name == "sleeper" for d in final.deferreds)
