"""The Prometheus scrape endpoint: ``/metrics`` served by prometheus_client from its own thread.

Every scrape reads the metrics there and then (a custom collector on a
registry of our own: the program's own prometheus_client metrics, if it has
any, are left where they are). The server's threads are not the reactor's,
so a blocked loop is still scraped, and says so in ``twisted_reactor_blocked_seconds``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from typing import Any

from prometheus_client import PlatformCollector, ProcessCollector
from prometheus_client.core import (
    CollectorRegistry,
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import start_http_server
from prometheus_client.registry import Collector

from . import table
from .model import Histogram
from .reader import MetricsReader
from .table import BOUNDS, METRICS


class LoopCollector(Collector):
    """Turns a :class:`MetricsReader`'s reading into Prometheus metric families."""

    def __init__(self, reader: MetricsReader) -> None:
        self.reader = reader

    def collect(self) -> Iterator[Metric]:
        values = self.reader.read().values
        for metric in METRICS:
            short = metric.short
            if short not in values:
                continue
            yield family(metric, values[short])


def family(metric: table.Metric, points: list[tuple[dict[str, str], Any]]) -> Metric:
    """One metric family with its samples."""
    name = metric.prometheus_name
    labels = list(metric.labels)
    found: Any
    if metric.type == table.COUNTER:
        found = CounterMetricFamily(name, metric.help, labels=labels)
    elif metric.type == table.GAUGE:
        found = GaugeMetricFamily(name, metric.help, labels=labels)
    else:
        found = HistogramMetricFamily(name, metric.help, labels=labels)
    for point_labels, value in points:
        label_values = [point_labels[label] for label in labels]
        if isinstance(value, Histogram):
            found.add_metric(label_values, buckets(value), value.sum)
        else:
            found.add_metric(label_values, value)
    return found


def buckets(histogram: Histogram) -> list[tuple[str, float]]:
    """Cumulative ``(le, count)`` pairs, ``+Inf`` last."""
    out: list[tuple[str, float]] = []
    total = 0
    for bound, count in zip((*BOUNDS, float("inf")), histogram.counts):
        total += count
        out.append(("+Inf" if bound == float("inf") else repr(bound), total))
    return out


class PrometheusEndpoint:
    """``/metrics`` on ``host:port`` for ``reader``; :attr:`port` is the one bound."""

    def __init__(self, reader: MetricsReader, host: str, port: int) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(LoopCollector(reader))
        # The usual process_* and python_info series, as prometheus_client's default registry has.
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        self._server, thread = start_http_server(port, addr=host, registry=self.registry)
        thread.name = "reactortrace-prometheus"
        self.port: int = self._server.server_port
        self._closed = threading.Event()
        self._pid = os.getpid()

    def restart_in_child(self) -> None:
        """A forked child that goes on with the reactor (twistd daemonizing)
        serves the socket it inherited; other children do not."""
        if not self._closed.is_set():
            threading.Thread(target=self._server.serve_forever, name="reactortrace-prometheus",
                             daemon=True).start()

    def close(self) -> None:
        """Stop serving and free the port (idempotent)."""
        if self._closed.is_set():
            return
        self._closed.set()
        if os.getpid() == self._pid:  # a forked child has no serving thread to wait for
            self._server.shutdown()
        self._server.server_close()
