"""Pilot tests: every view and every key, fed recorded data through the Feed interface."""

from __future__ import annotations

import re
from typing import Any

import pytest
from textual.widgets import Log

from reactortrace.core import events as ev
from reactortrace.core import units
from reactortrace.core.feed import DETACH, FeedUpdate
from reactortrace.core.replay import ReplayFeed
from reactortrace.core.snapshot import Snapshot
from reactortrace.core.trace import Trace
from reactortrace.errors import ReactorTraceError
from reactortrace.tui import app as app_module
from reactortrace.tui import describe
from reactortrace.tui.keys import APP_KEYS, OTHER_KEYS
from reactortrace.tui.model import DEFAULT_KINDS, GONE_NS
from reactortrace.tui.run import show
from reactortrace.tui.screens.detail import DetailScreen
from reactortrace.tui.screens.help import HelpScreen
from reactortrace.tui.screens.kinds import KindsScreen
from reactortrace.tui.screens.seek import SeekScreen
from reactortrace.tui.widgets import table as table_module
from reactortrace.tui.widgets.event_log import EventLog
from reactortrace.tui.widgets.filter_bar import FilterInput
from reactortrace.tui.widgets.graph import PlotArea, SeriesPlot
from reactortrace.tui.widgets.table import ModelTable

from .helpers import (
    WIDE,
    OpenApp,
    async_test,
    column,
    header_text,
    plain,
    replay_text,
    rows,
    static_text,
)
from .sample import (
    CLIENT_CLOSED_AT,
    MS,
    SLOW_AT,
    SLOW_DUR,
    WARNING_AT,
    FakeClock,
    RecordedLiveFeed,
    S,
    sample_trace,
)


def table(app: Any, widget_id: str) -> ModelTable:
    return app._main_screen.query_one(f"#{widget_id}", ModelTable)


def event_log(app: Any) -> EventLog:
    return app._main_screen.query_one("#log", EventLog)


def logged(app: Any) -> list[ev.Event]:
    """The events the log shows, top to bottom."""
    return [entry.event for entry in event_log(app)._rows]


def log_texts(app: Any) -> list[str]:
    """Every row of the log as the screen shows it."""
    log = event_log(app)
    return [log._row(entry, entry.name, log.size.width, False).text for entry in log._rows]


def detail_text(app: Any) -> str:
    screen = app.screen
    assert isinstance(screen, DetailScreen)
    return "\n".join(
        static_text(screen.query_one(f"#{part}"))
        for part in ("detail-title", "detail-fields", "detail-events")
    )


def shown_before(trace: Trace, ts: int) -> list[ev.Event]:
    return [e for e in trace.events if e.end <= ts and e.kind != ev.ITERATION]


async def select_row(pilot: Any, widget_id: str, key: str) -> None:
    """Put the cursor of a table on the row with ``key`` (the log: an event's seq)
    and press Enter."""
    if widget_id == "log":
        log = event_log(pilot.app)
        log.focus()
        log._go([str(e.seq) for e in logged(pilot.app)].index(key))
    else:
        widget = table(pilot.app, widget_id)
        widget.focus()
        widget.move_cursor(row=widget._keys.index(key))
    await pilot.press("enter")
    await pilot.pause()


# -- header ----------------------------------------------------------------


@async_test
async def test_header_names_the_program_and_shows_the_loop(open_app: OpenApp, replay: ReplayFeed) -> None:
    replay.seek(6 * S)
    snapshot = replay.snapshot()
    async with open_app(replay) as (app, pilot):
        text = header_text(app)
    loop = snapshot.loop
    for part in (
        "program.py", "pid 4242", "EPollReactor", "PAUSED", "up 00:06.000",
        f"ev/s {units.rate(loop.events_per_second)}", f"util {units.percent(loop.utilization)}",
        f"lag {units.duration(loop.lag)}", "dropped 0", "warnings 1",
    ):
        assert part in text, part


@async_test
async def test_header_counts_dropped_events_of_trace_and_viewer(open_app: OpenApp, clock: FakeClock) -> None:
    feed = RecordedLiveFeed(sample_trace(dropped=3), clock)
    feed.viewer_dropped = 7
    async with open_app(feed) as (app, pilot):
        assert "dropped 3+7 viewer" in header_text(app)
        assert "LIVE" in header_text(app)


@async_test
async def test_header_says_which_part_of_the_recording_is_off(
    open_app: OpenApp, clock: FakeClock
) -> None:
    events = sample_trace().events
    events.append(ev.Event(len(events), 1 * S, 0, ev.WARNING, "timers", {
        "code": "recording-off", "message": "timers recording is off (NameError: delay)",
        "where": None, "subject": "timers",
    }))
    replay = ReplayFeed(sample_trace(events=events), clock=clock, playing=False)
    async with open_app(replay, at=replay.duration) as (app, pilot):
        assert "recording off: timers" in header_text(app)
    async with open_app(ReplayFeed(sample_trace(), clock=clock), at=2 * S) as (app, pilot):
        assert "recording off" not in header_text(app)


@async_test
async def test_a_title_replaces_the_program_name(open_app: OpenApp, replay: ReplayFeed) -> None:
    async with open_app(replay, title="my service") as (app, pilot):
        assert "my service" in header_text(app)


@async_test
async def test_header_says_replay_then_ended(open_app: OpenApp, trace: Trace, clock: FakeClock) -> None:
    feed = ReplayFeed(trace, clock=clock)
    async with open_app(feed) as (app, pilot):
        assert "REPLAY" in header_text(app)
        clock.advance(60)
        app.refresh_feed()
        assert "ENDED" in header_text(app)
        assert f"{units.clock(trace.duration)} / {units.clock(trace.duration)}" in replay_text(app)


# -- the loop view: event log and graph --------------------------------------


@async_test
async def test_event_log_shows_latest_dispatches_coloured_by_kind(
    open_app: OpenApp, replay: ReplayFeed, trace: Trace
) -> None:
    async with open_app(replay, at=6 * S) as (app, pilot):
        log = event_log(app)
        expected = shown_before(trace, 6 * S)
        shown = logged(app)
        assert sorted(e.seq for e in shown) == sorted(e.seq for e in expected)
        assert [e.ts for e in shown] == sorted(e.ts for e in shown)  # in time order
        assert log.following and log.cursor_row == len(shown) - 1
        for entry in log._rows:
            event = entry.event
            cells = log.cells(entry, entry.name)
            assert cells[1].plain == event.kind
            assert str(cells[1].style) == describe.kind_style(event.kind)
            slow = event.kind == ev.SLOW or event.dur >= 100 * MS
            name_style = str(cells[3].spans[-1].style) if cells[3].spans else ""
            assert (name_style == describe.SLOW_STYLE) == slow, event
            if event.kind == ev.IO_WRITE:
                assert cells[4].plain.startswith(f"c{event.args['conn']} ")


@async_test
async def test_event_log_follows_new_events_as_they_come(
    open_app: OpenApp, live: RecordedLiveFeed, clock: FakeClock, trace: Trace
) -> None:
    clock.advance(2.0)
    async with open_app(live) as (app, pilot):
        clock.advance(1.0)
        app.refresh_feed()
        log = event_log(app)
        newest = max(shown_before(trace, 3 * S), key=lambda e: e.ts)
        assert logged(app)[-1] is newest or logged(app)[-1].ts == newest.ts
        assert log.following and log.cursor_row == len(logged(app)) - 1


@async_test
async def test_a_new_warning_shows_in_the_header_its_tab_and_its_pane_on_one_poll(
    open_app: OpenApp, live: RecordedLiveFeed, clock: FakeClock
) -> None:
    """Tables and tab labels are redrawn only every few polls, but a warning is
    news: the header never counts one the panes do not show yet."""
    clock.advance(SLOW_AT / S)
    async with open_app(live, size=WIDE) as (app, pilot):
        # The throttle of a real viewer (tables and labels every second or two);
        # the test's own app polls only when told to.
        app._views_every = app._quiet_views_every = app._labels_every = 1_000
        app.refresh_feed()
        await pilot.pause()
        assert "warnings 0" in header_text(app)
        clock.advance((WARNING_AT - SLOW_AT) / S + 0.01)
        app.refresh_feed()
        await pilot.pause()
        assert "warnings 1" in header_text(app)
        assert app._tabs.get_tab("warnings").label.plain == "Warnings 1"
        assert [row[1] for row in rows(table(app, "side-warnings"))] == ["slow-callback"]


@async_test
async def test_graph_keeps_a_history_of_utilization_and_rate(
    open_app: OpenApp, live: RecordedLiveFeed, clock: FakeClock
) -> None:
    async with open_app(live) as (app, pilot):
        readings = []
        for _ in range(4):
            clock.advance(1.0)
            app.refresh_feed()
            readings.append(app.model.snapshot.loop)
        util = app._main_screen.query_one("#graph-util", SeriesPlot)
        assert list(util.query_one(PlotArea).values) == [0.0] + [r.utilization for r in readings]
        label = static_text(util.query_one(".series-label"))
        assert units.percent(readings[-1].utilization) in label
        rate = app._main_screen.query_one("#graph-rate", SeriesPlot).query_one(PlotArea)
        assert rate.top == max(r.events_per_second for r in readings)


# -- tabs --------------------------------------------------------------------


@async_test
async def test_number_keys_switch_views(open_app: OpenApp, replay: ReplayFeed) -> None:
    async with open_app(replay) as (app, pilot):
        tabs = list(app_module.TABS)  # loop, timers, ... in the order of keys 1..7
        for key, tab in zip("2345671", tabs[1:] + tabs[:1]):
            await pilot.press(key)
            await pilot.pause()
            assert app._tabs.active == tab
            assert app.focused is not None and app.focused.id == app_module.TABS[tab][1]
        assert (app._tabs.active, app.focused.id) == ("loop", "log")


@async_test
async def test_tab_labels_count_what_they_hold(open_app: OpenApp, replay: ReplayFeed) -> None:
    async with open_app(replay, at=6 * S) as (app, pilot):
        tabs = app._tabs
        labels = [tabs.get_tab(t).label.plain for t in app_module.TABS]
    assert labels == ["Loop", "Timers 3", "Conns 4", "Callables 11", "Warnings 1", "Output",
                      "Deferreds"]


# -- timers ----------------------------------------------------------------


@async_test
async def test_timers_sorted_by_due_with_countdown_and_looping_mark(
    open_app: OpenApp, live: RecordedLiveFeed, clock: FakeClock
) -> None:
    clock.advance(6.0)
    async with open_app(live) as (app, pilot):
        await pilot.press("2")
        await pilot.pause()
        timers = table(app, "timers-table")
        pending = app.model.snapshot.timers
        assert [t.due_in for t in pending] == sorted(t.due_in for t in pending)
        assert column(timers, "id") == [app.model.ids.known(t.timer) for t in pending]
        assert column(timers, "due") == [units.duration(t.due_in) for t in pending]
        assert column(timers, "loop") == ["↻" if t.looping else "" for t in pending]
        assert column(timers, "site") == [t.site for t in pending]
        before = {t.timer: t.due_in for t in pending}
        clock.advance(0.5)
        app.refresh_feed()
        await pilot.pause()
        give_up = column(timers, "id").index(app.model.ids.known(2))
        assert column(timers, "due")[give_up] == units.duration(before[2] - 500 * MS)


# -- connections -------------------------------------------------------------


@async_test
async def test_connections_show_addresses_traffic_and_write_buffer(
    open_app: OpenApp, live: RecordedLiveFeed, clock: FakeClock
) -> None:
    clock.advance(6.0)
    async with open_app(live, size=WIDE) as (app, pilot):
        await pilot.press("3")
        await pilot.pause()
        conns = table(app, "connections-table")
        assert column(conns, "id") == ["c1", "c2", "c3", "c4"]
        info = {c.conn: c for c in app.model.snapshot.connections}
        http = rows(conns)[3]
        assert http[column_index(conns, "peer")] == "127.0.0.1:50002"
        assert http[column_index(conns, "protocol")] == "twisted.web.http.HTTPChannel"
        assert http[column_index(conns, "wbuf")] == units.size(info[4].write_buffer) == "46.9K"
        assert http[column_index(conns, "out")] == units.size(16_384)
        assert http[column_index(conns, "type")] == "tcp"
        clock.advance((CLIENT_CLOSED_AT - 6 * S) / S + 0.1)
        app.refresh_feed()
        await pilot.pause()
        # The closed one stays a few seconds, dimmed, after the open ones.
        assert column(conns, "id") == ["c1", "c2", "c4", "c3"]
        assert "dim" in str(conns.get_row_at(3)[0].spans or conns.get_row_at(3)[0].style)
        clock.advance(GONE_NS / S + 0.5)
        app.refresh_feed()
        await pilot.pause()
        assert column(conns, "id") == ["c1", "c2", "c4"]


def column_label(widget: ModelTable, key: str) -> str:
    return next(plain(c.label) for k, c in widget.columns.items() if k.value == key)


def column_index(widget: ModelTable, key: str) -> int:
    return [str(k.value) for k in widget.columns].index(key)


@async_test
async def test_narrow_connections_table_drops_columns_but_fits(
    open_app: OpenApp, live: RecordedLiveFeed, clock: FakeClock
) -> None:
    clock.advance(6.0)
    async with open_app(live) as (app, pilot):
        await pilot.press("3")
        await pilot.pause()
        conns = table(app, "connections-table")
        keys = [str(k.value) for k in conns.columns]
        assert {"id", "peer", "protocol", "in", "out", "wbuf"} <= set(keys)
        assert conns.virtual_size.width <= conns.size.width


# -- callables ---------------------------------------------------------------


@async_test
async def test_callables_sort_with_keys(open_app: OpenApp, replay: ReplayFeed) -> None:
    async with open_app(replay, at=6 * S, size=WIDE) as (app, pilot):
        await pilot.press("4")
        await pilot.pause()
        calls = table(app, "callables-table")
        stats = app.model.snapshot.callables
        by_total = sorted(stats, key=lambda s: (-s.total, s.name))
        assert column(calls, "name") == [s.name for s in by_total]
        assert column_label(calls, "total") == "total▼"
        await pilot.press("s")  # total -> self
        await pilot.pause()
        assert calls.sort_column == "self"
        by_self = sorted(stats, key=lambda s: -s.self_time)
        assert column(calls, "self") == [units.duration(s.self_time) for s in by_self]
        assert {s.kind for s in stats} >= {"timer", "io.read", "deferred"}
        await pilot.press("s")  # self -> mean
        await pilot.pause()
        assert calls.sort_column == "mean"
        assert (column_label(calls, "mean"), column_label(calls, "total")) == ("mean▼", "total")
        means = [units.duration(s.mean) for s in sorted(stats, key=lambda s: -s.mean)]
        assert column(calls, "mean") == means
        await pilot.press("S")
        await pilot.pause()
        assert column(calls, "mean") == list(reversed(means))
        for _ in range(5):  # mean -> max -> p95 -> errors -> name -> kind
            await pilot.press("s")
        await pilot.pause()
        assert calls.sort_column == "kind"
        kinds = column(calls, "kind")
        assert kinds == sorted(kinds)


@async_test
async def test_callables_sort_by_clicking_a_header(open_app: OpenApp, replay: ReplayFeed) -> None:
    async with open_app(replay, at=6 * S, size=WIDE) as (app, pilot):
        await pilot.press("4")
        await pilot.pause()
        calls = table(app, "callables-table")
        x = 1
        for key, _, _ in calls.shown_columns:
            if key == "count":
                break
            x += calls.widths[key] + 2
        await pilot.click(calls, offset=(x + 1, 0))
        await pilot.pause()
        assert (calls.sort_column, calls.sort_reverse) == ("count", True)
        counts = [int(c) for c in column(calls, "count")]
        assert counts == sorted(counts, reverse=True)
        await pilot.click(calls, offset=(x + 1, 0))
        await pilot.pause()
        assert (calls.sort_column, calls.sort_reverse) == ("count", False)


# -- warnings and output -------------------------------------------------------


@async_test
async def test_warnings_view_and_its_detail(open_app: OpenApp, replay: ReplayFeed) -> None:
    async with open_app(replay, at=6 * S, size=WIDE) as (app, pilot):
        await pilot.press("5")
        await pilot.pause()
        warnings = table(app, "warnings-table")
        assert column(warnings, "code") == ["slow-callback"]
        assert column(warnings, "where") == ["demo/program.py:77"]
        await pilot.press("enter")
        await pilot.pause()
        text = detail_text(app)
        assert "Warning" in text and "blocked the reactor for 210ms" in text


def found_warnings_trace() -> Trace:
    """Warnings found from events alone: a slow callback with its stack, an
    unhandled error in a Deferred with no site, a late timer."""
    ms, s = 1_000_000, 1_000_000_000
    events = [
        ev.Event(0, 1 * s, 0, ev.TIMER_SCHEDULE, "app.tick", {
            "timer": 1 * s, "site": "/srv/app.py:12", "delay": 100 * ms, "due": 1 * s + 100 * ms,
            "looping": False}),
        ev.Event(1, 2 * s, 300 * ms, ev.TIMER, "app.tick", {
            "timer": 1 * s, "site": "/srv/app.py:12", "delay": 100 * ms, "late": 900 * ms,
            "looping": False, "error": None}),
        ev.Event(2, 2 * s, 300 * ms, ev.SLOW, "app.tick", {
            "dispatch": "timer", "site": "/srv/app.py:40", "function": "crunch",
            "stack": ["/srv/app.py:12 tick", "/srv/app.py:40 crunch"], "blocked": 300 * ms}),
        ev.Event(3, 3 * s, 0, ev.DEFERRED_ERROR, "builtins.ValueError", {
            "deferred": 140130975919056, "failure": "builtins.ValueError", "site": None}),
    ]
    return Trace({"options": {"slow_ms": 100}}, events, None)


@async_test
async def test_every_warning_detail_reads_in_words(open_app: OpenApp, clock: FakeClock) -> None:
    feed = ReplayFeed(found_warnings_trace(), clock=clock, playing=False)
    async with open_app(feed, at=4_000_000_000, size=WIDE) as (app, pilot):
        await pilot.press("5")
        await pilot.pause()
        codes = column(table(app, "warnings-table"), "code")
        assert sorted(codes) == ["deferred-error", "late-timer", "slow-callback"]
        texts = {}
        for code in codes:
            await select_row(pilot, "warnings-table", next(
                key for key in table(app, "warnings-table")._keys if key.endswith(code)))
            assert isinstance(app.screen, DetailScreen)
            texts[code] = detail_text(app)
            await pilot.press("escape")
            await pilot.pause()
        for code, text in texts.items():
            assert "None" not in text and "140130975919056" not in text, text
            # no raw nanoseconds or ids, but the timer's short id as the other views name it
            assert not re.search(r"\b\d{8,}\b", text), text
            assert "found at" in text and "since start" in text
        slow = texts["slow-callback"]
        assert "Stack (outermost first)" in slow and "/srv/app.py:40 crunch" in slow
        assert "blocked for" in slow and "300 ms" in slow
        assert "Recent events" in slow  # the callable's own events
        error = texts["deferred-error"]
        assert "about     a Deferred" in error and "Recent events" not in error
        assert "not known" in error
        late = texts["late-timer"]
        assert "about     timer t1 app.tick" in late and "/srv/app.py:12" in late


@async_test
async def test_the_loop_tab_shows_warnings_at_80x24(open_app: OpenApp, clock: FakeClock) -> None:
    feed = ReplayFeed(found_warnings_trace(), clock=clock, playing=False)
    async with open_app(feed, at=4_000_000_000) as (app, pilot):
        side = table(app, "side-warnings")
        assert app_module._displayed(side) and side.row_count == 3
        assert side.size.height >= 4 and event_log(app).size.height >= 5


def test_prose_is_cut_between_words() -> None:
    message = "app.tick blocked the reactor for 300 ms at app.py:40 in crunch: nothing else ran"
    cut = table_module.cut(message, 45, keep_end=False)
    assert cut == "app.tick blocked the reactor for 300 ms at…"
    assert len(cut) <= 45 and table_module.cut("short", 45, keep_end=False) == "short"


@async_test
async def test_output_pane_shows_the_programs_lines(open_app: OpenApp, trace: Trace, clock: FakeClock) -> None:
    feed = RecordedLiveFeed(trace, clock, output=["listening on 8000", "GET / 200"])
    async with open_app(feed) as (app, pilot):
        await pilot.press("6")
        await pilot.pause()
        feed.add_output("client gone")
        app.refresh_feed()
        await pilot.pause()
        log = app._main_screen.query_one("#output-log", Log)
        assert list(log.lines) == ["listening on 8000", "GET / 200", "client gone"]


@async_test
async def test_output_pane_says_why_it_is_empty_when_the_feed_has_no_output(
    open_app: OpenApp, trace: Trace, clock: FakeClock
) -> None:
    feed = RecordedLiveFeed(trace, clock)
    feed.shows_output = False  # type: ignore[attr-defined]  # as attach's feed
    async with open_app(feed) as (app, pilot):
        await pilot.press("6")
        await pilot.pause()
        lines = list(app._main_screen.query_one("#output-log", Log).lines)
        assert lines == [app_module.NO_OUTPUT] and "reactortrace run" in lines[0]


def test_q_says_what_it_does_under_each_command() -> None:
    [quit_key] = [key for key in APP_KEYS if key.keys == "q"]
    assert "stops the program" in quit_key.description
    assert "stops watching" not in quit_key.description


# -- detail screens ------------------------------------------------------------


@async_test
async def test_detail_of_a_timer_and_back_with_escape(open_app: OpenApp, replay: ReplayFeed) -> None:
    async with open_app(replay, at=6 * S) as (app, pilot):
        await pilot.press("2")
        short = app.model.ids.known(4)
        await select_row(pilot, "timers-table", short)
        assert isinstance(app.screen, DetailScreen)
        assert app.screen.subject == ("timer", 4)
        text = detail_text(app)
        for part in (
            f"Timer {short}", "pending", "demo/web.py:22", "Created at", "timer.schedule", "timer.reset"
        ):
            assert part in text, part
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app._main_screen


@async_test
async def test_detail_of_a_connection_and_back_with_backspace(open_app: OpenApp, replay: ReplayFeed) -> None:
    async with open_app(replay, at=6 * S, size=WIDE) as (app, pilot):
        await pilot.press("3")
        await select_row(pilot, "connections-table", "c4")
        text = detail_text(app)
        for part in ("Connection c4", "open", "127.0.0.1:50002", "write_buffer", "46.9K (48000)",
                     "io.read", "io.write", "conn.open"):
            assert part in text, part
        await pilot.press("backspace")
        await pilot.pause()
        assert app.screen is app._main_screen


@async_test
async def test_detail_of_a_callable_shows_its_creation_site_and_events(open_app: OpenApp, replay: ReplayFeed) -> None:
    async with open_app(replay, at=6 * S, size=WIDE) as (app, pilot):
        await pilot.press("4")
        await select_row(pilot, "callables-table", "timer\0demo.program.blocking")
        text = detail_text(app)
        for part in (
            "Callable demo.program.blocking", "As timer", "210ms", "demo/program.py:77", "slow"
        ):
            assert part in text, part


@async_test
async def test_detail_of_an_event_in_the_log(open_app: OpenApp, replay: ReplayFeed, trace: Trace) -> None:
    replay.seek(6 * S)
    slow = next(e for e in trace.events if e.kind == ev.SLOW)
    async with open_app(replay, size=WIDE) as (app, pilot):
        await select_row(pilot, "log", str(slow.seq))
        assert app.screen.subject == ("callable", "demo.program.blocking")
        text = detail_text(app)
        for part in ("Event", "blocked", "time.sleep(0.21)", "As timer"):
            assert part in text, part


@async_test
async def test_detail_follows_the_feed_while_open(
    open_app: OpenApp, live: RecordedLiveFeed, clock: FakeClock
) -> None:
    clock.advance(4.5)
    async with open_app(live) as (app, pilot):
        await pilot.press("2")
        short = app.model.ids.known(5)
        await select_row(pilot, "timers-table", short)
        assert f"Timer {short}  pending" in detail_text(app)
        clock.advance(1.0)  # the blocking timer fires at 5 s
        app.refresh_feed()
        await pilot.pause()
        text = detail_text(app)
        assert "no longer pending" in text and "Last seen" in text
        assert "late 0ns" in text  # its firing, among its recent events


# -- filters -------------------------------------------------------------------


@async_test
async def test_name_filter_applies_to_every_view(open_app: OpenApp, replay: ReplayFeed) -> None:
    async with open_app(replay, at=6 * S, size=WIDE) as (app, pilot):
        await pilot.press("backslash")
        assert isinstance(app.focused, FilterInput)
        await pilot.press(*"echo")
        await pilot.pause()
        log = event_log(app)
        assert logged(app)
        assert all(app.filter.shows_event(e) for e in logged(app))
        assert all("echo" in text.lower() for text in log_texts(app))
        assert table(app, "side-timers").row_count == 0
        assert column(table(app, "side-connections"), "id") == ["c2", "c3"]
        await pilot.press("enter")  # keeps the filter, back to the view
        await pilot.pause()
        assert app.focused is log and app.filter.text == "echo"
        await pilot.press("backslash", "escape")  # clears it
        await pilot.pause()
        assert app.filter.text == "" and app.focused is log
        assert table(app, "side-timers").row_count == 3


@async_test
async def test_kinds_screen_chooses_the_kinds_in_the_log(open_app: OpenApp, replay: ReplayFeed) -> None:
    async with open_app(replay, at=6 * S) as (app, pilot):
        await pilot.press("k")
        await pilot.pause()
        assert isinstance(app.screen, KindsScreen)
        await pilot.press("a")  # all kinds: iterations appear
        await pilot.pause()
        assert ev.ITERATION in {e.kind for e in logged(app)}
        await pilot.press("i")  # back to all but iteration
        await pilot.pause()
        assert app.filter.kinds == DEFAULT_KINDS
        await pilot.press("space")  # toggles the first kind: timer
        await pilot.pause()
        assert ev.TIMER not in app.filter.kinds
        assert ev.TIMER not in {e.kind for e in logged(app)}
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app._main_screen
        # every kind but iteration, then timer toggled off
        shown = len(ev.KINDS) - 2
        assert f"{shown} kinds" in static_text(app._filter_bar.query_one("#kinds-label"))


# -- pause, play, help, quit -------------------------------------------------------


@async_test
async def test_pause_and_resume_a_live_feed(open_app: OpenApp, live: RecordedLiveFeed) -> None:
    async with open_app(live) as (app, pilot):
        for key in ("space", "p"):
            await pilot.press(key)
            await pilot.pause()
            assert live.paused and "PAUSED" in header_text(app)
            await pilot.press(key)
            await pilot.pause()
            assert not live.paused and "LIVE" in header_text(app)


@async_test
async def test_space_plays_and_pauses_a_replay(open_app: OpenApp, replay: ReplayFeed, clock: FakeClock) -> None:
    async with open_app(replay) as (app, pilot):
        await pilot.press("space")
        await pilot.pause()
        assert replay.playing and "▶ play" in replay_text(app)
        clock.advance(1.0)
        await pilot.press("space")
        await pilot.pause()
        assert not replay.playing
        assert app.model.position == 1 * S
        assert "00:01.000 / " in replay_text(app)


@async_test
async def test_help_lists_every_key(open_app: OpenApp, replay: ReplayFeed) -> None:
    async with open_app(replay) as (app, pilot):
        for key in ("question_mark", "f1"):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)
            text = static_text(app.screen.query_one("#help-keys"), width=200)
            for entry in APP_KEYS:
                assert entry.label in text and entry.description in text, entry
            for label, description in OTHER_KEYS:
                assert label in text and description in text
            await pilot.press("escape")
            await pilot.pause()
            assert app.screen is app._main_screen


@pytest.mark.parametrize("keys", [("q",), ("ctrl+c",), ("slash", "ctrl+c")])
@async_test
async def test_quit_keys_close_the_feed(open_app: OpenApp, live: RecordedLiveFeed, keys: tuple[str, ...]) -> None:
    async with open_app(live) as (app, pilot):
        await pilot.press(*keys)
        await pilot.pause()
        assert live.closed == 1
    assert live.closed == 1
    assert app.return_code == 0


def test_show_closes_the_feed_however_the_app_ends(
    live: RecordedLiveFeed, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_run(self: Any) -> None:
        raise RuntimeError("terminal went away")

    monkeypatch.setattr(app_module.ReactorTraceApp, "run", broken_run)
    with pytest.raises(RuntimeError):
        show(live, title="x")
    assert live.closed == 1


class FailingFeed:
    meta: dict[str, Any] = {"program": "gone.py"}

    def __init__(self) -> None:
        self.polls = 0

    def poll(self) -> FeedUpdate:
        self.polls += 1
        if self.polls > 1:
            raise ReactorTraceError("the traced program went away")
        return FeedUpdate(snapshot=Snapshot(0), events=(), state="live")

    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def close(self) -> None: ...


@async_test
async def test_a_feed_that_fails_is_reported_and_no_longer_polled(open_app: OpenApp) -> None:
    feed = FailingFeed()
    async with open_app(feed) as (app, pilot):
        app.refresh_feed()
        app.refresh_feed()
        await pilot.pause()
        assert feed.polls == 2
        assert any("went away" in str(n.message) for n in app._notifications)


# -- replay controls -------------------------------------------------------------


@async_test
async def test_step_key_shows_one_more_event(open_app: OpenApp, replay: ReplayFeed, trace: Trace) -> None:
    async with open_app(replay, at=6 * S) as (app, pilot):
        following = trace.events[replay.index]
        await pilot.press("full_stop")
        await pilot.pause()
        assert any(e is following for e in app.model.events)
        assert app.model.position == max(6 * S, following.end)


@async_test
async def test_seek_key_goes_to_a_typed_time(open_app: OpenApp, replay: ReplayFeed, trace: Trace) -> None:
    async with open_app(replay, at=6 * S) as (app, pilot):
        await pilot.press("g")
        await pilot.pause()
        assert isinstance(app.screen, SeekScreen)
        await pilot.press(*"soon", "enter")
        await pilot.pause()
        assert isinstance(app.screen, SeekScreen)
        assert "not a duration" in static_text(app.screen.query_one("#seek-error"))
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app._main_screen and app.model.position == 6 * S
        await pilot.press("g", *"2.5", "enter")
        await pilot.pause()
        assert app.model.position == 2_500 * MS
        assert {e.seq for e in logged(app)} == {e.seq for e in shown_before(trace, 2_500 * MS)}
        assert "00:02.500 / " in replay_text(app)


@async_test
async def test_next_slow_and_next_warning_keys(open_app: OpenApp, replay: ReplayFeed) -> None:
    async with open_app(replay) as (app, pilot):
        await pilot.press("n")
        await pilot.pause()
        assert app.model.position == SLOW_AT + SLOW_DUR
        assert any(e.kind == ev.SLOW for e in app.model.events)
        await pilot.press("n")  # no other slow event: stays, says so
        await pilot.pause()
        assert app.model.position == SLOW_AT + SLOW_DUR
        assert any("No slow event" in str(n.message) for n in app._notifications)
        await pilot.press("w")
        await pilot.pause()
        assert app.model.position == WARNING_AT


@async_test
async def test_speed_keys(open_app: OpenApp, replay: ReplayFeed) -> None:
    async with open_app(replay) as (app, pilot):
        speeds = []
        for key in ("plus", "equals_sign", "minus", "minus", "minus"):
            await pilot.press(key)
            await pilot.pause()
            speeds.append(replay.speed)
        assert speeds == [2.0, 4.0, 2.0, 1.0, 0.5]
        assert "0.5x" in replay_text(app)


@async_test
async def test_zero_goes_back_to_the_start(open_app: OpenApp, replay: ReplayFeed) -> None:
    async with open_app(replay, at=6 * S) as (app, pilot):
        await pilot.press("0")
        await pilot.pause()
        assert app.model.position == 0
        assert len(logged(app)) == 1  # only the startup event has ended at 0


@async_test
async def test_replay_keys_do_nothing_on_a_live_feed(open_app: OpenApp, live: RecordedLiveFeed) -> None:
    async with open_app(live) as (app, pilot):
        before = app.model.position
        await pilot.press("full_stop", "g", "n", "w", "plus", "minus", "0")
        await pilot.pause()
        assert app.screen is app._main_screen
        assert app.model.position == before
        replay_actions = ("step", "seek", "next", "speed", "seek_to")
        assert not any(app.check_action(name, ()) for name in replay_actions)
        assert len(app._main_screen.query("ReplayBar")) == 0


# -- layout ------------------------------------------------------------------------


@async_test
async def test_a_large_terminal_shows_more_panes_at_once(open_app: OpenApp, replay: ReplayFeed) -> None:
    async with open_app(replay, at=6 * S) as (app, pilot):
        side = ("side-timers", "side-connections", "side-callables", "side-warnings")
        assert not any(app_module._displayed(table(app, w)) for w in side[:3])
        # a short screen keeps room for the warnings, once there are some
        assert app_module._displayed(table(app, "side-warnings"))
        await pilot.resize_terminal(*WIDE)
        await pilot.pause()
        await pilot.pause()
        assert all(app_module._displayed(table(app, w)) for w in side)
        assert table(app, "side-timers").row_count == 3
        assert table(app, "side-connections").row_count == 4
        assert table(app, "side-callables").row_count == 11  # timers, I/O, Deferred callbacks
        assert table(app, "side-warnings").row_count == 1
        assert event_log(app).size.height > 20


@async_test
async def test_boxes_close_with_each_of_their_keys(open_app: OpenApp, replay: ReplayFeed) -> None:
    async with open_app(replay) as (app, pilot):
        for opener, screen_type, closers in (
            ("question_mark", HelpScreen, ("question_mark", "f1", "backspace")),
            ("k", KindsScreen, ("k", "backspace")),
        ):
            for closer in closers:
                await pilot.press(opener)
                await pilot.pause()
                assert isinstance(app.screen, screen_type)
                await pilot.press(closer)
                await pilot.pause()
                assert app.screen is app._main_screen, (opener, closer)


@async_test
async def test_d_detaches_only_a_program_that_can_be_left_running(open_app: OpenApp, live: RecordedLiveFeed) -> None:
    async with open_app(live) as (app, pilot):
        await pilot.press("d")  # a plain live feed cannot detach: nothing happens
        await pilot.pause()
        assert live.closed == 0 and app.is_running
    live.detachable = True  # type: ignore[attr-defined]
    async with open_app(live) as (app, pilot):
        await pilot.press("d")
        await pilot.pause()
    assert app.return_value == DETACH
    assert live.closed >= 1
