"""The metric table and the folding of events into counters, histograms and incidents."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reactortrace.core import events as ev
from reactortrace.core.snapshot import ConnectionInfo, Snapshot, TimerInfo
from reactortrace.metrics.limit import TokenBucket
from reactortrace.metrics.model import Histogram, LoopMetrics, reading
from reactortrace.metrics.table import BOUNDS, METRICS
from tests.core.builders import EventLog

MS = 1_000_000
README = Path(__file__).resolve().parents[2] / "README.md"


def loop_metrics(incidents: bool = True) -> LoopMetrics:
    return LoopMetrics(slow_ns=100 * MS, late_ns=50 * MS, incidents=incidents)


def test_names_follow_prometheus_and_opentelemetry_habits() -> None:
    names = [m.prometheus_name for m in METRICS]
    assert len(set(names)) == len(names)
    for metric in METRICS:
        assert re.fullmatch(r"twisted\.reactor(\.[a-z_]+)+", metric.name), metric.name
        if metric.unit == "s":
            assert metric.prometheus_name.endswith("_seconds")
        if metric.unit == "By":
            assert metric.prometheus_name.endswith("_bytes")
        assert not metric.prometheus_name.endswith("_total")  # the client adds it
        assert set(metric.labels) <= {"kind", "type", "direction", "code", "reason", "signal",
                                      "state"}
    assert "twisted_reactor_loop_delay_seconds" in names
    assert "twisted_reactor_utilization_ratio" in names


def test_the_readme_documents_every_metric() -> None:
    text = README.read_text()
    for metric in METRICS:
        shown = metric.prometheus_name + ("_total" if metric.type == "counter" else "")
        assert f"`{shown}`" in text, shown
        assert f"`{metric.name}`" in text, metric.name


def test_histogram_buckets_sum_and_extremes() -> None:
    histogram = Histogram()
    for ms in (0.05, 3, 3, 700, 20_000):
        histogram.observe(round(ms * MS))
    assert histogram.count == 5
    assert histogram.sum == pytest.approx(20.70605)
    assert histogram.min == pytest.approx(0.00005) and histogram.max == 20.0
    assert histogram.counts[0] == 1  # <= 0.1 ms
    assert histogram.counts[BOUNDS.index(0.005)] == 2
    assert histogram.counts[BOUNDS.index(1.0)] == 1
    assert histogram.counts[-1] == 1  # above 10 s
    copy = histogram.copy()
    histogram.observe(0)
    assert copy.count == 5


def test_loop_delay_tells_the_truth_about_timers_run_after_a_slow_one() -> None:
    log = EventLog()
    # Scheduled at 0 for 10 ms; recorded as 1 ms late, but it began at 300 ms:
    # Twisted's clock was read before a slow timer of the same pass ran.
    log.add(ev.TIMER, 300 * MS, MS, timer=0, delay=10 * MS, late=MS)
    # Reset to 500 ms, and run at 502 ms.
    log.add(ev.TIMER_RESET, 100 * MS, timer=5, due=500 * MS)
    log.add(ev.TIMER, 502 * MS, MS, timer=5, delay=10 * MS, late=2 * MS)
    metrics = loop_metrics()
    metrics.feed(log.events)
    assert metrics.delay.count == 2
    assert metrics.delay.max == pytest.approx(0.290)
    assert metrics.delay.min == pytest.approx(0.002)
    assert metrics.warnings == {"late-timer": 1}


def test_bytes_threads_and_warnings() -> None:
    log = EventLog()
    log.add(ev.IO_READ, 0, MS, conn=1, bytes=100)
    log.add(ev.IO_WRITE, 2 * MS, MS, conn=1, bytes=40, buffered=0)
    log.add(ev.IO_READ, 4 * MS, MS, conn=2, bytes=None)
    # A long pool job runs on its own thread: it is no slow dispatch.
    log.add(ev.THREAD, 5 * MS, 900 * MS, source="pool", wait=3 * MS)
    log.add(ev.THREAD, 6 * MS, MS, source="reactor", wait=None)
    log.add(ev.DEFERRED_ERROR, 7 * MS, name="ValueError")
    log.add(ev.CONN_PAUSE, 8 * MS, conn=1, buffered=70_000)
    log.add(ev.WARNING, 9 * MS, code="recording-off", message="m", where=None, subject=None)
    metrics = loop_metrics()
    metrics.feed(log.events)
    assert (metrics.received, metrics.transmitted) == (100, 40)
    assert metrics.dispatches[ev.IO_READ] == 2 and metrics.dispatches[ev.THREAD] == 2
    assert metrics.pool_wait.count == 1 and metrics.pool_wait.sum == pytest.approx(0.003)
    assert metrics.pool_run.count == 1 and metrics.pool_run.sum == pytest.approx(0.9)
    assert metrics.warnings == {"deferred-error": 1, "backpressure": 1, "recording-off": 1}
    assert metrics.take_incidents() == []


def test_a_slow_dispatch_is_one_incident_with_its_stack_and_creation_site() -> None:
    log = EventLog()
    log.add(ev.SLOW, 1000 * MS, 120 * MS, name="app.handler", dispatch="timer",
            site="/app/h.py:12", function="handler", stack=["/app/h.py:12 handler"],
            blocked=120 * MS)
    # A Deferred callback inside it ends first; then the timer's own event.
    log.add(ev.DEFERRED, 1010 * MS, 200 * MS, name="app.cb", outcome="success")
    log.add(ev.TIMER, 1000 * MS, 250 * MS, name="app.handler", timer=900 * MS, delay=100 * MS,
            late=0,
            site="/app/main.py:40")
    metrics = loop_metrics()
    metrics.feed(log.events)
    (incident,) = metrics.take_incidents()
    assert (incident.ts, incident.dur) == (1000 * MS, 250 * MS)
    assert incident.name == "app.handler" and incident.kind == ev.TIMER
    assert incident.site == "/app/main.py:40"
    assert incident.blocking_site == "/app/h.py:12" and incident.function == "handler"
    assert incident.stack == ["/app/h.py:12 handler"]
    assert incident.seen == 1120 * MS
    assert metrics.warnings == {"slow-callback": 1}
    assert metrics.take_incidents() == []


def test_slow_without_a_stack_and_stack_without_an_end() -> None:
    log = EventLog()
    log.add(ev.IO_READ, 0, 150 * MS, name="app.Proto", conn=1, bytes=10)  # no watchdog sample
    log.add(ev.SLOW, 500 * MS, 110 * MS, name="app.stuck", dispatch="timer",
            site="/app/s.py:3", function="stuck", stack=["/app/s.py:3 stuck"], blocked=110 * MS)
    metrics = loop_metrics()
    metrics.feed(log.events)
    assert metrics.take_incidents() == []  # its slow event may come with the next events
    metrics.feed([])
    first = metrics.take_incidents()
    assert [(i.name, i.dur, i.stack) for i in first] == [("app.Proto", 150 * MS, [])]
    metrics.flush()  # the program ends while stuck
    (stuck,) = metrics.take_incidents()
    assert (stuck.name, stuck.ts, stuck.dur, stuck.kind) == ("app.stuck", 500 * MS, 110 * MS,
                                                             "timer")
    assert metrics.warnings == {"slow-callback": 2}


def test_a_slow_event_after_its_dispatch_makes_one_incident_with_the_stack() -> None:
    log = EventLog()
    log.add(ev.TIMER, 0, 300 * MS, timer=0, delay=0, late=0)
    metrics = loop_metrics()
    metrics.feed(log.events)
    later = EventLog()
    later.add(ev.SLOW, 0, 290 * MS, name="app.stuck", dispatch="timer", site="/app/s.py:3",
              function="stuck", stack=["/app/s.py:3 stuck"], blocked=290 * MS)
    metrics.feed(later.events)
    (incident,) = metrics.take_incidents()
    assert (incident.dur, incident.stack, incident.blocking_site) == (
        300 * MS, ["/app/s.py:3 stuck"], "/app/s.py:3")
    metrics.feed([])
    metrics.flush()
    assert metrics.take_incidents() == [] and metrics.warnings == {"slow-callback": 1}


def test_without_spans_no_incident_is_kept() -> None:
    log = EventLog()
    log.add(ev.TIMER, 0, 300 * MS, timer=0, delay=0, late=0)
    metrics = loop_metrics(incidents=False)
    metrics.feed(log.events)
    assert metrics.incidents == [] and metrics.warnings == {"slow-callback": 1}


def test_a_reading_counts_connections_by_type_and_never_by_connection() -> None:
    def conn(cid: int, kind: str) -> ConnectionInfo:
        return ConnectionInfo(cid, kind, "P", None, None, cid, 0, 0, 0, 0, 0, 0, None, 0)

    snapshot = Snapshot(
        ts=0,
        timers=(TimerInfo(1, "f", None, 5, 5, False), TimerInfo(2, "g", None, 5, 5, True)),
        connections=(conn(1, "tcp"), conn(2, "tcp"), conn(3, "tcp.listen"), conn(4, "waker")),
        warnings=({"code": "late-timer"}, {"code": "late-timer"}, {"code": "slow-callback"}),
    )
    values = reading(loop_metrics(), snapshot, blocked=0.25, pool=(3, 2, 10),
                     dropped={"ring": 7, "metrics": 0},
                     export_dropped={("spans", "rate"): 4}).values
    assert values["pending_timers"] == [({}, 2)]
    assert values["connections"] == [({"type": "tcp"}, 2), ({"type": "tcp.listen"}, 1)]
    assert values["warnings.active"] == [({"code": "late-timer"}, 2),
                                         ({"code": "slow-callback"}, 1)]
    assert values["blocked"] == [({}, 0.25)]
    assert values["threadpool.queued_jobs"] == [({}, 3)]
    assert values["threadpool.threads"] == [({}, 10)]
    assert ({"reason": "ring"}, 7) in values["events.dropped"]
    assert values["export.dropped"] == [({"signal": "spans", "reason": "rate"}, 4)]
    no_pool = reading(loop_metrics(), snapshot, blocked=0.0, pool=None, dropped={},
                      export_dropped={}).values
    assert "threadpool.queued_jobs" not in no_pool


def test_token_bucket() -> None:
    bucket = TokenBucket(rate=1.0, burst=3)
    assert [bucket.take(0.0) for _ in range(5)] == [True, True, True, False, False]
    assert bucket.take(0.5) is False
    assert bucket.take(1.0) is True  # one a second
    assert bucket.take(1.0) is False
    assert [bucket.take(100.0) for _ in range(4)] == [True, True, True, False]  # never above burst
    with pytest.raises(ValueError):
        TokenBucket(0, 1)
