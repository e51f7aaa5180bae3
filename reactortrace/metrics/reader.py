"""Reading a traced loop's metrics from a thread of ours, never the reactor's.

:class:`MetricsReader` subscribes to the tracer's events and folds them into
:class:`~reactortrace.metrics.model.LoopMetrics` every second on its own
daemon thread (so that the subscription never piles up events when nobody
scrapes), and again whenever an exporter reads. The reactor thread does
nothing more than it does without metrics.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol

from reactortrace.core.events import Event
from reactortrace.core.periodic import Periodic
from reactortrace.core.snapshot import Snapshot

from .model import Incident, LoopMetrics, Reading, reading

#: Seconds between two folds of new events while no exporter reads.
INTERVAL = 1.0


class Subscription(Protocol):
    lost: int

    def __call__(self) -> list[Event]: ...

    def close(self) -> None: ...


class TracedLoop(Protocol):
    """What the metrics read from a tracer (see ``Tracer`` in reactortrace.instrumentation)."""

    meta: dict[str, Any]

    @property
    def dropped(self) -> int: ...

    def subscribe(self, limit: int = ...) -> Any: ...

    def snapshot(self) -> Snapshot: ...

    def blocked_for(self) -> float: ...

    def pool_stats(self) -> tuple[int, int, int] | None: ...


class MetricsReader:
    """The metrics of ``loop``, kept up to date off the reactor thread.

    ``slow_ms`` and ``late_ms`` are the thresholds of slow dispatches and late
    timers; with ``incidents``, slow dispatches are kept for spans.
    """

    def __init__(
        self,
        loop: TracedLoop,
        *,
        slow_ms: float,
        late_ms: float,
        incidents: bool = False,
        interval: float = INTERVAL,
    ) -> None:
        self.loop = loop
        self.metrics = LoopMetrics(round(slow_ms * 1e6), round(late_ms * 1e6), incidents)
        self.export_dropped: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()
        self._subscription: Subscription = loop.subscribe()
        self._thread = Periodic(self._tick, interval, "reactortrace-metrics", survive_fork=True)
        self.on_error: Callable[[Exception], None] = lambda exc: None

    def start(self) -> None:
        self._thread.start()

    def _tick(self) -> bool:
        try:
            self.update()
        except Exception as exc:  # noqa: BLE001 - never disturb the program
            self.on_error(exc)
            return False
        return True

    def update(self) -> None:
        """Fold the events recorded since the previous update."""
        with self._lock:
            self.metrics.feed(self._subscription())

    def read(self) -> Reading:
        """Every metric as of now."""
        self.update()
        loop = self.loop
        snapshot = loop.snapshot()
        with self._lock:
            return reading(
                self.metrics,
                snapshot,
                blocked=loop.blocked_for(),
                pool=loop.pool_stats(),
                dropped={"ring": loop.dropped, "metrics": self._subscription.lost},
                export_dropped=dict(self.export_dropped),
            )

    def count_dropped(self, signal: str, reason: str, n: int = 1) -> None:
        """Count ``n`` OTLP items of ``signal`` not delivered, for ``reason``."""
        if n > 0:
            with self._lock:
                key = (signal, reason)
                self.export_dropped[key] = self.export_dropped.get(key, 0) + n

    def take_incidents(self, final: bool = False) -> list[Incident]:
        """Slow dispatches since the previous call (``final``: those still blocking too)."""
        self.update()
        with self._lock:
            if final:
                self.metrics.flush()
            lost, self.metrics.incidents_lost = self.metrics.incidents_lost, 0
            if lost:
                key = ("spans", "queue")
                self.export_dropped[key] = self.export_dropped.get(key, 0) + lost
            return self.metrics.take_incidents()

    def close(self) -> None:
        """Stop the thread and the subscription (idempotent)."""
        self._thread.stop()
        self._subscription.close()
