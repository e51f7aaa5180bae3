"""A real OTLP/HTTP receiver for tests: decodes what exporters POST with the
OpenTelemetry protobuf definitions, or answers a chosen error status."""

from __future__ import annotations

import gzip
import threading
import zlib
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from ..live.fakes import wait_until

_KINDS: dict[str, tuple[Any, Any]] = {
    "/v1/metrics": (ExportMetricsServiceRequest, ExportMetricsServiceResponse),
    "/v1/traces": (ExportTraceServiceRequest, ExportTraceServiceResponse),
}


class Receiver:
    """Listens on 127.0.0.1; ``metrics`` and ``traces`` hold the decoded requests.

    ``status`` is what it answers (200, or 503 to play a failing collector);
    with ``hang`` it reads each request and never answers (until closed);
    after ``recover_after`` requests it answers 200 whatever ``status`` says.
    """

    def __init__(self, status: int = 200, hang: bool = False,
                 recover_after: int | None = None) -> None:
        self.status = status
        self.recover_after = recover_after
        self.hang = hang
        self._closing = threading.Event()
        self.metrics: list[ExportMetricsServiceRequest] = []
        self.traces: list[ExportTraceServiceRequest] = []
        self.requests = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                encoding = (self.headers.get("Content-Encoding") or "").lower()
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "deflate":
                    body = zlib.decompress(body)
                receiver.take(self, self.path, body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def take(self, handler: BaseHTTPRequestHandler, path: str, body: bytes) -> None:
        with self._lock:
            self.requests += 1
            if self.recover_after is not None and self.requests > self.recover_after:
                self.status = 200
        if self.hang:
            self._closing.wait()
            return
        kinds = _KINDS.get(path)
        if kinds is None:
            handler.send_response(404)
            handler.end_headers()
            return
        if self.status != 200:
            handler.send_response(self.status)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        request_type, response_type = kinds
        request = request_type()
        request.ParseFromString(body)
        with self._lock:
            (self.metrics if path == "/v1/metrics" else self.traces).append(request)
        reply = response_type().SerializeToString()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/x-protobuf")
        handler.send_header("Content-Length", str(len(reply)))
        handler.end_headers()
        handler.wfile.write(reply)

    def metric_names(self) -> dict[str, str]:
        """Every metric name received, with its unit."""
        with self._lock:
            requests = list(self.metrics)
        return {metric.name: metric.unit
                for request in requests
                for resource in request.resource_metrics
                for scope in resource.scope_metrics
                for metric in scope.metrics}

    def latest_metric(self, name: str) -> Any:
        """The last received data of metric ``name`` (a protobuf Metric), or None."""
        with self._lock:
            requests = list(self.metrics)
        found = None
        for request in requests:
            for resource in request.resource_metrics:
                for scope in resource.scope_metrics:
                    for metric in scope.metrics:
                        if metric.name == name:
                            found = metric
        return found

    def spans(self) -> list[tuple[Any, Any]]:
        """Every span received, with its resource."""
        with self._lock:
            requests = list(self.traces)
        return [(resource.resource, span)
                for request in requests
                for resource in request.resource_spans
                for scope in resource.scope_spans
                for span in scope.spans]

    def close(self) -> None:
        self._closing.set()
        self.server.shutdown()
        self.server.server_close()


def wait_for(condition: Callable[[], Any], timeout: float = 60.0, what: str = "") -> Any:
    """Poll ``condition`` until it is true (returned), failing after ``timeout`` s."""
    return wait_until(condition, timeout, step=0.05, what=what)
