"""The diagnostics of one trace: every kind of finding, fed by LoopState."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .codes import MAX_PER_CODE
from .connections import ConnectionFindings
from .deferreds import DeferredFindings
from .findings import Findings
from .leftovers import find_leftovers
from .slow import SlowDispatches
from .thresholds import Thresholds
from .timers import TimerLateness


class Diagnostics:
    """Findings from events fed in ``seq`` order by a :class:`LoopState`.

    LoopState calls one method per event kind that matters, passing the
    connection records it keeps and, at shutdown, its pending timers;
    :meth:`warnings` reads them all.
    """

    def __init__(
        self, thresholds: Thresholds | None = None, *, max_per_code: int = MAX_PER_CODE
    ) -> None:
        self.thresholds = thresholds = thresholds or Thresholds()
        self.idle_ns = thresholds.idle_ns
        self.findings = Findings(max_per_code)
        self.slow_dispatches = SlowDispatches(self.findings, thresholds.slow_ns)
        self.timers = TimerLateness(self.findings, thresholds.late_ns, self.slow_dispatches.blame)
        self.deferreds = DeferredFindings(self.findings, thresholds.pending_ns)
        self.connections = ConnectionFindings(
            self.findings, thresholds.idle_ns, thresholds.pending_ns
        )
        self.resumed = self.connections.resumed
        self.shutdown_at: int | None = None
        # What LoopState calls, by event kind.
        self.slow = self.slow_dispatches.slow
        self.dispatch = self.slow_dispatches.dispatch
        self.timer = self.timers.timer
        self.looping_scheduled = self.timers.looping_scheduled
        self.deferred_new = self.deferreds.new
        self.deferred_fired = self.deferreds.fired
        self.deferred_error = self.deferreds.error
        self.deferred_handled = self.deferreds.handled
        self.backpressure = self.connections.backpressure
        self.idle_ended = self.connections.idle_ended
        self.closed_conn = self.connections.closed_conn

    @property
    def closed(self) -> Any:
        """The connections closed last (records, oldest first)."""
        return self.connections.closed

    def shutdown(
        self, ts: int, timers: Mapping[Any, Any], conns: Mapping[Any, Any],
        ended: str = "when the reactor stopped",
    ) -> None:
        """The reactor shut down at ``ts`` with ``timers`` pending and ``conns`` open
        (``ended``: how messages say when, for a test or a recording that ended)."""
        if self.shutdown_at is not None:
            return
        self.shutdown_at = ts
        self.connections.ended = ended
        if self.thresholds.leftovers:
            find_leftovers(self.findings, self.connections, ts, timers, conns, ended)

    def warnings(self, now: int, conns: Mapping[Any, Any]) -> list[dict[str, Any]]:
        """The findings as of ``now``, oldest first (``conns``: those open now)."""
        live = [*self.deferreds.live(now), *self.connections.live(now, conns)]
        return self.findings.render(now, live)

    def slowest(self) -> list[dict[str, Any]]:
        """The longest dispatches kept, longest first, with stacks when seen."""
        return self.slow_dispatches.slowest()

    def lateness(self) -> list[dict[str, Any]]:
        """Timer lateness per creation site, the latest first."""
        return self.timers.lateness()
