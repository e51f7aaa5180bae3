"""Every metric reactortrace exports, in one table: the names both exporters and the README use.

Each has its OpenTelemetry name, type, unit (UCUM), labels and help; the
Prometheus name is derived by the usual rules (``twisted.reactor.loop.delay``
in ``s`` is ``twisted_reactor_loop_delay_seconds``; the client adds
``_total`` to counters). Labels are low-cardinality by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

COUNTER = "counter"
GAUGE = "gauge"
HISTOGRAM = "histogram"

#: Upper bounds (seconds) of the histograms' buckets: 0.1 ms to 10 s.
BOUNDS: tuple[float, ...] = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)

_SUFFIXES = {"s": "seconds", "By": "bytes", "1": "ratio"}


@dataclass(frozen=True)
class Metric:
    """One metric: OpenTelemetry ``name``, ``type``, ``unit`` (UCUM), ``labels``, ``help``."""

    name: str
    type: str
    unit: str
    help: str
    labels: tuple[str, ...] = ()

    @property
    def prometheus_name(self) -> str:
        """The name Prometheus sees (without ``_total``, which the client adds)."""
        base = self.name.replace(".", "_")
        suffix = _SUFFIXES.get(self.unit)
        return f"{base}_{suffix}" if suffix and not base.endswith(suffix) else base

    @property
    def short(self) -> str:
        """The name without ``twisted.reactor.``: the key of a :class:`Reading`'s values."""
        return self.name.removeprefix("twisted.reactor.")


def _m(name: str, kind: str, unit: str, help: str, *labels: str) -> Metric:
    return Metric(f"twisted.reactor.{name}", kind, unit, help, labels)


METRICS: tuple[Metric, ...] = (
    _m("loop.delay", HISTOGRAM, "s",
       "how late timers ran: the lag between when work was due and when the loop ran it"),
    _m("utilization", GAUGE, "1",
       "share of the last 2 s the loop was busy rather than waiting in poll"),
    _m("time", COUNTER, "s",
       "time the loop spent running work (state=busy) and waiting in poll (state=idle)",
       "state"),
    _m("iterations", COUNTER, "{iteration}", "passes of the loop"),
    _m("blocked", GAUGE, "s",
       "how long the dispatch running now has been running (0 while the loop waits)"),
    _m("dispatches", COUNTER, "{dispatch}", "dispatches run, by kind", "kind"),
    _m("dispatch.duration", HISTOGRAM, "s", "how long dispatches ran, by kind", "kind"),
    _m("pending_timers", GAUGE, "{timer}", "timers scheduled and not yet run"),
    _m("connections", GAUGE, "{connection}",
       "open connections and listening ports, by type", "type"),
    _m("network.io", COUNTER, "By",
       "bytes read and written by transports (direction: receive, transmit)", "direction"),
    _m("threadpool.queued_jobs", GAUGE, "{job}", "thread-pool jobs waiting for a thread"),
    _m("threadpool.busy_threads", GAUGE, "{thread}", "thread-pool threads running a job"),
    _m("threadpool.threads", GAUGE, "{thread}", "thread-pool threads"),
    _m("threadpool.job.wait", HISTOGRAM, "s", "how long thread-pool jobs waited for a thread"),
    _m("threadpool.job.duration", HISTOGRAM, "s", "how long thread-pool jobs ran"),
    _m("warnings", COUNTER, "{warning}",
       "incidents by warning code: slow dispatches, late timers, Deferred errors, "
       "backpressure, and warnings the recording made", "code"),
    _m("warnings.active", GAUGE, "{warning}", "warnings shown now (as in the TUI), by code",
       "code"),
    _m("events.dropped", COUNTER, "{event}",
       "events lost: fallen out of the ring (reason=ring) or missed by the metrics "
       "reader (reason=metrics)", "reason"),
    _m("export.dropped", COUNTER, "{item}",
       "OTLP items not delivered (signal: spans, metrics; reason: rate, queue, failed)",
       "signal", "reason"),
)
