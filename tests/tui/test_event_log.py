"""The event log: time order with nesting, LoopingCall ticks named by the user's
function, a bounded history, and what the header says about drops."""

from __future__ import annotations

from typing import Any

from reactortrace.core import events as ev
from reactortrace.core.events import Event
from reactortrace.core.replay import ReplayFeed
from reactortrace.core.trace import Trace
from reactortrace.tui.history import EventHistory
from reactortrace.tui.screens.help import HelpScreen
from reactortrace.tui.widgets.event_log import EventLog
from reactortrace.tui.widgets.header import DROPPED_EXPLAINED

from .helpers import OpenApp, async_test, static_text
from .sample import META, MS, FakeClock, S

LC_CB = "twisted.internet.task.LoopingCall.__call__.<locals>.cb"
PASSTHRU = "twisted.internet.defer.passthru"


def recorded(*events: tuple[int, int, str, str, dict[str, Any]]) -> list[Event]:
    """Events (ts, dur, kind, name, args) in the order given: the order a
    recorder appends them, each when it ends."""
    return [Event(seq, ts, dur, kind, name, args) for seq, (ts, dur, kind, name, args)
            in enumerate(events)]


def tick(at: int) -> list[tuple[int, int, str, str, dict[str, Any]]]:
    """One LoopingCall tick of ``app.poll`` as Twisted runs it: the user's
    function, LoopingCall's callbacks (nested), the timer that ran them last."""
    return [
        (at + 10, 30, ev.DEFERRED, LC_CB, {}),
        (at + 20, 0, ev.TIMER_SCHEDULE, "app.poll", {"timer": at + 20, "looping": True}),
        (at + 45, 5, ev.DEFERRED, PASSTHRU, {}),
        (at, 60, ev.TIMER, "app.poll", {"timer": at - 1, "looping": True}),
    ]


def ticks_and_a_read() -> list[Event]:
    return recorded(
        *tick(1 * MS),
        (2 * MS + 10, 20, ev.DEFERRED, "app.on_line", {}),
        (2 * MS, 50, ev.IO_READ, "app.LineProtocol", {"conn": 1, "bytes": 12}),
        *tick(3 * MS),
    )


def layout(history: EventHistory) -> list[tuple[int, str, str]]:
    return [(entry.depth, entry.event.kind, entry.name) for entry in history.shown]


def test_nested_dispatches_follow_the_one_that_ran_them_in_time_order() -> None:
    history = EventHistory(60 * S, 1_000)
    history.add(ticks_and_a_read())
    shown = [entry.event.ts for entry in history.shown]
    assert shown == sorted(shown)
    assert layout(history)[:5] == [
        (0, ev.TIMER, "app.poll"),
        (1, ev.DEFERRED, "app.poll"),  # LoopingCall's callback, named by the tick
        (2, ev.TIMER_SCHEDULE, "app.poll"),  # the next tick, scheduled inside it
        (1, ev.DEFERRED, "app.poll"),
        (0, ev.IO_READ, "app.LineProtocol"),
    ]
    assert layout(history)[5] == (1, ev.DEFERRED, "app.on_line")
    notes = [entry.note for entry in history.shown if entry.event.kind == ev.DEFERRED]
    assert notes[:2] == ["LoopingCall: next tick scheduled", "LoopingCall: result passed on"]


def test_a_parent_arriving_in_a_later_batch_still_takes_its_children() -> None:
    events = ticks_and_a_read()
    history = EventHistory(60 * S, 1_000)
    history.add(events[:3])
    assert [entry.depth for entry in history.shown] == [0, 1, 0]  # no parent yet
    history.add(events[3:])
    assert layout(history)[0] == (0, ev.TIMER, "app.poll")
    assert [entry.depth for entry in history.shown][:4] == [0, 1, 2, 1]


def test_plumbing_outside_a_looping_tick_keeps_its_own_name() -> None:
    history = EventHistory(60 * S, 1_000)
    history.add(recorded((10, 5, ev.DEFERRED, PASSTHRU, {}),
                         (0, 20, ev.TIMER, "app.once", {"timer": 1, "looping": False})))
    assert layout(history) == [(0, ev.TIMER, "app.once"), (1, ev.DEFERRED, PASSTHRU)]


def test_the_history_is_bounded_by_age_and_by_count() -> None:
    history = EventHistory(2 * S, 100)
    history.add(recorded(*((i * 10 * MS, 0, ev.TIMER_SCHEDULE, "a", {}) for i in range(1_000))))
    kept = [entry.event.ts for entry in history.entries]
    assert len(kept) <= 110 and kept[-1] == 9_990 * MS  # the newest, at most a tenth over
    history = EventHistory(2 * S, 100_000)
    history.add(recorded(*((i * 10 * MS, 0, ev.TIMER_SCHEDULE, "a", {}) for i in range(1_000))))
    assert history.entries[0].event.ts >= 9_990 * MS - 2 * S
    assert len(history.shown) == len(history.entries) == 201  # 2 s back, both ends kept


def test_a_filter_applies_to_what_is_kept_and_to_what_comes() -> None:
    history = EventHistory(60 * S, 1_000)
    events = ticks_and_a_read()
    history.add(events[:6])
    history.set_filter(lambda event: event.kind != ev.DEFERRED)
    history.add(events[6:])
    assert {entry.event.kind for entry in history.shown} == {ev.TIMER, ev.TIMER_SCHEDULE,
                                                              ev.IO_READ}
    assert len(history.entries) == len(events)


def trace_of(events: list[Event]) -> Trace:
    return Trace(meta=dict(META), events=events, snapshot=None, dropped=0)


def log_of(app: Any) -> EventLog:
    return app._main_screen.query_one("#log", EventLog)


def name_cells(app: Any) -> list[str]:
    log = log_of(app)
    return [log.cells(entry, entry.name)[3].plain for entry in log._rows]


@async_test
async def test_the_log_indents_nested_callbacks_under_their_tick(open_app: OpenApp) -> None:
    replay = ReplayFeed(trace_of(ticks_and_a_read()), clock=FakeClock(), playing=False)
    async with open_app(replay, at=10 * MS, size=(100, 30)) as (app, pilot):
        names = name_cells(app)
        assert names[:6] == ["app.poll", "└ app.poll", "  └ app.poll", "└ app.poll",
                             "app.LineProtocol", "└ app.on_line"]
        assert not any("LoopingCall" in name or "passthru" in name for name in names)
        log = log_of(app)
        rendered = [log.render_line(y).text for y in range(1, 4)]
        assert "LoopingCall: next tick" in rendered[1]
        await pilot.press("home")
        assert log.cursor_row == 0 and not log.following
        await pilot.press("end")
        assert log.following


@async_test
async def test_the_log_keeps_the_minutes_asked_for(open_app: OpenApp) -> None:
    events = recorded(*((i * 200 * MS, 0, ev.TIMER_SCHEDULE, f"f{i}", {}) for i in range(300)))
    replay = ReplayFeed(trace_of(events), clock=FakeClock(), playing=False)
    async with open_app(replay, at=60 * S, history=10.0) as (app, pilot):
        kept = [entry.event.ts for entry in log_of(app)._rows]
        assert kept[-1] == 59_800 * MS
        assert kept[0] >= 59_800 * MS - 10 * S and len(kept) <= 51
    replay = ReplayFeed(trace_of(events), clock=FakeClock(), playing=False)
    async with open_app(replay, at=60 * S) as (app, pilot):  # the default: minutes
        assert len(log_of(app)._rows) == 300


@async_test
async def test_the_header_and_help_say_what_viewer_drops_are(open_app: OpenApp) -> None:
    replay = ReplayFeed(trace_of(ticks_and_a_read()), clock=FakeClock(), playing=False)
    async with open_app(replay) as (app, pilot):
        assert app._header.tooltip == DROPPED_EXPLAINED
        assert "the log shows a sample" in DROPPED_EXPLAINED
        assert "stay exact" in DROPPED_EXPLAINED
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert static_text(app.screen.query_one("#help-dropped")) == DROPPED_EXPLAINED
