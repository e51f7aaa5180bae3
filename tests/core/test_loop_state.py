"""LoopState: events in, the reactor's state at a moment out."""

from __future__ import annotations

import copy
import math
import random
import time

import pytest

from reactortrace.core.state import OTHER, LoopState

from .builders import EventLog

MS = 1_000_000
S = 1_000_000_000


def open_tcp(log: EventLog, conn: int, fd: int) -> None:
    """A TCP connection of ``app.P`` opened at 0, its addresses unknown."""
    log.add("conn.open", 0, name="app.P", conn=conn, fd=fd, type="tcp", local=None,
            peer=None, transport=None)


def fed(log: EventLog, **options: int) -> LoopState:
    state = LoopState(**options)
    state.feed(log.events)
    return state


# -- pending timers ------------------------------------------------------------


def test_scheduled_timers_are_pending_sorted_by_due(log: EventLog) -> None:
    log.add(
        "timer.schedule",
        0,
        name="app.b",
        timer=2,
        site="b.py:2",
        delay=30 * MS,
        due=30 * MS,
        looping=False,
    )
    log.add(
        "timer.schedule",
        1 * MS,
        name="app.a",
        timer=1,
        site="a.py:1",
        delay=9 * MS,
        due=10 * MS,
        looping=True,
    )
    snap = fed(log).snapshot(4 * MS)
    assert [t.timer for t in snap.timers] == [1, 2]
    first = snap.timers[0]
    assert (first.name, first.site, first.delay, first.looping) == ("app.a", "a.py:1", 9 * MS, True)
    assert first.due_in == 10 * MS - 4 * MS
    assert snap.timers[1].due_in == 26 * MS


def test_fired_and_cancelled_timers_are_no_longer_pending(log: EventLog) -> None:
    for timer in (1, 2, 3):
        log.add(
            "timer.schedule",
            0,
            timer=timer,
            site=None,
            delay=timer * MS,
            due=timer * MS,
            looping=False,
        )
    log.add("timer", 1 * MS, 100, timer=1, site=None, delay=MS, late=0, looping=False, error=None)
    log.add("timer.cancel", 1 * MS + 200, timer=3, site=None)
    assert [t.timer for t in fed(log).snapshot().timers] == [2]


def test_reset_moves_a_timer_and_reorders(log: EventLog) -> None:
    log.add("timer.schedule", 0, timer=1, site=None, delay=5 * MS, due=5 * MS, looping=False)
    log.add("timer.schedule", 0, timer=2, site=None, delay=8 * MS, due=8 * MS, looping=False)
    log.add("timer.reset", 1 * MS, timer=1, site=None, due=20 * MS)
    snap = fed(log).snapshot(2 * MS)
    assert [(t.timer, t.due_in) for t in snap.timers] == [(2, 6 * MS), (1, 18 * MS)]


def test_overdue_timer_has_negative_due_in(log: EventLog) -> None:
    log.add("timer.schedule", 0, timer=1, site=None, delay=MS, due=MS, looping=False)
    assert fed(log).snapshot(3 * MS).timers[0].due_in == -2 * MS


def test_reset_of_a_timer_scheduled_before_the_trace_makes_it_pending(log: EventLog) -> None:
    log.add("timer.reset", 2 * MS, name="app.old", timer=9, site="x.py:1", due=7 * MS)
    (timer,) = fed(log).snapshot(2 * MS).timers
    assert (timer.timer, timer.name, timer.due_in) == (9, "app.old", 5 * MS)


# -- connections ---------------------------------------------------------------


def test_connection_counts_bytes_and_activity(log: EventLog) -> None:
    log.add(
        "conn.open",
        1 * MS,
        name="app.Echo",
        conn=5,
        fd=9,
        type="tcp",
        local="a:1",
        peer="b:2",
        transport="Server",
    )
    log.add("io.read", 2 * MS, 100, name="app.Echo", conn=5, fd=9, bytes=300, error=None)
    log.add("io.read", 3 * MS, 100, name="app.Echo", conn=5, fd=9, bytes=None, error=None)
    log.add(
        "io.write", 4 * MS, 50, name="app.Echo", conn=5, fd=9, bytes=120, buffered=4096, error=None
    )
    log.add(
        "io.write", 5 * MS, 50, name="app.Echo", conn=5, fd=9, bytes=80, buffered=1024, error=None
    )
    (conn,) = fed(log).snapshot(10 * MS).connections
    assert (conn.conn, conn.type, conn.protocol, conn.local, conn.peer, conn.fd) == (
        5,
        "tcp",
        "app.Echo",
        "a:1",
        "b:2",
        9,
    )
    assert (conn.bytes_in, conn.bytes_out, conn.reads, conn.writes) == (300, 200, 2, 2)
    assert conn.write_buffer == 1024
    assert conn.last_activity == 5 * MS + 50
    assert (conn.opened, conn.age) == (1 * MS, 9 * MS)


def test_io_event_updates_the_protocol_of_a_client(log: EventLog) -> None:
    log.add(
        "conn.open",
        0,
        name="twisted.internet.protocol.ClientFactory",
        conn=1,
        fd=3,
        type="tcp",
        local=None,
        peer="h:80",
        transport="Client",
    )
    log.add(
        "io.write",
        1 * MS,
        10,
        name="app.HTTPClient",
        conn=1,
        fd=3,
        bytes=10,
        buffered=0,
        error=None,
    )
    assert fed(log).snapshot().connections[0].protocol == "app.HTTPClient"


def test_io_for_an_unknown_connection_creates_it(log: EventLog) -> None:
    log.add("io.read", 7 * MS, 10, name="app.P", conn=3, fd=11, bytes=64, error=None)
    (conn,) = fed(log).snapshot().connections
    assert (conn.conn, conn.type, conn.protocol, conn.fd, conn.bytes_in) == (
        3,
        "unknown",
        "app.P",
        11,
        64,
    )


def test_closed_connection_is_gone_even_if_its_dispatch_ends_after_the_close(log: EventLog) -> None:
    open_tcp(log, conn=1, fd=3)
    open_tcp(log, conn=2, fd=4)
    # The read that saw EOF runs connectionLost, so its event comes after the close.
    log.add("conn.close", 1 * MS, name="app.P", conn=1, reason="ConnectionDone")
    log.add("io.read", 1 * MS - 100, 200, name="app.P", conn=1, fd=3, bytes=0, error=None)
    assert [c.conn for c in fed(log).snapshot().connections] == [2]


# -- per-callable statistics ---------------------------------------------------


def test_callable_stats_count_total_mean_max_errors(log: EventLog) -> None:
    durations = [1_000, 3_000, 8_000]
    for i, dur in enumerate(durations):
        log.add(
            "timer",
            i * MS,
            dur,
            name="app.tick",
            timer=i,
            site=None,
            delay=0,
            late=0,
            looping=False,
            error="ValueError" if i == 1 else None,
        )
    log.add(
        "thread", 5 * MS, 500, name="app.job", source="pool", wait=0, thread=None, error="KeyError"
    )
    log.add(
        "deferred",
        6 * MS,
        200,
        name="app.cb",
        outcome="success",
        failure=None,
        errback=False,
        site=None,
        line=None,
    )
    log.add(
        "deferred",
        7 * MS,
        400,
        name="app.cb",
        outcome="failure",
        failure="E",
        errback=True,
        site=None,
        line=None,
    )
    log.add("io.read", 8 * MS, 900, name="app.P", conn=1, fd=1, bytes=1, error=None)
    stats = {(c.name, c.kind): c for c in fed(log).snapshot().callables}
    assert set(stats) == {
        ("app.tick", "timer"), ("app.job", "thread"), ("app.cb", "deferred"), ("app.P", "io.read")
    }
    tick = stats["app.tick", "timer"]
    assert (tick.count, tick.total, tick.mean, tick.max, tick.errors) == (
        3,
        sum(durations),
        sum(durations) // 3,
        max(durations),
        1,
    )
    assert (stats["app.job", "thread"].errors, stats["app.cb", "deferred"].errors) == (1, 1)
    assert stats["app.cb", "deferred"].count == 2


def deferred(log: EventLog, ts: int, dur: int, name: str) -> None:
    log.add("deferred", ts, dur, name=name, outcome="success", failure=None, errback=False,
            site=None, line=None)


def test_self_time_leaves_out_the_dispatches_a_callable_ran(log: EventLog) -> None:
    """A timer fires a Deferred whose callback fires another: events come as each
    ends (innermost first); each callable's self time is its own share only."""
    log.add("thread", 200 * MS, 5_000 * MS, name="app.job", source="pool", wait=0,
            thread=None, error=None)  # on a worker thread, overlapping: nests in nothing
    deferred(log, 150 * MS, 50 * MS, "app.inner")
    deferred(log, 100 * MS, 250 * MS, "app.outer")
    deferred(log, 400 * MS, 100 * MS, "app.second")
    log.add("timer", 0, 1_000 * MS, name="app.tick", timer=1, site=None, delay=0, late=0,
            looping=False, error=None)
    log.add("iteration", 0, 1_010 * MS, name="iteration", wait=0)
    log.add("io.read", 1_100 * MS, 300 * MS, name="app.Echo", conn=1, fd=1, bytes=1, error=None)
    deferred(log, 1_500 * MS, 100 * MS, "app.outer")  # after the read, not within it
    stats = {c.name: c for c in fed(log).snapshot().callables}
    own = {name: (c.total // MS, c.self_time // MS) for name, c in stats.items()}
    assert own == {
        "app.job": (5_000, 5_000),
        "app.tick": (1_000, 650),  # less outer (250) and second (100), not inner twice
        "app.outer": (350, 300),  # 200 + 100, less inner (50)
        "app.inner": (50, 50),
        "app.second": (100, 100),
        "app.Echo": (300, 300),  # I/O handlers are hot callables too
    }


def test_same_name_of_different_kinds_is_counted_apart(log: EventLog) -> None:
    log.add(
        "timer", 0, 10, name="app.f", timer=1, site=None, delay=0, late=0, looping=False, error=None
    )
    log.add(
        "deferred",
        0,
        20,
        name="app.f",
        outcome="success",
        failure=None,
        errback=False,
        site=None,
        line=None,
    )
    assert sorted((c.kind, c.total) for c in fed(log).snapshot().callables) == [
        ("deferred", 20),
        ("timer", 10),
    ]


def test_p95_is_close_to_the_true_percentile(log: EventLog) -> None:
    rng = random.Random(7)
    durations = [int(rng.lognormvariate(11, 1.2)) + 1 for _ in range(20_000)]
    for i, dur in enumerate(durations):
        log.add(
            "thread",
            i * 10 * MS,
            dur,
            name="app.job",
            source="pool",
            wait=0,
            thread=None,
            error=None,
        )
    (stats,) = fed(log).snapshot().callables
    exact = sorted(durations)[math.ceil(0.95 * len(durations)) - 1]
    assert stats.p95 == pytest.approx(exact, rel=0.05)
    assert stats.max == max(durations)


def test_callables_beyond_the_cap_are_aggregated(log: EventLog) -> None:
    for i in range(12):
        log.add(
            "deferred",
            i * MS,
            100 + i,
            name=f"app.cb{i}",
            outcome="success",
            failure=None,
            errback=False,
            site=None,
            line=None,
        )
    callables = fed(log, max_callables=5).snapshot().callables
    names = {c.name for c in callables}
    assert len(callables) == 6 and OTHER in names
    other = next(c for c in callables if c.name == OTHER)
    assert other.count == 12 - 5
    assert sum(c.total for c in callables) == sum(100 + i for i in range(12))


def test_callables_are_listed_busiest_first(log: EventLog) -> None:
    for name, dur in (("app.small", 10), ("app.big", 1000), ("app.mid", 100)):
        log.add("thread", 0, dur, name=name, source="reactor", wait=0, thread=None, error=None)
    assert [c.name for c in fed(log).snapshot().callables] == ["app.big", "app.mid", "app.small"]


# -- loop statistics and the recent window ---------------------------------------


def iterations(log: EventLog, start: int, end: int, period: int, busy: int) -> None:
    """Loop iterations back to back from ``start`` to ``end``, each ``busy`` ns busy."""
    for ts in range(start, end, period):
        log.add("iteration", ts, period, name="iteration", wait=period - busy)


def test_utilization_is_busy_over_elapsed(log: EventLog) -> None:
    iterations(log, 0, 1 * S, 10 * MS, busy=2_500_000)
    loop = fed(log).snapshot().loop
    assert loop.iterations == 100
    assert loop.utilization == pytest.approx(0.25)
    assert (loop.busy, loop.wait) == (100 * 2_500_000, 100 * 7_500_000)


def test_utilization_covers_only_the_recent_window(log: EventLog) -> None:
    iterations(log, 0, 5 * S, 10 * MS, busy=10 * MS)  # saturated at first
    iterations(log, 5 * S, 8 * S, 10 * MS, busy=1 * MS)  # then mostly idle
    loop = fed(log, window_ns=2 * S).snapshot().loop
    assert loop.utilization == pytest.approx(0.1, abs=0.01)
    assert loop.busy == 500 * 10 * MS + 300 * 1 * MS  # totals keep the whole trace


def test_events_per_second_over_the_window(log: EventLog) -> None:
    for i in range(5000):  # one event per ms for 5 s
        log.add("system", i * MS, name="x", phase=None)
    loop = fed(log, window_ns=2 * S).snapshot().loop
    assert loop.events_per_second == pytest.approx(1000, rel=0.06)
    assert loop.events == 5000


def test_events_per_second_of_a_trace_shorter_than_the_window(log: EventLog) -> None:
    for i in range(1, 101):  # 100 events over 0.5 s
        log.add("system", i * 5 * MS, name="x", phase=None)
    loop = fed(log, window_ns=2 * S).snapshot().loop
    assert loop.events_per_second == pytest.approx(200, rel=0.02)


def test_lag_is_mean_lateness_over_the_window(log: EventLog) -> None:
    for i in range(10):  # very late timers long ago
        log.add(
            "timer",
            i * 100 * MS,
            10,
            timer=i,
            site=None,
            delay=0,
            late=80 * MS,
            looping=False,
            error=None,
        )
    for i, late in enumerate((1 * MS, 3 * MS, None)):
        log.add(
            "timer",
            9 * S + i * MS,
            10,
            timer=100 + i,
            site=None,
            delay=0,
            late=late,
            looping=False,
            error=None,
        )
    assert fed(log, window_ns=2 * S).snapshot().loop.lag == 2 * MS


def test_window_is_empty_long_after_the_last_event(log: EventLog) -> None:
    iterations(log, 0, 1 * S, 10 * MS, busy=5 * MS)
    loop = fed(log, window_ns=2 * S).snapshot(10 * S).loop
    assert (loop.utilization, loop.events_per_second, loop.uptime) == (0.0, 0.0, 10 * S)
    assert loop.iterations == 100


def test_window_memory_is_bounded(log: EventLog) -> None:
    for i in range(2000):
        log.add("system", i * 50 * MS, name="x", phase=None)
    state = fed(log, window_ns=1 * S)
    assert len(state.window._buckets) <= 2 * (1 * S // state.window.bucket_ns + 2)


# -- the rest of the snapshot ----------------------------------------------------


def test_snapshot_defaults_to_the_end_of_the_latest_event(log: EventLog) -> None:
    log.add("iteration", 0, 50 * MS, name="iteration", wait=0)  # ends last, fed first
    log.add(
        "thread", 1 * MS, 2 * MS, name="app.f", source="reactor", wait=0, thread=None, error=None
    )
    state = fed(log)
    state.dropped = 17
    snap = state.snapshot()
    assert (snap.ts, snap.loop.uptime, snap.loop.events, snap.dropped) == (50 * MS, 50 * MS, 2, 17)


def test_warnings_are_kept_with_time_and_name_and_bounded(log: EventLog) -> None:
    for i in range(30):
        log.add("warning", i * MS, name="slow-callback", code=f"c{i}", message="m", where=None)
    warnings = fed(log, max_warnings=10).snapshot().warnings
    assert len(warnings) == 10
    assert warnings[-1] == {
        "code": "c29",
        "message": "m",
        "where": None,
        "ts": 29 * MS,
        "name": "slow-callback",
    }


def test_feeding_in_pieces_equals_feeding_at_once(sample_log: EventLog) -> None:
    whole = fed(sample_log).snapshot()
    pieces = LoopState()
    for i in range(0, len(sample_log.events), 3):
        pieces.feed(sample_log.events[i : i + 3])
        pieces.snapshot()  # reading between feeds must not disturb the state
    assert pieces.snapshot() == whole


def test_unknown_kinds_are_counted_but_otherwise_ignored(log: EventLog) -> None:
    log.add("custom.thing", 1 * MS, 5, name="x")
    snap = fed(log).snapshot()
    assert snap.loop.events == 1 and snap.callables == () and snap.timers == ()


def test_feeding_is_linear_and_fast(log: EventLog) -> None:
    """A loose bound (measured ~0.6 s per million events) that catches quadratic slips."""
    for i in range(40_000):
        base = i * 100_000
        log.add("timer.schedule", base, timer=i, site=None, delay=MS, due=base + MS, looping=False)
        log.add(
            "timer",
            base + 10,
            3_000,
            name=f"app.f{i % 300}",
            timer=i - 1,
            site=None,
            delay=MS,
            late=10,
            looping=False,
            error=None,
        )
        log.add(
            "io.read", base + 5_000, 2_000, name="app.P", conn=i % 50, fd=5, bytes=100, error=None
        )
        log.add("iteration", base, 90_000, name="iteration", wait=80_000)
    state = LoopState()
    started = time.perf_counter()
    state.feed(log.events)
    snap = state.snapshot()
    assert time.perf_counter() - started < 3.0
    assert snap.loop.events == 160_000 and len(snap.timers) == 1


def test_events_with_args_of_the_wrong_type_are_skipped_and_counted(log: EventLog) -> None:
    log.add("iteration", 0, 10 * MS, name="iteration", wait="a while")
    log.add("io.read", 1 * MS, 10, name="app.P", conn=1, fd=1, bytes="many", error=None)
    log.add("timer", 2 * MS, 10, timer=1, site=None, delay=0, late="x", looping=False, error=None)
    log.add("iteration", 3 * MS, 10 * MS, name="iteration", wait=5 * MS)
    state = fed(log)
    assert state.malformed == 3
    loop = state.snapshot().loop
    assert (loop.events, loop.wait, loop.busy) == (4, 5 * MS, 5 * MS)


def test_a_deep_copy_is_an_independent_checkpoint(sample_log: EventLog) -> None:
    """Replay keeps copy.deepcopy(state) checkpoints: the copy must not share anything."""
    half = len(sample_log.events) // 2
    original = fed(EventLog())
    original.feed(sample_log.events[:half])
    before = original.snapshot()
    checkpoint = copy.deepcopy(original)
    checkpoint.feed(sample_log.events[half:])
    assert original.snapshot() == before
    assert checkpoint.snapshot() == fed(sample_log).snapshot()


def test_io_without_a_known_name_or_id_keeps_what_is_known(log: EventLog) -> None:
    open_tcp(log, conn=1, fd=3)
    log.add("io.read", 1 * MS, 10, name="?", conn=1, fd=3, bytes=4, error=None)
    log.add("io.read", 2 * MS, 10, name="?", conn=None, fd=None, bytes=4, error=None)
    (conn,) = fed(log).snapshot().connections
    assert (conn.conn, conn.protocol, conn.bytes_in) == (1, "app.P", 4)
