"""Findings made from hand-built event sequences: each one, and its healthy twin."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from reactortrace.core import diagnose as dg
from reactortrace.core.diagnose import Thresholds
from reactortrace.core.state import LoopState
from reactortrace.core.stats import LogHistogram
from reactortrace.errors import UsageError

from .builders import EventLog

MS = 1_000_000
S = 1_000_000_000


def warnings_of(log: EventLog, at: int | None = None, **thresholds: Any) -> list[dict[str, Any]]:
    thresholds.setdefault("leftovers", True)
    state = LoopState(thresholds=Thresholds(**thresholds))
    state.feed(log.events)
    return list(state.snapshot(at).warnings)


def only(warnings: list[dict[str, Any]], code: str) -> dict[str, Any]:
    found = [w for w in warnings if w["code"] == code]
    assert len(found) == 1, warnings
    return found[0]


def timer(log: EventLog, ts: int, late: int, *, tid: int = 1, site: str = "app.py:10",
          name: str = "app.tick", delay: int = 50 * MS, looping: bool = False,
          dur: int = 20_000) -> None:
    log.add("timer", ts, dur, name=name, timer=tid, site=site, delay=delay, late=late,
            looping=looping, error=None)


def schedule(log: EventLog, ts: int, *, tid: int = 1, site: str = "app.py:10",
             name: str = "app.tick", delay: int = 50 * MS, looping: bool = False) -> None:
    log.add("timer.schedule", ts, name=name, timer=tid, site=site, delay=delay, due=ts + delay,
            looping=looping)


def open_conn(log: EventLog, ts: int, conn: int = 1, type_: str = "tcp", **extra: Any) -> None:
    log.add("conn.open", ts, name=extra.pop("name", "app.Echo"), conn=conn, fd=conn + 6,
            type=type_, local="127.0.0.1:8000", peer="127.0.0.1:50001",
            transport="twisted.internet.tcp.Server", **extra)


def read(log: EventLog, ts: int, conn: int = 1) -> None:
    log.add("io.read", ts, 30_000, name="app.Echo", conn=conn, fd=conn + 6, bytes=10, error=None)


def slow(log: EventLog, ts: int, blocked: int, name: str = "app.blocking",
         site: str = "app.py:50", function: str = "blocking") -> None:
    log.add("slow", ts, blocked, name=name, dispatch="timer", site=site, function=function,
            stack=["app.py:5 main", f"{site} {function}"], blocked=blocked)


# -- thresholds ------------------------------------------------------------------


def test_thresholds_default_and_in_ns() -> None:
    t = Thresholds()
    assert (t.slow_ms, t.late_ms, t.pending_s, t.idle_s) == (100, 100, 10, 60)
    assert (t.slow_ns, t.late_ns, t.pending_ns, t.idle_ns) == (100 * MS, 100 * MS, 10 * S, 60 * S)


def test_thresholds_parse_units_and_bare_numbers() -> None:
    t = Thresholds.from_options({"late": "50ms", "idle": "1.5m", "pending": 2})
    assert (t.slow_ms, t.late_ms, t.pending_s, t.idle_s) == (100, 50, 2, 90)
    t = Thresholds.from_options({"slow": "0.25s", "late_ms": 30, "idle": None})
    assert (t.slow_ms, t.late_ms, t.idle_s) == (250, 30, 60)
    assert Thresholds.from_options({"pending": "500ms"}, base=t).pending_s == 0.5
    assert Thresholds.from_options({"slow": "800us"}).slow_ns == 800_000


@pytest.mark.parametrize(
    ("name", "value"),
    [("late", "5x"), ("late", ""), ("late", "0"), ("late", "-3ms"), ("colour", "5ms"),
     ("idle", "soon"), ("slow", -1)],
)
def test_bad_thresholds_are_usage_errors(name: str, value: Any) -> None:
    with pytest.raises(UsageError):
        Thresholds.from_options({name: value})


# -- slow callbacks ------------------------------------------------------------------


def test_slow_event_names_the_callable_and_blocking_line_and_takes_the_dispatch_duration(
    log: EventLog,
) -> None:
    slow(log, 1 * S, 120 * MS)  # seen while blocked
    log.add("deferred", 1 * S + 1 * MS, 290 * MS, name="app.nested", outcome="success",
            failure=None, errback=False, site="app.py:70", line=None)  # ran inside it
    timer(log, 1 * S, 0, name="app.blocking", site="app.py:20", dur=300 * MS)  # it ended
    w = only(warnings_of(log), dg.SLOW_CALLBACK)
    assert (w["name"], w["where"], w["ts"]) == ("app.blocking", "app.py:50", 1 * S)
    assert "300 ms" in w["message"] and "in blocking" in w["message"]


def test_slowest_keeps_the_stack_and_the_final_duration(log: EventLog) -> None:
    slow(log, 1 * S, 120 * MS)
    timer(log, 1 * S, 0, name="app.blocking", dur=300 * MS)
    timer(log, 2 * S, 0, tid=2, name="app.quick", dur=1 * MS)
    state = LoopState()
    state.feed(log.events)
    first, second = state.diagnostics.slowest()
    assert (first["name"], first["dur"], first["site"], first["function"]) == (
        "app.blocking", 300 * MS, "app.py:50", "blocking"
    )
    assert first["stack"] == ["app.py:5 main", "app.py:50 blocking"]
    assert (second["name"], second["dur"], second["stack"]) == ("app.quick", 1 * MS, [])


def test_a_long_dispatch_without_a_slow_event_is_still_slow(log: EventLog) -> None:
    timer(log, 1 * S, 0, name="app.crunch", site="app.py:33", dur=150 * MS)
    w = only(warnings_of(log), dg.SLOW_CALLBACK)
    assert (w["name"], w["where"]) == ("app.crunch", "app.py:33")
    assert "150 ms" in w["message"] and "not recorded" in w["message"]


def test_the_same_callable_blocking_twice_is_one_warning_with_the_longest(log: EventLog) -> None:
    slow(log, 1 * S, 110 * MS, site="app.py:50")
    timer(log, 1 * S, 0, name="app.blocking", dur=110 * MS)
    slow(log, 3 * S, 110 * MS, site="app.py:52")
    timer(log, 3 * S, 0, tid=2, name="app.blocking", dur=400 * MS)
    w = only(warnings_of(log), dg.SLOW_CALLBACK)
    assert w["where"] == "app.py:52" and "400 ms" in w["message"] and "2 times" in w["message"]
    assert w["ts"] == 1 * S  # when it was first found


def test_healthy_dispatches_and_thread_pool_jobs_are_not_slow(log: EventLog) -> None:
    for i in range(50):
        timer(log, i * 10 * MS, 0, tid=i, dur=5 * MS)
        read(log, i * 10 * MS + 6 * MS)
    log.add("thread", 600 * MS, 5 * S, name="app.crunch", source="pool", wait=0,
            thread="PoolThread-1", error=None)  # runs on a pool thread, not the loop
    log.add("deferred", 700 * MS, 150 * MS, name="app.cb", outcome="success", failure=None,
            errback=False, site=None, line=None)  # nested in some dispatch, never alone
    assert warnings_of(log) == []


def test_slow_threshold_applies_to_recorded_slow_events(log: EventLog) -> None:
    slow(log, 1 * S, 120 * MS)
    timer(log, 1 * S, 0, name="app.blocking", dur=150 * MS)
    assert warnings_of(log, slow_ms=200) == []
    assert only(warnings_of(log, slow_ms=140), dg.SLOW_CALLBACK)["name"] == "app.blocking"


# -- timers -------------------------------------------------------------------


def test_late_timer_names_site_callable_and_the_dispatch_that_held_the_loop(log: EventLog) -> None:
    schedule(log, 0, tid=7, name="app.later", site="app.py:20", delay=1 * S)
    slow(log, 900 * MS, 120 * MS)
    timer(log, 900 * MS, 0, tid=3, name="app.blocking", site="app.py:40", dur=350 * MS)
    timer(log, 1_250 * MS, 250 * MS, tid=7, name="app.later", site="app.py:20", delay=1 * S)
    w = only(warnings_of(log), dg.LATE_TIMER)
    about = (w["name"], w["where"], w["subject"], w["ts"])
    assert about == ("app.later", "app.py:20", 7, 1_250 * MS)
    assert "250 ms late" in w["message"]
    assert "blocked then by app.blocking (app.py:50)" in w["message"]


def test_lateness_histogram_per_site(log: EventLog) -> None:
    lates = {"app.py:10": [i * 100_000 for i in range(1, 41)], "app.py:20": [5 * MS, 7 * MS]}
    for site, values in lates.items():
        for i, late in enumerate(values):
            timer(log, (i + 1) * 50 * MS, late, tid=i, site=site, name=f"f{site}")
    state = LoopState()
    state.feed(log.events)
    rows = {row["site"]: row for row in state.diagnostics.lateness()}
    for site, values in lates.items():
        expected = LogHistogram()
        for value in values:
            expected.add(value)
        row = rows[site]
        assert (row["count"], row["max"], row["p50"], row["p95"]) == (
            len(values), max(values), expected.quantile(0.5), expected.quantile(0.95)
        )
        assert row["name"] == f"f{site}" and row["missed"] == 0
    assert [row["site"] for row in state.diagnostics.lateness()] == ["app.py:20", "app.py:10"]
    assert state.snapshot().warnings == ()  # all under 100 ms


def test_missed_ticks_of_a_looping_call(log: EventLog) -> None:
    schedule(log, 0, tid=1, looping=True, delay=50 * MS)
    timer(log, 50 * MS, 1 * MS, tid=1, looping=True, delay=50 * MS)
    schedule(log, 52 * MS, tid=2, looping=True, delay=48 * MS)  # the next boundary
    timer(log, 420 * MS, 320 * MS, tid=2, looping=True, delay=48 * MS)  # 320 // 50 = 6 missed
    state = LoopState()
    state.feed(log.events)
    w = only(list(state.snapshot().warnings), dg.MISSED_TICKS)
    assert (w["name"], w["where"], w["subject"]) == ("app.tick", "app.py:10", 2)
    assert "missed 6 ticks" in w["message"] and "interval 50 ms" in w["message"]
    (row,) = state.diagnostics.lateness()
    assert (row["missed"], row["interval"], row["looping"]) == (6, 50 * MS, True)
    assert not [x for x in state.snapshot().warnings if x["code"] == dg.LATE_TIMER]


def test_a_late_looping_call_that_missed_no_tick_is_a_late_timer(log: EventLog) -> None:
    schedule(log, 0, looping=True, delay=1 * S)
    timer(log, 1_150 * MS, 150 * MS, looping=True, delay=1 * S)
    assert only(warnings_of(log), dg.LATE_TIMER)["name"] == "app.tick"


def test_healthy_looping_call_with_jitter_gives_no_warning(log: EventLog) -> None:
    due = 0
    for tick in range(100):
        schedule(log, due, tid=tick, looping=True, delay=10 * MS)
        due += 10 * MS
        timer(log, due + 3 * MS, 3 * MS + (tick % 5) * MS, tid=tick, looping=True, delay=10 * MS)
    state = LoopState()
    state.feed(log.events)
    assert state.snapshot().warnings == ()
    assert state.diagnostics.lateness()[0]["missed"] == 0


def test_many_late_firings_at_one_site_are_one_warning_updated_in_place(log: EventLog) -> None:
    for i in range(20):
        timer(log, (i + 1) * S, (101 + i) * MS, tid=i)
    w = only(warnings_of(log), dg.LATE_TIMER)
    assert w["ts"] == 1 * S and w["subject"] == 19 and "120 ms late" in w["message"]
    assert "over 20 firings" in w["message"]


# -- Deferreds -----------------------------------------------------------------------


def error(log: EventLog, ts: int, did: int, failure: str = "builtins.ValueError",
          site: str = "app.py:30", name: str = "app.parse") -> None:
    log.add("deferred.error", ts, name=name, deferred=did, failure=failure, site=site)


def test_error_in_flight_names_failure_site_and_last_callback(log: EventLog) -> None:
    error(log, 1 * S, 101)
    w = only(warnings_of(log), dg.DEFERRED_ERROR)
    assert (w["name"], w["where"], w["subject"], w["ts"]) == ("app.parse", "app.py:30", 101, 1 * S)
    assert "builtins.ValueError" in w["message"] and "errback" in w["message"]


def test_an_error_handled_later_is_withdrawn(log: EventLog) -> None:
    error(log, 1 * S, 101)
    error(log, 1 * S, 102, failure="builtins.KeyError")
    state = LoopState()
    state.feed(log.events)
    w = only(list(state.snapshot().warnings), dg.DEFERRED_ERROR)
    assert "2 Deferreds" in w["message"]
    assert "builtins.KeyError, builtins.ValueError" in w["message"]
    log.add("deferred.handled", 2 * S, name="Deferred", deferred=101)
    log.add("deferred.handled", 2 * S, name="Deferred", deferred=102)
    state.feed(log.events[-2:])
    assert state.snapshot().warnings == ()


def test_pending_deferred_names_site_and_what_it_waits_on(log: EventLog) -> None:
    for did, made in ((5, 1 * S), (6, 2 * S)):
        log.add("deferred.new", made, name="Deferred", deferred=did, site="app.py:44",
                waits="connection")
    log.add("deferred.new", 2 * S, name="Deferred", deferred=7, site="app.py:90", waits="timer")
    log.add("deferred.fired", 3 * S, name="Deferred", deferred=7)
    assert warnings_of(log, at=10 * S) == []  # 9 s is not 10 s
    w = only(warnings_of(log, at=12 * S + 1), dg.DEFERRED_PENDING)
    assert (w["where"], w["subject"], w["ts"]) == ("app.py:44", 5, 11 * S)
    assert "2 pending" in w["message"] and "waiting on: connection" in w["message"]


def test_a_deferred_that_fired_only_after_the_threshold_stays_found(log: EventLog) -> None:
    log.add("deferred.new", 1 * S, name="Deferred", deferred=5, site="app.py:44", waits="thread")
    log.add("deferred.fired", 16 * S, name="Deferred", deferred=5)
    w = only(warnings_of(log, at=20 * S), dg.DEFERRED_PENDING)
    assert w["where"] == "app.py:44" and "1 fired only after up to 15 s" in w["message"]
    assert warnings_of(log, at=20 * S, pending_s=20) == []


# -- connections -----------------------------------------------------------------------


def test_a_producer_paused_and_resumed_is_flow_control_not_a_warning(log: EventLog) -> None:
    open_conn(log, 0, buffer_size=65_536)
    for i in range(50):  # a big file to a slower reader: paused, drained, resumed
        log.add("conn.pause", i * S // 10, name="app.Echo", conn=1, buffered=131_072)
        log.add("conn.resume", i * S // 10 + 50 * MS, name="app.Echo", conn=1, buffered=0)
    log.add("io.write", 6 * S, 1 * MS, name="app.Echo", conn=1, fd=7, bytes=65_536,
            buffered=70_000, error=None)
    log.add("conn.pause", 7 * S, name="app.Echo", conn=1, buffered=131_072)
    log.add("conn.close", 7 * S + 10 * MS, name="app.Echo", conn=1, reason="ConnectionDone")
    assert warnings_of(log, at=30 * S) == []


def test_a_producer_paused_past_the_threshold_is_backpressure(log: EventLog) -> None:
    open_conn(log, 0, conn=1, buffer_size=65_536)
    open_conn(log, 0, conn=2)
    log.add("conn.pause", 1 * S, name="app.Echo", conn=1, buffered=3 * 1024 * 1024)
    log.add("conn.resume", 13 * S, name="app.Echo", conn=1, buffered=10_000)
    log.add("conn.pause", 2 * S, name="app.Echo", conn=2, buffered=70_000)  # never resumed
    warnings = warnings_of(log, at=20 * S)
    by_conn = {w["subject"]: w for w in warnings if w["code"] == dg.BACKPRESSURE}
    assert sorted(by_conn) == [1, 2] and len(warnings) == 2
    assert by_conn[1]["ts"] == 11 * S and "paused for 12 s" in by_conn[1]["message"]
    assert "(still paused)" in by_conn[2]["message"] and by_conn[2]["ts"] == 12 * S


def test_a_buffer_growing_with_no_producer_is_backpressure(log: EventLog) -> None:
    open_conn(log, 0, conn=1)
    open_conn(log, 0, conn=2)
    for i, buffered in enumerate((100_000, 300_000, 900_000)):  # grows: nobody waits
        log.add("io.write", i * S, 1 * MS, name="app.Echo", conn=1, fd=7, bytes=65_536,
                buffered=buffered, error=None)
    for i, buffered in enumerate((900_000, 500_000, 100_000, 0)):  # one big write, draining
        log.add("io.write", i * S, 1 * MS, name="app.Echo", conn=2, fd=8, bytes=400_000,
                buffered=buffered, error=None)
    w = only(warnings_of(log), dg.BACKPRESSURE)
    assert (w["subject"], w["ts"]) == (1, 1 * S)  # over the limit, and growing
    assert "879 KiB" in w["message"] and "no producer" in w["message"]


def test_writes_under_the_buffer_size_are_healthy(log: EventLog) -> None:
    open_conn(log, 0, buffer_size=1_000)
    for i in range(10):
        log.add("io.write", i * MS, 10_000, name="app.Echo", conn=1, fd=7, bytes=900,
                buffered=1_000, error=None)
    assert warnings_of(log) == []


def test_idle_connection_while_still_idle_and_after_it_woke(log: EventLog) -> None:
    open_conn(log, 0)
    read(log, 1 * S)
    assert warnings_of(log, at=60 * S) == []
    w = only(warnings_of(log, at=70 * S), dg.IDLE_CONNECTION)
    assert (w["name"], w["subject"]) == ("app.Echo", 1)
    assert w["ts"] == 1 * S + 30_000 + 60 * S and "still idle" in w["message"]
    read(log, 80 * S)  # woke up: the finding stays, about the silence it had
    w = only(warnings_of(log, at=81 * S), dg.IDLE_CONNECTION)
    assert "still" not in w["message"] and "for 1m18s" in w["message"]  # 1.00003 s to 80 s
    assert only(warnings_of(log, at=81 * S, idle_s=30), dg.IDLE_CONNECTION)["subject"] == 1


@pytest.mark.parametrize("type_", ["tcp.listen", "waker", "udp", "process", "unix.listen"])
def test_ports_wakers_and_pipes_are_never_idle(log: EventLog, type_: str) -> None:
    open_conn(log, 0, type_=type_)
    assert warnings_of(log, at=600 * S) == []


def test_a_chatty_connection_is_not_idle(log: EventLog) -> None:
    open_conn(log, 0)
    for i in range(1, 200):
        read(log, i * S)
    assert warnings_of(log, at=200 * S) == []


def test_half_closed_for_long_while_open(log: EventLog) -> None:
    open_conn(log, 0)
    log.add("conn.halfclose", 1 * S, name="app.Echo", conn=1, side="read")
    assert warnings_of(log, at=5 * S) == []
    w = only(warnings_of(log, at=20 * S), dg.HALF_CLOSED)
    assert (w["subject"], w["ts"]) == (1, 11 * S)
    assert "peer stopped sending" in w["message"] and "still open" in w["message"]


def test_half_closed_then_closed_soon_is_healthy_and_closed_late_is_not(log: EventLog) -> None:
    open_conn(log, 0, conn=1)
    open_conn(log, 0, conn=2)
    log.add("conn.halfclose", 1 * S, name="app.Echo", conn=1, side="write")
    log.add("conn.halfclose", 1 * S, name="app.Echo", conn=2, side="write")
    log.add("conn.close", 2 * S, name="app.Echo", conn=1, reason="ConnectionDone")
    log.add("conn.close", 15 * S, name="app.Echo", conn=2, reason="ConnectionDone")
    w = only(warnings_of(log, at=30 * S), dg.HALF_CLOSED)
    assert w["subject"] == 2 and "for 14 s until it closed" in w["message"]


# -- leftovers at shutdown --------------------------------------------------------------


def shutdown(log: EventLog, ts: int, dur: int = 2 * MS) -> None:
    log.add("system", ts, dur, name="shutdown", phase="shutdown")


def test_leftovers_at_shutdown_with_creation_sites(log: EventLog) -> None:
    open_conn(log, 0, conn=1, type_="waker", name="twisted.internet.posixbase._UnixWaker")
    open_conn(log, 0, conn=2, type_="tcp.listen", name="app.Factory")
    open_conn(log, 0, conn=3, type_="tcp.listen", name="app.Closed")
    open_conn(log, 0, conn=4, name="app.Echo")
    schedule(log, 0, tid=1, name="app.later", site="app.py:20", delay=30 * S)
    schedule(log, 0, tid=2, name="app.later", site="app.py:20", delay=40 * S)
    schedule(log, 0, tid=3, name="app.tick", site="app.py:10", delay=1 * S, looping=True)
    log.add("timer.cancel", 3 * S, name="app.tick", timer=3, site="app.py:10")
    # during the shutdown: the program closes one port, the reactor the rest
    log.add("conn.close", 5 * S + 100, name="app.Closed", conn=3,
            reason="twisted.internet.error.ConnectionDone")
    log.add("conn.close", 5 * S + 200, name="app.Echo", conn=4,
            reason="twisted.internet.error.ConnectionLost")
    shutdown(log, 5 * S)
    warnings = warnings_of(log)
    timer_warning = only(warnings, dg.LEFTOVER_TIMER)
    assert (timer_warning["name"], timer_warning["where"], timer_warning["subject"]) == (
        "app.later", "app.py:20", 1
    )
    assert "2 timers" in timer_warning["message"] and "dirty reactor" in timer_warning["message"]
    left = [w for w in warnings if w["code"] == dg.LEFTOVER_CONNECTION]
    conns = sorted((w["subject"], w["name"]) for w in left)
    assert conns == [(2, "app.Factory"), (4, "app.Echo")]
    assert len(warnings) == 3


def test_a_clean_shutdown_leaves_nothing(log: EventLog) -> None:
    open_conn(log, 0, conn=1, type_="waker", name="twisted.internet.posixbase._UnixWaker")
    open_conn(log, 0, conn=2, type_="tcp.listen", name="app.Factory")
    schedule(log, 0, tid=1, delay=30 * S)
    log.add("timer.cancel", 1 * S, timer=1, site="app.py:10")
    log.add("conn.close", 1 * S, name="app.Factory", conn=2, reason="ConnectionDone")
    log.add("system", 1 * S, name="startup", phase="startup")
    shutdown(log, 2 * S)
    assert warnings_of(log) == []


def test_leftovers_are_no_warning_outside_tests(log: EventLog) -> None:
    open_conn(log, 0, conn=2, type_="tcp.listen", name="app.Factory")
    schedule(log, 0, tid=1, name="app.later", site="app.py:20", delay=30 * S)
    shutdown(log, 5 * S)
    assert warnings_of(log, leftovers=False) == []
    assert Thresholds().leftovers is False


def test_thresholds_come_from_the_trace_and_old_traces_keep_defaults() -> None:
    meta = {"options": {"thresholds": {"pending_s": 2, "slow_ms": 50, "leftovers": True}}}
    found = Thresholds.from_meta(meta)
    assert (found.pending_s, found.slow_ms, found.late_ms, found.leftovers) == (2, 50, 100, True)
    assert Thresholds.from_meta({}) == Thresholds() == Thresholds.from_meta({"options": 3})
    assert Thresholds.from_meta({"test": {"nodeid": "t.py::x"}}).leftovers  # an old test trace
    explicit = {"test": {}, "options": {"thresholds": {"leftovers": False}}}
    assert not Thresholds.from_meta(explicit).leftovers


def test_timers_twisted_made_for_itself_are_never_leftovers(log: EventLog) -> None:
    log.add("timer.schedule", 0, name="twisted.web.http.HTTPFactory._updateLogDateTime",
            timer=1, site="/site-packages/twisted/web/http.py:3427", delay=S, due=S,
            looping=False, own=True)
    shutdown(log, 1 * MS)
    assert warnings_of(log) == []


def test_finish_takes_what_is_left_when_there_was_no_shutdown(log: EventLog) -> None:
    schedule(log, 0, tid=1, delay=30 * S)
    state = LoopState(thresholds=Thresholds(leftovers=True))
    state.feed(log.events)
    assert state.snapshot().warnings == ()
    state.finish()
    state.finish()
    assert [w["code"] for w in state.snapshot().warnings] == [dg.LEFTOVER_TIMER]


# -- bounds, records, the whole ----------------------------------------------------------


def test_findings_are_capped_per_code_and_the_rest_counted(log: EventLog) -> None:
    for i in range(dg.MAX_PER_CODE + 7):
        timer(log, (i + 1) * S, 200 * MS, tid=i, site=f"app.py:{i}")
    warnings = warnings_of(log)
    assert sum(w["code"] == dg.LATE_TIMER for w in warnings) == dg.MAX_PER_CODE
    capped = only(warnings, dg.TOO_MANY)
    assert capped["name"] == dg.LATE_TIMER and capped["message"].startswith("7 more late-timer")


def test_recorded_warnings_are_kept_as_they_are_and_not_repeated(log: EventLog) -> None:
    error(log, 1 * S, 101, site="app.py:30")
    log.add("warning", 2 * S, name="custom", code="deferred-error", message="recorded words",
            where="app.py:30", subject=None)
    log.add("warning", 3 * S, name="custom", code="other", message="m", where=None, subject=None)
    warnings = warnings_of(log)
    assert [(w["code"], w["message"]) for w in warnings] == [
        ("deferred-error", "recorded words"),
        ("other", "m"),
    ]


def test_findings_survive_a_deep_copy_independently(log: EventLog) -> None:
    error(log, 1 * S, 101)
    state = LoopState()
    state.feed(log.events)
    checkpoint = copy.deepcopy(state)
    checkpoint.feed([log.add("deferred.handled", 2 * S, name="Deferred", deferred=101)])
    assert checkpoint.snapshot().warnings == ()
    assert [w["code"] for w in state.snapshot().warnings] == [dg.DEFERRED_ERROR]


def test_a_healthy_run_has_no_warning_at_all(log: EventLog) -> None:
    """Echo traffic, timers with jitter, a LoopingCall, Deferreds, a clean shutdown."""
    open_conn(log, 0, conn=1, type_="waker", name="twisted.internet.posixbase._UnixWaker")
    open_conn(log, 0, conn=2, type_="tcp.listen", name="app.Factory", buffer_size=65_536)
    open_conn(log, 1 * MS, conn=3, buffer_size=65_536)
    for i in range(300):
        at = 10 * MS + i * 30 * MS
        read(log, at, conn=3)
        log.add("io.write", at + 1 * MS, 20_000, name="app.Echo", conn=3, fd=9, bytes=10,
                buffered=0, error=None)
        log.add("deferred.new", at, name="Deferred", deferred=i, site="app.py:44", waits="thread")
        log.add("deferred", at + 2 * MS, 50_000, name="app.cb", outcome="success", failure=None,
                errback=False, site="app.py:45", line=None)
        log.add("deferred.fired", at + 2 * MS, name="Deferred", deferred=i)
        schedule(log, at, tid=1000 + i, looping=True, delay=30 * MS)
        timer(log, at + 30 * MS + (i % 3) * MS, (i % 3) * MS, tid=1000 + i, looping=True,
              delay=30 * MS)
        log.add("iteration", at, 5 * MS, name="iteration", wait=4 * MS)
    error(log, 9 * S, 999)
    log.add("deferred.handled", 9 * S + 1, name="Deferred", deferred=999)
    log.add("conn.close", 10 * S, name="app.Echo", conn=3, reason="ConnectionDone")
    log.add("conn.close", 10 * S, name="app.Factory", conn=2, reason="ConnectionDone")
    shutdown(log, 10 * S + 1 * MS)
    assert warnings_of(log) == []


def test_a_timer_already_due_at_shutdown_is_not_left_over(log: EventLog) -> None:
    """asyncio's reactor.stop() schedules a callLater(0) wake-up of its own."""
    schedule(log, 1 * S, tid=1, name="AsyncioSelectorReactor.stop.<locals>.<lambda>", delay=0)
    shutdown(log, 1 * S + 10)
    assert warnings_of(log) == []


def test_lateness_is_measured_when_the_timer_ran(log: EventLog) -> None:
    """Both due in one pass: the recorded late of the second is from the pass start."""
    schedule(log, 0, tid=1, name="app.blocking", site="app.py:40", delay=50 * MS)
    schedule(log, 0, tid=2, name="app.later", site="app.py:20", delay=60 * MS)
    timer(log, 80 * MS, 30 * MS, tid=1, name="app.blocking", site="app.py:40", dur=250 * MS)
    timer(log, 330 * MS, 20 * MS, tid=2, name="app.later", site="app.py:20", delay=60 * MS)
    state = LoopState()
    state.feed(log.events)
    w = only(list(state.snapshot().warnings), dg.LATE_TIMER)
    assert (w["name"], w["where"]) == ("app.later", "app.py:20") and "270 ms late" in w["message"]
    rows = {row["site"]: row["max"] for row in state.diagnostics.lateness()}
    assert rows == {"app.py:20": 270 * MS, "app.py:40": 30 * MS}


def test_slow_callables_beyond_the_cap_are_counted_not_kept(log: EventLog) -> None:
    for i in range(dg.MAX_PER_CODE + 3):
        timer(log, (i + 1) * S, 0, tid=i, name=f"app.f{i}", dur=200 * MS)
    state = LoopState()
    state.feed(log.events)
    warnings = state.snapshot().warnings
    assert sum(w["code"] == dg.SLOW_CALLBACK for w in warnings) == dg.MAX_PER_CODE
    assert only(list(warnings), dg.TOO_MANY)["message"].startswith("3 more slow-callback")
    assert len(state.diagnostics.slow_dispatches._groups) == dg.MAX_PER_CODE


def test_a_deferred_failing_again_elsewhere_moves_its_warning(log: EventLog) -> None:
    error(log, 1 * S, 101, site="app.py:30")
    error(log, 2 * S, 101, site="app.py:31", failure="builtins.KeyError")
    w = only(warnings_of(log), dg.DEFERRED_ERROR)
    assert (w["where"], w["ts"]) == ("app.py:31", 2 * S) and "KeyError" in w["message"]
