"""The reactortrace terminal UI: one app over any :class:`Feed`, live or replayed.

The app polls its feed 12.5 times a second on a Textual interval, hands the
update to a :class:`ViewModel` and redraws what is on screen and changed: the
header and the event log on every poll while the program is busy (every
:data:`QUIET_INTERVAL` seconds' worth while it is quiet; at once for a new
warning, a block or silence, and their ends), the graph and tables every
:data:`VIEWS_INTERVAL` seconds' worth of polls (twice that while quiet), the tabs' counts (which lay the
tab bar out again) every :data:`LABELS_INTERVAL` seconds' worth. It never looks
at the instrumentation: everything it shows came through ``Feed.poll``. A feed
that also has replay controls (:class:`ReplayControls`) gets the replay bar and
the replay keys.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any, ClassVar

from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Log, TabbedContent, TabPane

from reactortrace.core.events import SLOW
from reactortrace.core.feed import BUSY_RATE, DETACH, ENDED, PAUSED, Feed
from reactortrace.core.replay import ReplayControls
from reactortrace.errors import ReactorTraceError
from reactortrace.tui.keys import app_bindings
from reactortrace.tui.model import HISTORY_SECONDS, Filter, ViewModel
from reactortrace.tui.screens.detail import DetailScreen
from reactortrace.tui.screens.help import HelpScreen
from reactortrace.tui.screens.kinds import KindsScreen
from reactortrace.tui.screens.seek import SeekScreen
from reactortrace.tui.widgets.blocked import SILENT_AFTER, BlockedBanner
from reactortrace.tui.widgets.callables import CallablesTable
from reactortrace.tui.widgets.connections import ConnectionsTable
from reactortrace.tui.widgets.deferreds import DEADLOCK_MARK, DeferredsTable
from reactortrace.tui.widgets.event_log import EventLog
from reactortrace.tui.widgets.filter_bar import SEARCH, FilterBar, FilterInput
from reactortrace.tui.widgets.graph import LoopGraph
from reactortrace.tui.widgets.header import StatusHeader
from reactortrace.tui.widgets.replay_bar import ReplayBar
from reactortrace.tui.widgets.table import ModelTable
from reactortrace.tui.widgets.timers import TimersTable
from reactortrace.tui.widgets.warnings import WarningsTable

#: Seconds between two polls: the refresh rate of the header and the event log
#: (above 10 a second, as a loaded machine makes the interval skip a tick now and then).
POLL_INTERVAL = 0.08
#: While the program is quiet (under BUSY_RATE events a second) the header and
#: the log are redrawn every QUIET_INTERVAL seconds' worth of polls, not every poll.
QUIET_INTERVAL = 1.0
#: ...and the graph and tables every QUIET_VIEWS times VIEWS_INTERVAL.
QUIET_VIEWS = 2
#: Seconds between two redraws of the graph and the tables while updates come.
VIEWS_INTERVAL = 1.0
#: Seconds between two updates of the counts in the tab labels.
LABELS_INTERVAL = 2.0
#: At this many columns the loop tab also shows timers, connections and callables.
WIDE_COLUMNS = 120
#: At this many rows it also shows warnings and a taller graph.
TALL_ROWS = 36
OUTPUT_LINES = 5_000
#: The Output tab of a feed without the program's output (attach).
NO_OUTPUT = (
    "(No program output here: reactortrace did not start this program, so its output "
    "goes where the program writes it, not to this viewer. `reactortrace run` shows it.)"
)
#: Share of the screen (%) the side panes of the wide loop tab take: at least
#: the first, more (to the second) when their columns need it, leaving the log
#: LOG_MIN columns.
SIDE_SHARE = (40, 62)
LOG_MIN = 60

#: Tab id -> (label, id of the widget that takes focus on it).
TABS: dict[str, tuple[str, str]] = {
    "loop": ("Loop", "log"),
    "timers": ("Timers", "timers-table"),
    "connections": ("Conns", "connections-table"),
    "callables": ("Callables", "callables-table"),
    "warnings": ("Warnings", "warnings-table"),
    "output": ("Output", "output-log"),
    "deferreds": ("Deferreds", "deferreds-table"),
}
#: Panes of the wide loop tab and their titles.
PANE_TITLES = {
    "side-timers": "Timers",
    "side-connections": "Connections",
    "side-callables": "Callables",
    "side-warnings": "Warnings",
    "graph": "Loop",
    "log": "Events",
}
REPLAY_ACTIONS = frozenset({"step", "seek", "next", "speed", "seek_to"})
#: Actions that still work while a help, seek or kinds box is open.
ANYWHERE_ACTIONS = frozenset({"quit", "help"})
#: Actions on widgets of the main screen, not available on a detail screen.
MAIN_SCREEN_ACTIONS = frozenset({"show_tab", "focus_filter", "toggle_internal"})


class ReactorTraceApp(App[Any]):
    """Watch a reactor through ``feed``; the feed is closed when the app exits."""

    CSS_PATH = "styles.tcss"
    TITLE = "reactortrace"
    BINDINGS: ClassVar[list[Any]] = app_bindings()
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (WIDE_COLUMNS, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (TALL_ROWS, "-tall")]
    ENABLE_COMMAND_PALETTE = False

    def __init__(
        self,
        feed: Feed,
        *,
        title: str | None = None,
        poll_interval: float = POLL_INTERVAL,
        history: float = HISTORY_SECONDS,
    ) -> None:
        super().__init__()
        self.feed = feed
        self.replay: ReplayControls | None = (
            feed if isinstance(feed, ReplayControls) else None
        )
        self.model = ViewModel(meta=dict(feed.meta or {}), history_seconds=history)
        self.filter = Filter()
        self.heading = title
        if title:
            self.title = title
        self.poll_interval = poll_interval
        self._version = 0  # bumped whenever what the views show may have changed
        self._drawn: dict[Widget, int] = {}
        self._polls = 0
        self._views_every = max(1, round(VIEWS_INTERVAL / poll_interval))
        self._labels_every = max(1, round(LABELS_INTERVAL / poll_interval))
        self._quiet_every = max(1, round(QUIET_INTERVAL / poll_interval))
        self._quiet_views_every = max(1, round(QUIET_VIEWS * VIEWS_INTERVAL / poll_interval))
        self._labels_stale = True
        self._warnings_seen = 0
        self._alarm_seen = (False, False)
        self._feed_closed = False
        self._feed_failed = False
        self._quitting = False
        self._stopping = False  # asked a blocked program to stop; waiting for it

    # -- layout ------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield StatusHeader(self.feed.meta or {}, self.heading, id="header")
        yield BlockedBanner(id="blocked")
        if self.replay is not None:
            yield ReplayBar(self.replay, id="replay-bar")
        with TabbedContent(id="tabs", initial="loop"):
            with TabPane(TABS["loop"][0], id="loop"):
                with Horizontal(id="loop-main"):
                    with Vertical(id="loop-left"):
                        yield LoopGraph(id="graph")
                        yield EventLog(id="log")
                        yield WarningsTable(compact=True, id="side-warnings")
                    with Vertical(id="loop-side"):
                        yield TimersTable(compact=True, id="side-timers")
                        yield ConnectionsTable(compact=True, id="side-connections")
                        yield CallablesTable(compact=True, id="side-callables")
            with TabPane(TABS["timers"][0], id="timers"):
                yield TimersTable(id="timers-table")
            with TabPane(TABS["connections"][0], id="connections"):
                yield ConnectionsTable(id="connections-table")
            with TabPane(TABS["callables"][0], id="callables"):
                yield CallablesTable(id="callables-table")
            with TabPane(TABS["warnings"][0], id="warnings"):
                yield WarningsTable(id="warnings-table")
            with TabPane(TABS["output"][0], id="output"):
                yield Log(max_lines=OUTPUT_LINES, id="output-log")
            with TabPane(TABS["deferreds"][0], id="deferreds"):
                yield DeferredsTable(id="deferreds-table")
        yield FilterBar(id="filter-bar")
        yield Footer()

    def on_mount(self) -> None:
        # Widgets of the main screen, kept: queries on the app search the active screen.
        self._main_screen = self.screen
        self._header = self.query_one(StatusHeader)
        self._blocked = self.query_one(BlockedBanner)
        self._replay_bar = self.query_one(ReplayBar) if self.replay is not None else None
        self._tabs = self.query_one(TabbedContent)
        self._filter_bar = self.query_one(FilterBar)
        self._output = self.query_one("#output-log", Log)
        self._side_warnings = self.query_one("#side-warnings", WarningsTable)
        self._event_log = self.query_one(EventLog)
        self._views: list[Widget] = [self.query_one(LoopGraph), *self.query(ModelTable)]
        for pane_id, title in PANE_TITLES.items():
            self.query_one(f"#{pane_id}").border_title = title
        self._filter_bar.show(self.filter)
        if not getattr(self.feed, "shows_output", True):
            self._output.write_line(NO_OUTPUT)
        self.refresh_feed()
        self.set_interval(self.poll_interval, self.refresh_feed)
        self.query_one("#log").focus()

    def on_unmount(self) -> None:
        self.close_feed()

    # -- data --------------------------------------------------------------

    def refresh_feed(self, throttle: bool = True) -> None:
        """Poll the feed once and redraw what changed (the interval calls this;
        after a key, ``throttle=False`` redraws the graph and tables at once)."""
        if self._feed_failed or self._quitting:
            return  # the interval may still fire while the app shuts down
        try:
            update = self.feed.poll()
        except ReactorTraceError as error:
            self._feed_failed = True
            self.notify(str(error), title="Feed stopped", severity="error", timeout=30,
                        markup=False)
            return
        changes = self.model.apply(update)
        if changes.events or changes.snapshot or changes.reset:
            self._version += 1
        if changes.output:
            self._output.write_lines(changes.output)
        self._labels_stale = self._labels_stale or changes.snapshot
        polls, self._polls = self._polls, self._polls + 1
        # A new warning shows in the header, the tab label and its pane at once.
        warnings = len(self.model.snapshot.warnings)
        news, self._warnings_seen = warnings != self._warnings_seen, warnings
        # So does a block, or the program going silent, and their ends.
        alarm = (self.model.snapshot.blocked is not None, self.model.silent >= SILENT_AFTER)
        news, self._alarm_seen = news or alarm != self._alarm_seen, alarm
        urgent = not throttle or changes.reset or news
        busy = self.model.snapshot.loop.events_per_second >= BUSY_RATE
        if not (urgent or busy or polls % self._quiet_every == 0):
            return  # a quiet program: the screen is redrawn a few times a second
        self._header.show(self.model)
        self._blocked.show(self.model)
        if self._replay_bar is not None:
            self._replay_bar.show(self.model)
        if self._labels_stale and (urgent or polls % self._labels_every == 0):
            self._labels_stale = False
            self._label_tabs()
        if _displayed(self._event_log):
            self._event_log.show(self.model)
        views_every = self._views_every if busy else self._quiet_views_every
        if urgent or polls % views_every == 0:
            self.redraw_views()
        if isinstance(self.screen, DetailScreen):
            self.screen.show(self.model)

    def redraw_views(self) -> None:
        """Redraw the graph and tables that are displayed and out of date.

        They are kept up to date under a detail or help screen too, so they are
        right the moment that screen closes.
        """
        for view in self._views:
            if self._drawn.get(view) == self._version or not _displayed(view):
                continue
            if isinstance(view, ModelTable):
                view.show(self.model, self.filter)
            else:
                view.show(self.model)  # type: ignore[attr-defined]
            self._drawn[view] = self._version

    def _label_tabs(self) -> None:
        snap = self.model.snapshot
        counts = {
            "timers": len(snap.timers),
            "connections": len(snap.connections),
            "callables": len(snap.callables),
            "warnings": len(snap.warnings),
        }
        # A short screen shows the warnings pane under the log once there are some.
        self._side_warnings.set_class(bool(snap.warnings), "-warned")
        labels = {tab_id: f"{TABS[tab_id][0]} {count}" for tab_id, count in counts.items()}
        pending = snap.deferreds
        if pending is not None:
            mark = f" {DEADLOCK_MARK}" if pending.deadlocks else ""
            labels["deferreds"] = f"{TABS['deferreds'][0]} {pending.total}{mark}"
        for tab_id, label in labels.items():
            tab = self._tabs.get_tab(tab_id)
            if tab.label.plain != label:
                tab.label = label

    def set_filter(self, flt: Filter) -> None:
        """Show only what ``flt`` lets through."""
        self.filter = flt
        self._version += 1
        self._filter_bar.show(flt)
        self.model.log.set_filter(flt.shows_event)
        self._event_log.show(self.model)
        self.redraw_views()

    def set_kinds(self, kinds: frozenset[str]) -> None:
        """Show only these kinds of events in the log."""
        self.set_filter(replace(self.filter, kinds=kinds))

    def close_feed(self) -> None:
        """Close the feed once."""
        if not self._feed_closed:
            self._feed_closed = True
            self.feed.close()

    # -- events ------------------------------------------------------------

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self.call_after_refresh(self._redraw_all)

    def _redraw_all(self) -> None:
        self._event_log.show(self.model)
        self.redraw_views()

    def on_resize(self) -> None:
        self._size_side()
        self.call_after_refresh(self.redraw_views)

    def on_model_table_shown(self, event: ModelTable.Shown) -> None:
        self.redraw_views()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        table = event.data_table
        if not isinstance(table, ModelTable):
            return
        target = table.selected_target
        if target is None:
            return
        subject, extra = target
        if subject is None and extra is None:
            return
        self.push_screen(DetailScreen(self.model, subject, extra))

    def on_event_log_selected(self, event: EventLog.Selected) -> None:
        self.push_screen(DetailScreen(self.model, event.subject, event.fields))

    def on_input_changed(self, event: FilterInput.Changed) -> None:
        if event.input.id == "name-filter":
            text = event.value.strip()
            if self._filter_bar.mode == SEARCH:
                self.set_filter(replace(self.filter, search=text))
            else:
                self.set_filter(replace(self.filter, text=text))

    def on_filter_input_left(self, event: FilterInput.Left) -> None:
        self._focus_tab_view()

    # -- actions -----------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in REPLAY_ACTIONS and self.replay is None:
            return False
        if action == "detach" and not getattr(self.feed, "detachable", False):
            return False
        if action == "save_trace" and not hasattr(self.feed, "save_trace"):
            return False
        if action in ANYWHERE_ACTIONS or action == "pop_screen":
            return True
        if isinstance(self.screen, ModalScreen):
            return False
        if isinstance(self.screen, DetailScreen) and action in MAIN_SCREEN_ACTIONS:
            return False
        return True

    async def action_quit(self) -> None:
        """Quit; a program whose reactor is blocked is asked to stop first and
        waited for (it writes its trace meanwhile), unless asked again."""
        if self._stopping:
            self.feed.kill_program()  # type: ignore[attr-defined]
        elif self._wait_for_blocked_program():
            return
        self._quitting = True
        self.close_feed()
        self.exit()

    def _wait_for_blocked_program(self) -> bool:
        """Ask the program to stop and keep the viewer open until it has; False
        if there is no such program (a replay, ``attach``) or it is not blocked."""
        blocked = self.model.snapshot.blocked
        if blocked is None or self.model.state == ENDED or not hasattr(self.feed, "stop_program"):
            return False
        self._stopping = True
        self.feed.stop_program()
        self._blocked.say(f"The reactor is blocked in {blocked.name}: writing the trace, "
                          "then stopping the program; press q again to kill it")
        self.set_interval(0.1, self._exit_when_ended)
        return True

    async def _exit_when_ended(self) -> None:
        if self.feed.program_ended() and not self._quitting:  # type: ignore[attr-defined]
            self._quitting = True
            self.close_feed()
            self.exit()

    async def action_detach(self) -> None:
        """Leave the watched program running; whoever started it detaches it."""
        self._quitting = True
        self.close_feed()
        self.exit(DETACH)

    def action_save_trace(self) -> None:
        """Ask the program for its whole recording and write it here (on a thread:
        a million events take a few seconds)."""
        pid = self.feed.meta.get("pid") if self.feed.meta else None
        path = time.strftime(f"reactortrace-{pid or 'program'}-%Y%m%d-%H%M%S.json")
        self.notify(f"Saving the program's trace to {path}…", timeout=3)
        self.run_worker(lambda: self._save_trace(path), thread=True, exclusive=True,
                        group="save")

    def _save_trace(self, path: str) -> None:
        from reactortrace.formats import write

        try:
            trace = self.feed.save_trace()  # type: ignore[attr-defined]
            write(trace, path)
        except (ReactorTraceError, OSError) as error:
            self.call_from_thread(self.notify, f"Could not save the trace: {error}",
                                  severity="error", timeout=10)
            return
        self.call_from_thread(self.notify, f"Saved {len(trace.events)} events to {path}",
                              timeout=6)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_show_tab(self, tab: str) -> None:
        self._tabs.active = tab
        self._focus_tab_view()

    def action_focus_filter(self, mode: str = SEARCH) -> None:
        self._filter_bar.focus_input(mode, self.filter)

    def action_toggle_internal(self) -> None:
        """Show or hide the reactor's wakers and Twisted's own timers."""
        self.model.show_internal = not self.model.show_internal
        self._version += 1
        self.redraw_views()

    def on_model_table_wants(self, event: ModelTable.Wants) -> None:
        if event.table.compact_view:
            self._size_side()

    def _size_side(self) -> None:
        """Give the side panes the width their widest table wants; the log gives way."""
        screen = getattr(self, "_main_screen", None)
        if screen is None:
            return  # not mounted yet: the first update sizes it
        side = screen.query_one("#loop-side")
        wanted = max(t.wanted_width for t in side.query(ModelTable))
        width = self.size.width
        most = min(SIDE_SHARE[1] * width // 100, width - LOG_MIN)
        side.styles.width = max(SIDE_SHARE[0] * width // 100, min(wanted, most))

    def action_kinds(self) -> None:
        self.push_screen(KindsScreen(self.filter.kinds, self.set_kinds))

    def action_toggle_pause(self) -> None:
        if self.replay is not None:
            paused = not self.replay.playing
        else:
            paused = self.model.state == PAUSED
        if paused:
            self.feed.resume()
        else:
            self.feed.pause()
        self.refresh_feed(throttle=False)

    def action_step(self) -> None:
        assert self.replay is not None
        if self.replay.step() is None:
            self.notify("End of the trace", timeout=2)
        self.refresh_feed(throttle=False)

    def action_next(self, kind: str = SLOW) -> None:
        assert self.replay is not None
        if self.replay.seek_next(kind) is None:
            self.notify(f"No {kind} event after this point", timeout=2)
        self.refresh_feed(throttle=False)

    def action_speed(self, factor: float) -> None:
        assert self.replay is not None
        self.replay.speed = self.replay.speed * factor
        self.refresh_feed(throttle=False)

    def action_seek_to(self, ts: int) -> None:
        assert self.replay is not None
        self.replay.seek(ts)
        self.refresh_feed(throttle=False)

    def action_seek(self) -> None:
        def done(ts: int | None) -> None:
            if ts is not None:
                self.action_seek_to(ts)

        self.push_screen(SeekScreen(self.model.position, self.model.duration), done)

    def _focus_tab_view(self) -> None:
        active = self._tabs.active or "loop"
        self._main_screen.query_one(f"#{TABS[active][1]}").focus()


def _displayed(widget: Widget) -> bool:
    """Whether ``widget`` and all its ancestors are displayed."""
    node: Any = widget
    while node is not None and isinstance(node, Widget):
        if not node.display:
            return False
        node = node.parent
    return True
