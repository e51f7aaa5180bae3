"""OTLP/HTTP: a receiver in the test decodes what ``reactortrace run --otlp`` sends."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from reactortrace.metrics.otlp import LINGER
from reactortrace.metrics.table import METRICS

from .conftest import PROGRAMS, elapsed, free_port, run
from .receiver import Receiver

FAST = {"OTEL_METRIC_EXPORT_INTERVAL": "200", "OTEL_BSP_SCHEDULE_DELAY": "200"}
PROGRAM = str(PROGRAMS / "slowone.py")

def line_of(text: str) -> int:
    """The number of the program's line containing ``text``."""
    return next(n for n, line in enumerate(Path(PROGRAM).read_text().splitlines(), 1)
                if text in line)


BLOCKING_LINE = line_of("the blocking line")
SCHEDULED_LINE = line_of("reactor.callLater(0.2, block)")


def facts(out: str) -> dict[str, list[str]]:
    """The program's ``WORD values...`` lines."""
    return {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.strip()}


def timed_run(args: list[str], cwd: Path, **env: str) -> tuple[Any, float]:
    """Run, and how long the process took to end after the program's ``END`` line."""
    result = run(args, cwd, **env)
    ended = time.time()
    return result, ended - float(facts(result.stdout)["END"][0])


def attributes(items: object) -> dict[str, object]:
    """Protobuf KeyValues as a dict of plain values."""
    found = {}
    for item in items:  # type: ignore[attr-defined]
        value = item.value
        found[item.key] = getattr(value, value.WhichOneof("value"))
    return found


def test_metrics_and_a_back_dated_slow_dispatch_span(receiver: Receiver, tmp_path: Path) -> None:
    result = run(["run", "--no-tui", "-q", "--slow", "100", "--otlp", receiver.url, PROGRAM],
                 tmp_path, **FAST, OTEL_SERVICE_NAME="shop")
    assert result.returncode == 3, result.stderr
    assert "cannot export" not in result.stderr

    # Every metric of the table, with its unit (thread-pool gauges only with a pool).
    names = receiver.metric_names()
    expected = {m.name: m.unit for m in METRICS if ".threadpool." not in m.name
                or m.type == "histogram"}
    assert {name: names.get(name) for name in expected} == expected
    delay = receiver.latest_metric("twisted.reactor.loop.delay")
    point = delay.histogram.data_points[0]
    assert point.count >= 20 and sum(point.bucket_counts) == point.count
    assert point.max >= 0.2  # the ticks held up by the 0.3 s block
    assert delay.histogram.aggregation_temporality == 2  # cumulative
    timers = receiver.latest_metric("twisted.reactor.pending_timers")
    assert timers.gauge.data_points[0].as_int >= 0
    dispatches = receiver.latest_metric("twisted.reactor.dispatches")
    assert dispatches.sum.is_monotonic
    by_kind = {attributes(p.attributes)["kind"]: p.as_int for p in dispatches.sum.data_points}
    assert by_kind["timer"] >= 25

    # One span: the 0.3 s block, back-dated to when it began, with the stack.
    spans = receiver.spans()
    assert len(spans) == 1
    resource, span = spans[0]
    assert attributes(resource.attributes)["service.name"] == "shop"
    assert span.name == "slow dispatch"
    began = int(facts(result.stdout)["BLOCK"][0])
    assert abs(span.start_time_unix_nano - began) < 50_000_000
    assert 0.29 <= (span.end_time_unix_nano - span.start_time_unix_nano) / 1e9 < 2.0
    told = attributes(span.attributes)
    assert told["twisted.dispatch.callable"].endswith("block")
    assert told["twisted.dispatch.kind"] == "timer"
    assert str(told["twisted.dispatch.site"]).endswith(f"slowone.py:{SCHEDULED_LINE}")
    assert told["code.function.name"] == "block"
    assert told["code.line.number"] == BLOCKING_LINE
    assert f"slowone.py:{BLOCKING_LINE} block" in str(told["code.stacktrace"])
    (event,) = span.events
    assert event.name == "blocked"
    assert span.start_time_unix_nano + 100_000_000 <= event.time_unix_nano <= span.end_time_unix_nano


@pytest.mark.parametrize("collector", ["down", "503", "hanging"])
def test_a_failing_collector_changes_nothing_in_the_program(collector: str, tmp_path: Path) -> None:
    plain, plain_exit = timed_run(["run", "--no-tui", "-q", PROGRAM], tmp_path)
    failing = (Receiver(status=503) if collector == "503"
               else Receiver(hang=True) if collector == "hanging" else None)
    url = failing.url if failing else f"http://127.0.0.1:{free_port()}"
    try:
        result, exit_took = timed_run(["run", "--no-tui", "-q", "--otlp", url, PROGRAM],
                                      tmp_path, **FAST)
    finally:
        if failing:
            failing.close()
    assert result.returncode == plain.returncode == 3
    mine, theirs = facts(result.stdout), facts(plain.stdout)
    assert mine.keys() == theirs.keys() == {"BLOCK", "TICKS", "END"}
    assert mine["TICKS"][0] == theirs["TICKS"][0] == "25"
    # The 25 ticks took as long (about 1.5 s with the block), and after the
    # program's last line the process ended about as soon (unloading the
    # exporters' libraries takes a little), but for waiting at most LINGER s
    # for a collector that has not answered yet (not the SDK's 10 s timeout).
    assert abs(float(mine["TICKS"][1]) - float(theirs["TICKS"][1])) < 0.5
    assert exit_took < plain_exit + 1.0 + (LINGER if collector == "hanging" else 0)
    # Said once, however many exports failed; nothing in the program's own output.
    said = [line for line in result.stderr.splitlines() if "cannot export" in line]
    if collector == "hanging":
        # Still waiting for its answers at the end: the program did not wait.
        assert said == [] and result.stderr.splitlines() == plain.stderr.splitlines()
        assert failing is not None and failing.requests >= 1
        return
    assert len(said) == 1, result.stderr
    assert url in said[0]
    # The program logs everything (DEBUG) to stderr: the exporter's retries,
    # connection errors and HTTP requests are not in it.
    others = [line for line in result.stderr.splitlines() if line not in said]
    assert others == plain.stderr.splitlines()
    if failing:
        assert failing.requests >= 2  # it was tried again


def test_a_flood_of_slow_callbacks_never_floods_the_collector(receiver: Receiver,
                                                              tmp_path: Path) -> None:
    result, took = elapsed(lambda: run(
        ["run", "--no-tui", "-q", "--slow", "50", "--otlp", receiver.url,
         str(PROGRAMS / "flood.py")], tmp_path, **FAST))
    assert result.returncode == 0, result.stderr
    spans = receiver.spans()
    # A burst of 10, then one a second of the program's time (40 x 60 ms = 2.4 s).
    assert 10 <= len(spans) <= 10 + int(took) + 1
    assert all(span.name == "slow dispatch" for _, span in spans)
    dropped = receiver.latest_metric("twisted.reactor.export.dropped")
    counted = {tuple(sorted(attributes(p.attributes).items())): p.as_int
               for p in dropped.sum.data_points}
    assert counted[(("reason", "rate"), ("signal", "spans"))] == 40 - len(spans)
    warnings = receiver.latest_metric("twisted.reactor.warnings")
    by_code = {attributes(p.attributes)["code"]: p.as_int for p in warnings.sum.data_points}
    assert by_code["slow-callback"] == 40


def test_a_collector_that_recovers_gets_what_waited_and_the_count_of_what_failed(
        tmp_path: Path) -> None:
    # Two 503s; each export gives up at once (its timeout is shorter than the
    # SDK's first backoff), and reactortrace tries again a little later.
    receiver = Receiver(status=503, recover_after=2)
    try:
        result = run(["run", "--no-tui", "-q", "--slow", "100", "--otlp", receiver.url, PROGRAM],
                     tmp_path, **FAST, OTEL_EXPORTER_OTLP_TIMEOUT="0.3")
    finally:
        receiver.close()
    assert result.returncode == 3, result.stderr
    said = [line for line in result.stderr.splitlines() if "cannot export" in line]
    assert len(said) == 1 and "503" in said[0], result.stderr
    # The span that waited through the failures arrived, once.
    assert [span.name for _, span in receiver.spans()] == ["slow dispatch"]
    dropped = receiver.latest_metric("twisted.reactor.export.dropped")
    counted = {tuple(sorted(attributes(p.attributes).items())): p.as_int
               for p in dropped.sum.data_points}
    failed = {key: n for key, n in counted.items() if ("reason", "failed") in key}
    assert sum(failed.values()) >= 1
    assert set(failed) <= {(("reason", "failed"), ("signal", "metrics"))}  # spans are kept
