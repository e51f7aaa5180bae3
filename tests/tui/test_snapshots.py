"""SVG snapshots of the main views at 80x24, 120x36 and 160x48 (pytest-textual-snapshot).

Everything on screen comes from the fixed sample trace and a hand-moved clock,
so the pictures do not change from run to run. Refresh them after a deliberate
UI change with ``pytest tests/tui --snapshot-update`` and look at the diff.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable

import pytest

from reactortrace.core.replay import ReplayFeed
from reactortrace.core.trace import Trace
from reactortrace.tui.widgets.table import ModelTable, as_text

from .helpers import MEDIUM, NARROW, WIDE, make_app, screen_text
from .sample import FakeClock, RecordedLiveFeed

SIZES = pytest.mark.parametrize("size", [NARROW, MEDIUM, WIDE], ids=["80x24", "120x36", "160x48"])
OUTPUT = ["listening on :8000 and :9000", "echo client connected", "GET / HTTP/1.1 200"]


def live_app(trace: Trace, clock: FakeClock) -> Any:
    """The app on a live-looking feed, 6 s into the run."""
    feed = RecordedLiveFeed(trace, clock, output=OUTPUT)
    clock.advance(1.0)
    return make_app(feed)


def play_for(clock: FakeClock, seconds: int) -> Callable[[Any], None]:
    """Move the clock half a second at a time, polling after each step (fills the graph)."""

    def run_before(pilot: Any) -> None:
        for _ in range(seconds * 2):
            clock.advance(0.5)
            pilot.app.refresh_feed()

    return run_before


@SIZES
def test_main_screen(
    snap_compare: Any, trace: Trace, clock: FakeClock, size: tuple[int, int]
) -> None:
    app = live_app(trace, clock)
    assert snap_compare(app, terminal_size=size, run_before=play_for(clock, 5))


@SIZES
@pytest.mark.parametrize("tab", ["1", "2", "3", "4"], ids=["loop", "timers", "conns", "calls"])
def test_no_key_column_is_cut(
    trace: Trace, clock: FakeClock, size: tuple[int, int], tab: str
) -> None:
    """Ids, types, addresses and due times show whole on screen, at every size,
    in the side panes and the tabs alike; names give way first."""
    shown = asyncio.run(_key_cells_on_screen(live_app(trace, clock), clock, size, tab))
    assert shown, "no table on screen"
    for widget_id, key, text, screen in shown:
        assert text in screen, (widget_id, key, text, screen)


async def _key_cells_on_screen(
    app: Any, clock: FakeClock, size: tuple[int, int], tab: str
) -> list[tuple[str, str, str, str]]:
    """(table, column, whole text, the screen) for each key cell of each table shown."""
    async with app.run_test(size=size) as pilot:
        play_for(clock, 5)(pilot)
        await pilot.press(tab)
        await pilot.pause()
        await pilot.pause()
        screen = screen_text(app)
        found = []
        for widget in app.screen.query(ModelTable):
            if widget is app.screen.query_one("#log") or not widget.region.area:
                continue
            keys = {k for k, _, w in widget.shown_columns if isinstance(w, int)}
            rows = list(widget.rows_for(app.model, app.filter))[: widget.region.height - 3]
            for _, cells in rows:
                for key in keys:
                    text = as_text(cells.get(key)).plain
                    if text:
                        found.append((str(widget.id), key, text, screen))
        return found


@SIZES
def test_timers_view(
    snap_compare: Any, trace: Trace, clock: FakeClock, size: tuple[int, int]
) -> None:
    app = live_app(trace, clock)
    assert snap_compare(app, press=["2"], terminal_size=size, run_before=play_for(clock, 5))


@SIZES
def test_connections_view(
    snap_compare: Any, trace: Trace, clock: FakeClock, size: tuple[int, int]
) -> None:
    app = live_app(trace, clock)
    assert snap_compare(app, press=["3"], terminal_size=size, run_before=play_for(clock, 5))


@SIZES
def test_detail_view(
    snap_compare: Any, trace: Trace, clock: FakeClock, size: tuple[int, int]
) -> None:
    app = live_app(trace, clock)
    # The HTTP connection: still open, with data waiting in its write buffer.
    assert snap_compare(
        app, press=["3", "down", "down", "down", "enter"], terminal_size=size,
        run_before=play_for(clock, 5),
    )


@SIZES
def test_warning_detail_view(
    snap_compare: Any, trace: Trace, clock: FakeClock, size: tuple[int, int]
) -> None:
    app = live_app(trace, clock)
    # The slow callback's warning, in words: where, when, what it is about.
    assert snap_compare(
        app, press=["5", "enter"], terminal_size=size, run_before=play_for(clock, 7),
    )


@SIZES
def test_replay_view(snap_compare: Any, replay: ReplayFeed, size: tuple[int, int]) -> None:
    app = make_app(replay)
    # Jump to the slow callback, then step one event past it.
    assert snap_compare(app, press=["n", "full_stop"], terminal_size=size)
