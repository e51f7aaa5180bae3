"""All that is known about one timer, connection or callable, and its recent events."""

from __future__ import annotations

from dataclasses import fields as dataclass_fields
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Footer, Static

from reactortrace.core import units
from reactortrace.core.diagnose import Warning
from reactortrace.tui import describe
from reactortrace.tui.model import Info, Subject, ViewModel

DURATION_FIELDS = frozenset(
    {"due_in", "delay", "age", "total", "self_time", "mean", "max", "p95"}
)
TIME_FIELDS = frozenset({"opened", "last_activity"})
SIZE_FIELDS = frozenset({"bytes_in", "bytes_out", "write_buffer"})
SUBJECT_TITLES = {"timer": "Timer", "conn": "Connection", "callable": "Callable"}


def info_fields(info: Info) -> dict[str, Any]:
    """A snapshot row's fields, in human units."""
    out: dict[str, Any] = {}
    for f in dataclass_fields(info):
        value = getattr(info, f.name)
        if value is None and f.name == "site":
            continue  # not known (an older trace): "Created at" says what the events say
        if value is None:
            value = "-"
        elif f.name in DURATION_FIELDS:
            value = units.duration(value)
        elif f.name in TIME_FIELDS:
            value = units.clock(value)
        elif f.name in SIZE_FIELDS:
            value = f"{units.size(value)} ({value})"
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        out[f.name] = value
    return out


def fields_table(title: str, values: dict[str, Any]) -> Table:
    """Name/value pairs under a title."""
    table = Table(
        title=Text(title, style="bold"), title_justify="left", show_header=False, box=None
    )
    table.add_column(style="cyan", no_wrap=True)
    table.add_column(overflow="fold")
    for key, value in values.items():
        table.add_row(Text(str(key)), Text(str(value)))
    return table


def stack_table(stack: tuple[str, ...]) -> Table:
    """The stack a slow callback blocked in, outermost first."""
    table = Table(
        title="Stack (outermost first)", title_justify="left", title_style="bold",
        show_header=False, box=None,
    )
    table.add_column(overflow="fold")
    lines = describe.stack_lines(stack)
    for number, line in enumerate(lines):
        table.add_row(Text(line, style="bold" if number == len(lines) - 1 else ""))
    return table


def sites_of(model: ViewModel, subject: Subject) -> list[str]:
    """Creation sites seen in the subject's recent events, newest first."""
    seen: dict[str, None] = {}
    for event in reversed(model.recent(subject)):
        site = event.args.get("site")
        if site:
            seen.setdefault(str(site), None)
    return list(seen)


class DetailScreen(Screen[None]):
    """Opened with Enter; redrawn on every poll while it is shown."""

    BINDINGS = [Binding("escape,backspace", "app.pop_screen", "Back")]

    def __init__(
        self, model: ViewModel, subject: Subject | None, extra: dict[str, Any] | None = None
    ) -> None:
        super().__init__()
        self.model = model
        self.subject = subject
        self.extra = extra
        #: The subject's row when last seen, kept once it is gone (fired, closed).
        self.last_seen: Info | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="detail-title")
        with VerticalScroll(id="detail-body"):
            yield Static(id="detail-fields")
            yield Static(id="detail-events")
        yield Footer()

    def on_mount(self) -> None:
        self.show(self.model)

    def show(self, model: ViewModel) -> None:
        """Redraw from the model (once composed: a poll may come before)."""
        try:
            title = self.query_one("#detail-title", Static)
        except NoMatches:
            return  # on_mount shows it
        if self.subject is not None:
            self.last_seen = model.current(self.subject) or self.last_seen
        title.update(self._title(model))
        parts: list[Any] = []
        warning = self.warning
        if warning is not None:
            parts.append(fields_table(
                "Warning", describe.warning_fields(warning, self._warning_id(model, warning))
            ))
            if warning.stack:
                parts.append(stack_table(warning.stack))
        elif self.extra is not None:
            heading = "Pending Deferred" if "fired_by" in self.extra else "Event"
            parts.append(fields_table(heading, self.extra))
        parts.extend(self._subject_tables(model))
        self.query_one("#detail-fields", Static).update(Group(*parts))
        events = model.recent(self.subject) if self.subject else []
        shown = self.query_one("#detail-events", Static)
        shown.display = bool(events)  # nothing recent: no empty table
        if events:
            shown.update(self._events_table(model, events))

    @property
    def warning(self) -> Warning | None:
        """The warning this screen shows, if it was opened on one."""
        extra = self.extra
        if extra is not None and "code" in extra and "message" in extra:
            return Warning.of(extra)
        return None

    def _title(self, model: ViewModel) -> Text:
        title = Text(" ")
        warning = self.warning
        if warning is not None:
            title.append("Warning ", style="bold")
            title.append(warning.code, style="bold dark_orange")
            about = describe.warning_subject(warning, self._warning_id(model, warning))
            return title.append(f"  {about}", style="cyan")
        if self.subject is None:
            if self.extra is not None and "fired_by" in self.extra:
                return title.append(f"Deferred #{self.extra.get('id')}", style="bold")
            return title.append("Event", style="bold")
        kind, ident = self.subject
        title.append(SUBJECT_TITLES.get(kind, kind), style="bold")
        shown = ident if kind == "callable" else model.short_id(self.subject)
        title.append(f" {shown}", style="bold cyan")
        if kind == "timer":
            title.append(*self._status(model, "pending", "no longer pending"))
        elif kind == "conn":
            title.append(*self._status(model, "open", "closed"))
        return title

    @staticmethod
    def _warning_id(model: ViewModel, warning: Warning) -> str | None:
        """The short id of the timer or connection a warning is about."""
        if warning.about in ("timer", "conn") and isinstance(warning.subject, int):
            return model.short_id((warning.about, warning.subject))
        return None

    def _status(self, model: ViewModel, present: str, gone: str) -> tuple[str, str]:
        """Text and style saying whether the subject is still in the snapshot."""
        assert self.subject is not None
        if model.current(self.subject) is not None:
            return f"  {present}", "green"
        return f"  {gone}", "yellow"

    def _subject_tables(self, model: ViewModel) -> list[Table]:
        if self.subject is None:
            return []
        kind, ident = self.subject
        tables: list[Table] = []
        if kind == "callable":
            for stats in model.snapshot.callables:
                if stats.name == ident:
                    tables.append(fields_table(f"As {stats.kind}", info_fields(stats)))
        elif self.last_seen is not None:
            label = "Now" if model.current(self.subject) else "Last seen"
            tables.append(fields_table(label, info_fields(self.last_seen)))
        sites = sites_of(model, self.subject)
        if sites:
            numbered = {f"site {i + 1}": site for i, site in enumerate(sites)}
            tables.append(fields_table("Created at", numbered))
        if not tables and self.warning is None:
            tables.append(fields_table("Nothing known yet", {}))
        return tables

    def _events_table(self, model: ViewModel, events: list[Any]) -> Table:
        table = Table(
            title=f"Recent events ({len(events)})",
            title_justify="left",
            title_style="bold",
            box=None,
            header_style="dim",
            expand=True,
        )
        table.add_column("at", no_wrap=True, min_width=9)
        table.add_column("kind", no_wrap=True, min_width=14)
        table.add_column("dur", justify="right", no_wrap=True, min_width=6)
        table.add_column("name", overflow="ellipsis", no_wrap=True, ratio=1)
        table.add_column("about", overflow="ellipsis", no_wrap=True, ratio=1)
        for event in events:
            table.add_row(
                units.clock(event.ts),
                Text(event.kind, style=describe.kind_style(event.kind)),
                units.duration(event.dur) if event.dur else "",
                Text(event.name),
                Text(describe.about(event, model.event_id(event))),
            )
        return table
