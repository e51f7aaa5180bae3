"""Late timers and missed LoopingCall ticks, per creation site."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reactortrace.core.events import Event
from reactortrace.core.stats import LogHistogram

from .codes import (
    LATE_TIMER,
    MAX_SITES,
    MISSED_TICKS,
    OTHER_SITES,
    Said,
    plural,
    short_site,
    took,
)
from .findings import Findings


class TimerSite(LogHistogram):
    """Lateness of the timers made at one site, and LoopingCall ticks missed."""

    __slots__ = (
        "site", "name", "looping", "interval", "missed",
        "worst_late", "worst_timer", "worst_missed", "blame",
    )

    def __init__(self, site: str, name: str) -> None:
        super().__init__()
        self.site = site
        self.name = name
        self.looping = False
        self.interval = 0
        self.missed = 0
        self.worst_late = 0
        self.worst_timer: Any = None
        self.worst_missed = 0
        self.blame: str | None = None

    def warning(self, code: str, now: int) -> Said:
        where = None if self.site in (self.name, OTHER_SITES) else self.site
        made = f" (made at {short_site(where)})" if where else ""
        why = f"the loop was blocked then by {self.blame}" if self.blame else \
            "the loop was busy when it was due"
        if code == MISSED_TICKS:
            text = (
                f"LoopingCall {self.name}{made} missed {plural(self.missed, 'tick')} "
                f"(interval {took(self.interval)}); "
                f"up to {self.worst_missed} in a row, {took(self.worst_late)} late: "
                f"{why}"
            )
        else:
            text = (
                f"{self.name}{made} fired {took(self.worst_late)} late "
                f"(p50 {took(self.quantile(0.5))}, "
                f"p95 {took(self.quantile(0.95))} over "
                f"{plural(self.count, 'firing')}): {why}"
            )
        return self.name, where, self.worst_timer, text

    def to_dict(self) -> dict[str, Any]:
        return {
            "site": self.site,
            "name": self.name,
            "looping": self.looping,
            "interval": self.interval or None,
            "count": self.count,
            "p50": self.quantile(0.5),
            "p95": self.quantile(0.95),
            "max": self.max,
            "mean": self.mean,
            "missed": self.missed,
        }




class TimerLateness:
    """Lateness per creation site, LoopingCall intervals, ``late-timer`` and
    ``missed-ticks`` warnings. ``blame(due, fired)`` names what held the loop."""

    def __init__(
        self, findings: Findings, late_ns: int, blame: Callable[[int, int], str | None]
    ) -> None:
        self.findings = findings
        self.late_ns = late_ns
        self.blame = blame
        self._sites: dict[str, TimerSite] = {}
        self._intervals: dict[str, int] = {}

    def looping_scheduled(self, site: str, delay: int) -> None:
        """A LoopingCall scheduled its next tick: the longest delay is its interval."""
        known = self._intervals.get(site)
        if known is None and len(self._intervals) >= MAX_SITES:
            return
        if delay > (known or 0):
            self._intervals[site] = delay

    def timer(self, event: Event, late: int | None) -> None:
        """A timer fired ``late`` ns after it was due."""
        if late is None:
            return
        args = event.args
        site_key = args.get("site") or event.name
        site = self._sites.get(site_key)
        if site is None:
            if len(self._sites) >= MAX_SITES:
                site_key = OTHER_SITES
                site = self._sites.get(site_key)
            if site is None:
                site = self._sites[site_key] = TimerSite(site_key, event.name)
        site.add(late)
        missed = 0
        if args.get("looping"):
            site.looping = True
            delay = args.get("delay") or 0
            if delay:
                self.looping_scheduled(site_key, delay)
            interval = site.interval = self._intervals.get(site_key, delay)
            if interval > 0 and late >= interval:
                missed = late // interval
                site.missed += missed
        if late < self.late_ns:
            return
        code = MISSED_TICKS if missed else LATE_TIMER
        if late >= site.worst_late:
            site.worst_late = late
            site.worst_timer = args.get("timer")
            site.blame = self.blame(event.ts - late, event.ts) or site.blame
        site.worst_missed = max(site.worst_missed, missed)
        self.findings.add(code, site_key, event.ts, site)

    def lateness(self) -> list[dict[str, Any]]:
        """Timer lateness per creation site, the latest first."""
        sites = sorted(self._sites.values(), key=lambda s: (-s.max, s.site))
        return [site.to_dict() for site in sites]
