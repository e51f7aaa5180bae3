"""Deferreds: errors nobody handles, and Deferreds that stay unfired too long."""

from __future__ import annotations

from typing import Any

from reactortrace.core.events import Event

from .codes import (
    DEFERRED_ERROR,
    DEFERRED_PENDING,
    MAX_DEFERREDS,
    MAX_SITES,
    OTHER_SITES,
    Said,
    short_site,
    took,
)
from .findings import Finding, Findings


class DeferredSite:
    """Deferreds made at one site: those pending now, in error now, and past ones."""

    __slots__ = ("site", "pending", "errors", "late_fired", "longest", "waits")

    def __init__(self, site: str | None) -> None:
        self.site = site
        self.pending: dict[Any, int] = {}  # id -> made at, oldest first
        self.errors: dict[Any, tuple[str, str | None]] = {}  # id -> (failure type, callable)
        self.late_fired = 0  # fired, but only after pending_s
        self.longest = 0  # longest wait of those
        self.waits: dict[str, int] = {}

    def stuck(self, now: int, pending_ns: int) -> tuple[int, int]:
        """(how many pending now for pending_ns or more, the longest wait now)."""
        count = 0
        longest = 0
        for made in self.pending.values():
            if now - made < pending_ns:
                break
            count += 1
            longest = max(longest, now - made)
        return count, longest

    def warning(self, code: str, now: int, pending_ns: int = 0) -> Said:
        where = self.site
        made = f"made at {short_site(where)}" if where else "of unknown origin"
        if code == DEFERRED_ERROR:
            subject = next(iter(self.errors), None)
            failure, last = self.errors[subject] if subject is not None else ("?", None)
            types = ", ".join(sorted({f for f, _ in self.errors.values()}))
            raised = f" raised at {short_site(where)}" if where else ""
            after = f" after {last}" if last else ""
            if len(self.errors) == 1:
                text = (
                    f"a Deferred holds an unhandled {failure}{raised}{after}: nothing handles it "
                    "yet; add an errback, or it is only logged when garbage-collected"
                )
            else:
                text = (
                    f"{len(self.errors)} Deferreds hold unhandled failures ({types}){raised}"
                    f"{after}: add an errback"
                )
            name = last or "Deferred"
            return name, where, subject, text
        count, longest = self.stuck(now, pending_ns)
        waits = ", ".join(sorted(self.waits)) or "nothing known"
        parts = []
        if count:
            parts.append(f"{count} pending for {took(longest)} now")
        if self.late_fired:
            parts.append(
                f"{self.late_fired} fired only after up to {took(self.longest)}"
            )
        text = (
            f"Deferreds {made} stay unfired {took(pending_ns)} or more "
            f"({'; '.join(parts)}); waiting on: {waits}"
        )
        subject = next(iter(self.pending), None)
        return "Deferred", where, subject, text



class PendingSource:
    """A deferred-pending finding, rendered with the time it is read at."""

    __slots__ = ("site", "pending_ns")

    def __init__(self, site: DeferredSite, pending_ns: int) -> None:
        self.site = site
        self.pending_ns = pending_ns

    def warning(self, code: str, now: int) -> Said:
        return self.site.warning(code, now, self.pending_ns)




class DeferredFindings:
    """Follows Deferreds (made, fired, in error, handled) by the site they were made at."""

    def __init__(self, findings: Findings, pending_ns: int) -> None:
        self.findings = findings
        self.pending_ns = pending_ns
        self._sites: dict[str | None, DeferredSite] = {}
        self._pending: dict[Any, DeferredSite] = {}
        self._errors: dict[Any, DeferredSite] = {}

    def _site(self, site: str | None) -> DeferredSite:
        found = self._sites.get(site)
        if found is None:
            if len(self._sites) >= MAX_SITES:
                site = OTHER_SITES
                found = self._sites.get(site)
            if found is None:
                found = self._sites[site] = DeferredSite(site)
        return found

    def new(self, event: Event) -> None:
        """A Deferred was made (Deferred tracking is on)."""
        if len(self._pending) >= MAX_DEFERREDS:
            return
        args = event.args
        site = self._site(args.get("site"))
        did = args.get("deferred")
        site.pending[did] = event.ts
        waits = args.get("waits")
        if waits:
            site.waits[waits] = site.waits.get(waits, 0) + 1
        self._pending[did] = site

    def fired(self, event: Event) -> None:
        """A Deferred got its result."""
        did = event.args.get("deferred")
        site = self._pending.pop(did, None)
        if site is None:
            return
        made = site.pending.pop(did, event.ts)
        waited = event.ts - made
        if waited >= self.pending_ns:
            site.late_fired += 1
            site.longest = max(site.longest, waited)
            self.findings.add(DEFERRED_PENDING, site.site, made + self.pending_ns,
                              PendingSource(site, self.pending_ns))

    def error(self, event: Event) -> None:
        """A Deferred holds a Failure nobody handles."""
        args = event.args
        did = args.get("deferred")
        if not self._error_handled(did) and len(self._errors) >= MAX_DEFERREDS:
            return
        site = self._site(args.get("site"))
        failure = args.get("failure") or event.name or "?"
        # The event's name is the last callable that ran, when the recorder knows it.
        last = event.name if event.name not in (failure, "?", "", "Deferred") else None
        site.errors[did] = (failure, last)
        self._errors[did] = site
        self.findings.add(DEFERRED_ERROR, site.site, event.ts, site)

    def handled(self, event: Event) -> None:
        """Something handled a Deferred's error after all."""
        self._error_handled(event.args.get("deferred"))

    def _error_handled(self, did: Any) -> bool:
        """Forget the error Deferred ``did`` held, if any (withdrawing a warning left empty)."""
        site = self._errors.pop(did, None)
        if site is None:
            return False
        site.errors.pop(did, None)
        if not site.errors:
            self.findings.withdraw(DEFERRED_ERROR, site.site)
        return True

    def live(self, now: int) -> list[Finding]:
        """``deferred-pending`` findings true at ``now`` and not kept yet."""
        found = []
        for site in self._sites.values():
            if site.pending and (DEFERRED_PENDING, site.site) not in self.findings:
                first = next(iter(site.pending.values()))
                if now - first >= self.pending_ns:
                    found.append(Finding(DEFERRED_PENDING, first + self.pending_ns,
                                         PendingSource(site, self.pending_ns)))
        return found
