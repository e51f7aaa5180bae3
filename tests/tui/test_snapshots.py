"""SVG snapshots of the main views at 80x24 and 160x48 (pytest-textual-snapshot).

Everything on screen comes from the fixed sample trace and a hand-moved clock,
so the pictures do not change from run to run. Refresh them after a deliberate
UI change with ``pytest tests/tui --snapshot-update`` and look at the diff.
"""

from __future__ import annotations

from typing import Any, Callable

import pytest

from reactortrace.core.replay import ReplayFeed
from reactortrace.core.trace import Trace

from .helpers import NARROW, WIDE, make_app
from .sample import FakeClock, RecordedLiveFeed

SIZES = pytest.mark.parametrize("size", [NARROW, WIDE], ids=["80x24", "160x48"])
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
