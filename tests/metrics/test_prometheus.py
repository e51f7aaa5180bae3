"""A real Prometheus server scrapes a traced program run by ``reactortrace run --metrics``."""

from __future__ import annotations

from pathlib import Path

import reactortrace

from .conftest import PROGRAMS, Prometheus, free_port, sample, scrape, start, stop
from .receiver import wait_for

JOB = '{job="traced"}'


def test_prometheus_reads_delay_utilization_and_timers(prometheus: Prometheus, tmp_path: Path) -> None:
    trace = tmp_path / "steady.json"
    process = start(["run", "--no-tui", "-o", str(trace),
                     "--metrics", f"127.0.0.1:{prometheus.target_port}",
                     str(PROGRAMS / "steady.py")], tmp_path)
    try:
        # Scraped while up, after the loop has run 4 s (the block at 0.5-1.1 s
        # is then out of the 2 s utilization window).
        wait_for(lambda: prometheus.value(f"up{JOB}") == 1, 90, "Prometheus to scrape the program")
        wait_for(lambda: (prometheus.value(f"sum(twisted_reactor_time_seconds_total{JOB})") or 0)
                 >= 4, 90, "4 s of the program's loop")
        pending = prometheus.value(f"twisted_reactor_pending_timers{JOB}")
        utilization = prometheus.value(f"twisted_reactor_utilization_ratio{JOB}")
        # One expression each, so that both sides come from the same scrape.
        late = prometheus.value(
            f'twisted_reactor_loop_delay_seconds_count{JOB} - ignoring(le) '
            f'twisted_reactor_loop_delay_seconds_bucket{{job="traced",le="0.25"}}')
        untimed = prometheus.value(
            f'twisted_reactor_loop_delay_seconds_count{JOB} - ignoring(kind) '
            f'twisted_reactor_dispatches_total{{job="traced",kind="timer"}}')
        delay_sum = prometheus.value(f"twisted_reactor_loop_delay_seconds_sum{JOB}")
        delay_count = prometheus.value(f"twisted_reactor_loop_delay_seconds_count{JOB}")
        # Utilization as PromQL computes it from the time counters.
        busy_share = wait_for(lambda: prometheus.value(
            'sum(rate(twisted_reactor_time_seconds_total{job="traced",state="busy"}[5s])) / '
            'sum(rate(twisted_reactor_time_seconds_total{job="traced"}[5s]))'),
            60, "two scrapes to take a rate from")
    finally:
        status, out, err = stop(process)
    assert status == 3, err  # the program's own status, after SIGTERM stopped its reactor
    assert "metrics on http://127.0.0.1:" in err

    # Seven timers an hour away, and the LoopingCall's next tick.
    assert pending == 8
    # Busy 0.05 s of every 0.1 s tick.
    assert utilization is not None and 0.3 <= utilization <= 0.8
    assert 0.3 <= busy_share <= 0.8
    # The tick due during the 0.6 s block ran about 0.5 s late: one timer,
    # and only one, is past 0.25 s; every fired timer has a delay.
    assert late == 1
    assert delay_sum is not None and delay_sum >= 0.4
    assert untimed == 0

    # Prometheus read what the trace recorded: no more timers than it has,
    # and the worst one as late.
    recorded = [event for event in reactortrace.load(str(trace)).events if event.kind == "timer"]
    assert delay_count is not None and 30 <= delay_count <= len(recorded)
    worst = max(event.args["late"] for event in recorded) / 1e9
    assert 0.4 <= worst <= delay_sum


def test_a_blocked_loop_is_still_scraped_and_says_so(tmp_path: Path) -> None:
    port = free_port()
    process = start(["run", "--no-tui", "-q", "--metrics", f"127.0.0.1:{port}",
                     str(PROGRAMS / "stuck.py")], tmp_path)
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "STUCK"
        blocked = wait_for(lambda: (sample(scrape(port), "twisted_reactor_blocked_seconds") or 0)
                           >= 1.0 and sample(scrape(port), "twisted_reactor_blocked_seconds"),
                           60, "the blocked gauge to pass 1 s")
        later = wait_for(lambda: (sample(scrape(port), "twisted_reactor_blocked_seconds") or 0)
                         >= blocked + 0.5 and sample(scrape(port), "twisted_reactor_blocked_seconds"),
                         60, "the blocked gauge to keep growing")
        assert later > blocked
    finally:
        process.kill()
        process.communicate()
