"""Loop health beyond one machine: a Prometheus endpoint and OTLP/HTTP export.

Optional (``pip install 'reactortrace[metrics]'``): prometheus_client serves
``/metrics``, the OpenTelemetry SDK pushes metrics and slow-dispatch spans.
Both read the tracer from threads of their own (:mod:`.reader`), from the
same events as the TUI and the trace; nothing is added to the program's
reactor. :func:`start` is what the tracer calls; the metric table is in
:mod:`.model`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import ReactorTraceError, UsageError
from .address import check_bindable, parse_address, parse_url, require
from .reader import MetricsReader, TracedLoop

__all__ = ["Exports", "check_options", "start"]


def check_options(metrics: str | None, otlp: str | None) -> None:
    """Raise :class:`UsageError` for a bad ``--metrics``/``--otlp`` value, a busy
    port or a missing library: before the program starts."""
    if metrics is not None:
        require("--metrics")
        check_bindable(*parse_address(metrics))
    if otlp is not None:
        require("--otlp")
        parse_url(otlp)


class Exports:
    """The running exporters of one tracer; :meth:`close` stops them all."""

    def __init__(self, reader: MetricsReader) -> None:
        self.reader = reader
        self.prometheus: Any = None  # PrometheusEndpoint
        self.otlp: Any = None  # OtlpExporter

    @property
    def metrics_port(self) -> int | None:
        """The port ``/metrics`` is served on (the one picked, for port 0)."""
        return self.prometheus.port if self.prometheus is not None else None

    def finish(self, wait: bool = True) -> None:
        """The program is done: send the last OTLP exports, and wait for them
        (a bounded time), or with ``wait=False`` only start them."""
        if self.otlp is not None:
            if wait:
                self.otlp.close()
            else:
                self.otlp.stop()

    def restart_in_child(self) -> None:
        """In a forked child that goes on with its reactor: export from it.

        A child that does not (a worker, ``fork`` then ``exec``) never serves
        the endpoint it inherited nor pushes to the collector.
        """
        if self.prometheus is not None:
            self.prometheus.restart_in_child()
        if self.otlp is not None:
            self.otlp.restart_in_child()

    def close(self) -> None:
        """Stop every exporter and free the port (idempotent)."""
        self.finish()
        if self.prometheus is not None:
            self.prometheus.close()
        self.reader.close()


def start(
    loop: TracedLoop,
    *,
    slow_ms: float,
    late_ms: float,
    metrics: str | None = None,
    otlp: str | None = None,
    say: Callable[[str], None],
) -> Exports:
    """Serve ``/metrics`` on ``metrics`` (HOST:PORT) and/or push to ``otlp`` (URL).

    Raises :class:`UsageError` for a bad value, a port that cannot be listened
    on, or a library that is not installed; nothing is left running then.
    """
    address = parse_address(metrics) if metrics is not None else None
    url = parse_url(otlp) if otlp is not None else None
    if metrics is not None:
        require("--metrics")
    if otlp is not None:
        require("--otlp")
    reader = MetricsReader(loop, slow_ms=slow_ms, late_ms=late_ms, incidents=url is not None)
    reader.on_error = lambda exc: say(f"metrics stopped: {type(exc).__name__}: {exc}")
    exports = Exports(reader)
    try:
        if address is not None:
            from .prometheus import PrometheusEndpoint

            try:
                exports.prometheus = PrometheusEndpoint(reader, *address)
            except OSError as exc:
                raise UsageError(f"--metrics: cannot listen on {metrics}: "
                                 f"{exc.strerror or exc}") from None
        if url is not None:
            from .otlp import OtlpExporter

            exports.otlp = OtlpExporter(reader, url, loop.meta, say)
            exports.otlp.start()
        reader.start()
    except ReactorTraceError:
        exports.close()
        raise
    return exports
