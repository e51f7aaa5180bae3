"""The benchmark workloads: what each measures, its full size and its target.

Each workload module has ``run(reactor, size, tracer) -> dict`` which runs the
reactor itself and returns at least ``value`` (seconds for timed workloads,
bytes per event for memory ones). This file imports nothing from Twisted so
the harness can list workloads without a reactor.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Workload:
    """One benchmark: its module, full-scale size and pass mark."""

    name: str
    size: int  # operations at --scale 1
    target: float  # traced/untraced ratio for "time", bytes per event for "memory"
    measure: str  # "time" or "memory"
    unit: str  # what one operation is, for the table
    about: str
    #: what the traced side is compared with: an untraced run, a traced run
    #: without the watchdog and diagnosis hooks ("no-diagnostics"), or a traced
    #: run as it is by default ("traced") while the measured side adds ``flag``
    baseline: str = "untraced"
    #: the child option the measured side adds when ``baseline`` is "traced"
    flag: str | None = None
    #: pass mark in µs added per operation over the baseline, instead of a ratio
    added_target: float | None = None


WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in (
        Workload(
            "tcp_echo",
            20_000,
            1.15,
            "time",
            "round trip",
            "one client, sequential 16-byte round trips over loopback TCP",
        ),
        Workload(
            "tcp_echo+diagnostics",
            20_000,
            1.03,
            "time",
            "round trip",
            "tcp_echo traced with the watchdog and diagnosis hooks, against traced without them",
            baseline="no-diagnostics",
        ),
        Workload(
            "tcp_echo+metrics",
            20_000,
            1.02,
            "time",
            "round trip",
            "tcp_echo traced with the Prometheus endpoint on and scraped every second, "
            "against traced without it",
            baseline="traced",
            flag="metrics",
        ),
        Workload(
            "call_later_chain",
            200_000,
            1.6,
            "time",
            "timer",
            "callLater(0, f) where each call schedules the next",
        ),
        Workload(
            "deferreds",
            100_000,
            2.0,
            "time",
            "deferred",
            "create a Deferred, add 3 callbacks, fire it; all in one reactor call",
        ),
        Workload(
            "deferreds+view",
            100_000,
            1.5,
            "time",
            "deferred",
            "the deferreds workload traced with the Deferreds view (--deferred-view) "
            "against traced without it: what the view adds per Deferred made",
            baseline="traced",
            flag="deferred-view",
            added_target=1.0,
        ),
        Workload(
            "ring_memory",
            200_000,
            250.0,
            "memory",
            "event",
            "bytes the tracer retains per recorded event after a callLater chain",
        ),
    )
}
