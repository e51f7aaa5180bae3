"""OTLP/HTTP: the metrics and slow-dispatch spans pushed to a collector from a thread of ours.

The OpenTelemetry SDK's OTLP/HTTP exporters send them (with its retries and
backoff inside each export, within ``OTEL_EXPORTER_OTLP_TIMEOUT``). Metrics
are the same reading the Prometheus endpoint serves, as cumulative sums,
gauges and explicit-bucket histograms; each slow dispatch becomes a span
back-dated to when it started, made by the SDK's tracer (a provider of our
own: the program's global OpenTelemetry setup is left alone).

A collector that is down, slow or answering errors never reaches the
program: exports happen on the ``reactortrace-otlp`` thread, a failing one is
tried again later with a growing pause, spans that cannot wait any more are
dropped and counted (``twisted_reactor_export_dropped``), and the failure is
said once. The SDK's own log lines about it, from our thread only, are kept
out of the program's logging. Closing waits a bounded time for a last export.
"""

from __future__ import annotations

import importlib.metadata
import itertools
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import requests
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    Gauge,
    Histogram,
    HistogramDataPoint,
    Metric,
    MetricExportResult,
    MetricsData,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
    Sum,
)
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from . import table
from .limit import TokenBucket
from .model import Incident, Reading
from .reader import MetricsReader
from .table import BOUNDS, METRICS

try:
    __version__ = importlib.metadata.version("reactortrace")
except importlib.metadata.PackageNotFoundError:  # run from a source tree
    __version__ = "0"

THREAD_NAME = "reactortrace-otlp"
SCOPE = "reactortrace"
#: Spans waiting to be sent at most; older ones are dropped (reason ``queue``).
MAX_QUEUE = 512
#: Spans per second at most over time, and in one burst (reason ``rate``).
SPAN_RATE = 1.0
SPAN_BURST = 10
#: Longest pause between two tries while the collector fails (seconds).
MAX_BACKOFF = 60.0
#: Seconds closing waits for the last exports to a collector that answered so far.
LINGER = 1.0
#: Seconds each of the last exports may take (one try: the SDK's first backoff is longer).
LAST_TIMEOUT = 0.4
#: Characters of a failure's cause said at most.
MAX_REASON = 300
#: The SDK modules that log about exports.
_SDK_LOGGERS = (
    "opentelemetry.exporter.otlp.proto.http.metric_exporter",
    "opentelemetry.exporter.otlp.proto.http.trace_exporter",
    "opentelemetry.exporter.otlp.proto.http._common",
    "opentelemetry.exporter.otlp.proto.common._internal",
    "opentelemetry.exporter.otlp.proto.common._internal.metrics_encoder",
    "opentelemetry.exporter.otlp.proto.common._internal.trace_encoder",
    "opentelemetry.exporter.otlp.common.http",
    "urllib3.connectionpool",
    "urllib3.connection",
)


def _interval(variable: str, default_ms: float) -> float:
    """Seconds, from an OpenTelemetry environment variable in milliseconds."""
    try:
        value = float(os.environ.get(variable, default_ms))
    except ValueError:
        value = default_ms
    return max(0.05, value / 1000)


def endpoint(base: str, signal: str) -> str:
    """The URL of ``signal`` (``traces``, ``metrics``) under an OTLP/HTTP base URL."""
    return f"{base.rstrip('/')}/v1/{signal}"


class _OurThreadsOnly(logging.Filter):
    """Keeps the SDK's records made on our threads out of the program's logs
    (those of its own threads pass), remembering the first one of each
    thread since :meth:`forget`: the cause of a failure, said once."""

    def __init__(self) -> None:
        super().__init__()
        self.first: dict[str, str] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        name = threading.current_thread().name
        if not name.startswith(THREAD_NAME):
            return True
        if record.levelno >= logging.WARNING and name not in self.first:
            try:
                self.first[name] = record.getMessage()
            except Exception:  # noqa: BLE001 - a bad format string: keep the template
                self.first[name] = str(record.msg)
        return False

    def forget(self) -> None:
        """Start afresh for the calling thread (before each export)."""
        self.first.pop(threading.current_thread().name, None)


#: One filter for every exporter, on the SDK's loggers for good: a thread left
#: behind by a bounded close must not log into the program either.
_FILTER = _OurThreadsOnly()
_numbers = itertools.count(1)


class Signal:
    """One kind of export (metrics or spans): when to try next, and the failures in a row."""

    def __init__(self, name: str, interval: float) -> None:
        self.name = name
        self.interval = interval
        self.failures = 0
        self.next = time.monotonic() + interval

    def due(self, now: float) -> bool:
        return now >= self.next

    def done(self, ok: bool, now: float) -> None:
        self.failures = 0 if ok else self.failures + 1
        pause = min(MAX_BACKOFF, self.interval * 2 ** self.failures) if self.failures else self.interval
        self.next = now + pause


class OtlpExporter:
    """Pushes ``reader``'s metrics and slow-dispatch spans to the collector at ``url``.

    ``meta`` is the trace's (program, pid, start time); ``say`` tells a failure,
    once. Intervals follow ``OTEL_METRIC_EXPORT_INTERVAL`` and
    ``OTEL_BSP_SCHEDULE_DELAY`` (milliseconds) when they are set.
    """

    def __init__(
        self,
        reader: MetricsReader,
        url: str,
        meta: dict[str, Any],
        say: Callable[[str], None],
    ) -> None:
        self.reader = reader
        self.url = url
        self._say = say
        self._start_ns = round(float(meta.get("start_wall") or time.time()) * 1e9)
        self.resource = _resource(meta)
        # One HTTP session for both, used from our thread only, that notes
        # the collector's error answers (the SDK's result does not say them).
        self._session = session = requests.Session()
        session.hooks["response"].append(self._answered)
        self._answer: str | None = None
        self.metric_exporter = OTLPMetricExporter(endpoint=endpoint(url, "metrics"),
                                                  session=session)
        self.span_exporter = OTLPSpanExporter(endpoint=endpoint(url, "traces"), session=session)
        provider = TracerProvider(resource=self.resource, shutdown_on_exit=False)
        self._scope = InstrumentationScope(SCOPE, __version__)
        self._tracer = provider.get_tracer(SCOPE, __version__)
        self._limit = TokenBucket(SPAN_RATE, SPAN_BURST)
        self._spans: deque[ReadableSpan] = deque()
        self.metrics = Signal("metrics", _interval("OTEL_METRIC_EXPORT_INTERVAL", 60_000))
        self.traces = Signal("spans", _interval("OTEL_BSP_SCHEDULE_DELAY", 5_000))
        for name in _SDK_LOGGERS:
            logging.getLogger(name).addFilter(_FILTER)  # once: filters are a set
        self._said = False
        self._stop = threading.Event()
        self._closed = False
        self._thread_name = f"{THREAD_NAME}-{next(_numbers)}"
        self._thread = self._new_thread()

    def _new_thread(self) -> threading.Thread:
        return threading.Thread(target=self._run, name=self._thread_name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def restart_in_child(self) -> None:
        """A forked child that goes on with the reactor (twistd daemonizing)
        goes on exporting; other children do not."""
        if not self._closed:
            self._thread = self._new_thread()
            self._thread.start()

    # -- the thread ----------------------------------------------------------

    def _run(self) -> None:
        try:
            while not self._stop.wait(self._pause()):
                now = time.monotonic()
                if self.traces.due(now):
                    self.traces.done(self._send_spans(), time.monotonic())
                if self.metrics.due(now):
                    self.metrics.done(self._send_metrics(), time.monotonic())
            if self.healthy:
                self._last_words()
        except Exception as exc:  # noqa: BLE001 - the program must never see it
            self._tell(f"OTLP export to {self.url} stopped: {type(exc).__name__}: {exc}")

    def _last_words(self) -> None:
        """The last spans and metrics, each given :data:`LAST_TIMEOUT` at most
        (shorter than the SDK's first backoff: one try each)."""
        self.span_exporter = OTLPSpanExporter(
            endpoint=endpoint(self.url, "traces"), session=self._session, timeout=LAST_TIMEOUT)
        if self._send_spans(final=True):
            self.metric_exporter = OTLPMetricExporter(
                endpoint=endpoint(self.url, "metrics"), session=self._session,
                timeout=LAST_TIMEOUT)
            self._send_metrics()

    def _pause(self) -> float:
        return max(0.0, min(self.metrics.next, self.traces.next) - time.monotonic())

    @property
    def healthy(self) -> bool:
        """Whether the last exports of both kinds went through (or none failed
        yet), and the one under way (if any) has met no error so far."""
        troubled = self._answer is not None or self._thread_name in _FILTER.first
        return not (self.metrics.failures or self.traces.failures or troubled)

    def _send_metrics(self) -> bool:
        data = metrics_data(self.reader.read(), self.resource, self._scope,
                            self._start_ns, time.time_ns())
        self._forget()
        ok = self.metric_exporter.export(data) == MetricExportResult.SUCCESS
        if not ok:
            self.reader.count_dropped("metrics", "failed")
        return self._outcome(ok)

    def _send_spans(self, final: bool = False) -> bool:
        for incident in self.reader.take_incidents(final):
            if not self._limit.take(incident.ts / 1e9):
                self.reader.count_dropped("spans", "rate")
                continue
            self._spans.append(self._span(incident))
        overflow = len(self._spans) - MAX_QUEUE
        if overflow > 0:
            for _ in range(overflow):
                self._spans.popleft()
            self.reader.count_dropped("spans", "queue", overflow)
        if not self._spans:
            return True
        batch = list(self._spans)
        self._forget()
        ok = self.span_exporter.export(batch) == SpanExportResult.SUCCESS
        if ok:
            for _ in batch:
                self._spans.popleft()
        return self._outcome(ok)

    def _answered(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        if response.status_code >= 400:
            self._answer = f"HTTP {response.status_code} {response.reason}"

    def _forget(self) -> None:
        """Before an export: what the last one was told is no longer news."""
        self._answer = None
        _FILTER.forget()

    def _outcome(self, ok: bool) -> bool:
        if not ok:
            reason = (self._answer or _FILTER.first.get(self._thread_name)
                      or "the collector did not accept it")
            if len(reason) > MAX_REASON:
                reason = reason[: MAX_REASON - 3] + "..."
            self._tell(f"cannot export to {self.url} ({reason}); exports are tried again "
                       "with backoff, what cannot wait is dropped and counted (said once)")
        return ok

    def _tell(self, message: str) -> None:
        if not self._said:
            self._said = True
            self._say(message)

    def _span(self, incident: Incident) -> ReadableSpan:
        """The span of one slow dispatch, from when it started to when it ended."""
        wall = self._start_ns
        span = self._tracer.start_span(
            "slow dispatch", start_time=wall + incident.ts, attributes=span_attributes(incident)
        )
        if incident.seen is not None:
            span.add_event("blocked", {
                "twisted.blocked_ms": (incident.seen - incident.ts) / 1e6,
                "code.stacktrace": "\n".join(incident.stack),
            }, timestamp=wall + incident.seen)
        span.end(end_time=wall + incident.ts + incident.dur)
        assert isinstance(span, ReadableSpan)
        return span

    # -- control -------------------------------------------------------------

    def stop(self) -> None:
        """Start the last exports now, without waiting for them (see :meth:`close`)."""
        self._stop.set()

    def close(self, linger: float = LINGER) -> None:
        """Stop, after a last export if the collector answered so far (bounded wait). Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(linger if self.healthy else 0.0)
        for exporter in (self.metric_exporter, self.span_exporter):
            try:
                exporter.shutdown()  # interrupts a retry's backoff
            except Exception:  # noqa: BLE001
                pass
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(0.1)


def _resource(meta: dict[str, Any]) -> Resource:
    """The SDK's resource (``OTEL_SERVICE_NAME``, ``OTEL_RESOURCE_ATTRIBUTES``),
    named after the program when the environment does not name it."""
    resource = Resource.create({"process.pid": int(meta.get("pid") or os.getpid())})
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        program = os.path.basename(str(meta.get("program") or "python")) or "python"
        resource = resource.merge(Resource({SERVICE_NAME: program}))
    return resource


def span_attributes(incident: Incident) -> dict[str, Any]:
    """What a slow dispatch's span tells: the callable, where it came from, what blocked."""
    attributes: dict[str, Any] = {
        "twisted.dispatch.callable": incident.name,
        "twisted.dispatch.kind": incident.kind or "unknown",
    }
    if incident.site:
        attributes["twisted.dispatch.site"] = incident.site
    if incident.blocking_site:
        path, _, line = incident.blocking_site.rpartition(":")
        attributes["code.file.path"] = path or incident.blocking_site
        if line.isdigit():
            attributes["code.line.number"] = int(line)
    if incident.function:
        attributes["code.function.name"] = incident.function
    if incident.stack:
        attributes["code.stacktrace"] = "\n".join(incident.stack)
    return attributes


def metrics_data(
    reading: Reading, resource: Resource, scope: InstrumentationScope, start_ns: int, now_ns: int
) -> MetricsData:
    """A reading as OTLP metrics: cumulative since ``start_ns``, as of ``now_ns``."""
    metrics = []
    for metric in METRICS:
        points = reading.values.get(metric.short)
        if points is None:
            continue
        metrics.append(Metric(metric.name, metric.help, metric.unit,
                              _data(metric, points, start_ns, now_ns)))
    return MetricsData([ResourceMetrics(resource, [ScopeMetrics(scope, metrics, "")], "")])


def _data(
    metric: table.Metric, points: Sequence[tuple[dict[str, str], Any]], start_ns: int, now_ns: int
) -> Any:
    cumulative = AggregationTemporality.CUMULATIVE
    if metric.type == table.HISTOGRAM:
        return Histogram([
            HistogramDataPoint(labels, start_ns, now_ns, h.count, h.sum, list(h.counts),
                               list(BOUNDS), h.min, h.max)
            for labels, h in points
        ], cumulative)
    numbers = [NumberDataPoint(labels, start_ns, now_ns, value) for labels, value in points]
    if metric.type == table.COUNTER:
        return Sum(numbers, cumulative, True)
    return Gauge(numbers)
