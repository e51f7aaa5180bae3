"""The blocked banner: while a dispatch blocks the loop, the screen says so, live."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from reactortrace.core.trace import Trace
from reactortrace.tui.widgets.blocked import BlockedBanner

from .helpers import NARROW, WIDE, OpenApp, async_test, header_text, make_app
from .sample import BlockedLiveFeed, FakeClock, S
from .test_snapshots import play_for

BLOCK_AT = 3 * S


def banner_text(app: Any) -> str:
    banner = app.query_one(BlockedBanner)
    return banner.render().plain if banner.display else ""


@async_test
async def test_banner_names_the_block_and_its_time_grows(
    trace: Trace, clock: FakeClock, open_app: OpenApp
) -> None:
    feed = BlockedLiveFeed(trace, clock, since=BLOCK_AT)
    async with open_app(feed, size=WIDE) as (app, pilot):
        clock.advance(2.0)
        app.refresh_feed()
        await pilot.pause()
        assert banner_text(app) == "" and "BLOCKED" not in header_text(app)
        clock.advance(1.5)  # 0.5 s into the block
        app.refresh_feed()
        await pilot.pause()
        first = banner_text(app)
        assert first.startswith(" BLOCKED 500ms  in app.jobs.job_that_waits"), first
        assert "timer made at jobs.py:12" in first and "waiting (system call" in first
        assert "▲ BLOCKED" in header_text(app) and "util 100%" in header_text(app)
        clock.advance(4.0)
        app.refresh_feed()
        await pilot.pause()
        later = banner_text(app)
        assert later.startswith(" BLOCKED 4.5s "), later
        assert "lag 4.5s" in header_text(app)


@async_test
async def test_stack_shows_the_programs_frames_first_with_the_blocking_line_marked(
    trace: Trace, clock: FakeClock, open_app: OpenApp
) -> None:
    feed = BlockedLiveFeed(trace, clock, since=BLOCK_AT, waiting=False)
    async with open_app(feed, size=WIDE) as (app, pilot):
        clock.advance(4.0)
        app.refresh_feed()
        await pilot.pause()
        lines = banner_text(app).splitlines()
        assert "burning CPU" in lines[0]
        assert lines[1:] == [
            "    jobs.py:31  job_that_waits",
            "  → storage.py:88  wait_for_the_disk",
            "    socket.py:705  readinto",
        ]


@async_test
async def test_banner_goes_when_the_block_ends(
    trace: Trace, clock: FakeClock, open_app: OpenApp
) -> None:
    feed = BlockedLiveFeed(trace, clock, since=BLOCK_AT, until=BLOCK_AT + 2 * S)
    async with open_app(feed, size=NARROW) as (app, pilot):
        clock.advance(4.0)
        app.refresh_feed()
        await pilot.pause()
        assert "BLOCKED" in banner_text(app)
        clock.advance(2.0)
        app.refresh_feed()
        await pilot.pause()
        assert banner_text(app) == ""
        assert "BLOCKED" not in header_text(app) and "● LIVE" in header_text(app)


@pytest.mark.parametrize("size", [NARROW, WIDE], ids=["80x24", "160x48"])
def test_blocked_screen(snap_compare: Any, trace: Trace, clock: FakeClock,
                        size: tuple[int, int]) -> None:
    feed = BlockedLiveFeed(trace, clock, since=BLOCK_AT)
    clock.advance(1.0)
    app = make_app(feed)
    assert snap_compare(app, terminal_size=size, run_before=play_for(clock, 4))


class SilentFeed(BlockedLiveFeed):
    """A live program that went quiet ``after`` seconds of trace time (C code holding the GIL)."""

    def __init__(self, trace: Trace, clock: FakeClock, after: int) -> None:
        super().__init__(trace, clock, since=10**15)
        self.after = after

    def poll(self) -> Any:
        update = super().poll()
        silent = max(0.0, (update.snapshot.ts - self.after) / S)
        return replace(update, silent=silent)


@async_test
async def test_a_silent_program_is_said_to_hold_the_interpreter_lock(
    trace: Trace, clock: FakeClock, open_app: OpenApp
) -> None:
    feed = SilentFeed(trace, clock, after=3 * S)
    async with open_app(feed, size=WIDE) as (app, pilot):
        clock.advance(2.5)  # 0.5 s of silence: updates come several times a second, but not so
        app.refresh_feed()
        await pilot.pause()
        assert banner_text(app) == "" and "● LIVE" in header_text(app)
        clock.advance(2.0)
        app.refresh_feed()
        await pilot.pause()
        assert banner_text(app).startswith(" NO UPDATE 1.5s "), banner_text(app)
        assert "interpreter lock" in banner_text(app)
        assert "▲ NO UPDATE" in header_text(app)


class StoppableFeed(BlockedLiveFeed):
    """A program run under the TUI, blocked: it can be asked to stop, and killed."""

    def __init__(self, trace: Trace, clock: FakeClock) -> None:
        super().__init__(trace, clock, since=BLOCK_AT)
        self.asked: list[str] = []
        self.ended = False

    def stop_program(self) -> None:
        self.asked.append("stop")

    def kill_program(self) -> None:
        self.asked.append("kill")
        self.ended = True

    def program_ended(self) -> bool:
        return self.ended


async def blocked_app(app: Any, clock: FakeClock, pilot: Any) -> None:
    clock.advance(5.0)
    app.refresh_feed()
    await pilot.pause()
    assert "BLOCKED" in banner_text(app)


async def wait_until(pilot: Any, condition: Any) -> None:
    for _ in range(100):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("not in time")


@pytest.mark.parametrize("key", ["q", "ctrl+c"])
@async_test
async def test_quitting_while_blocked_waits_for_the_program_and_says_so(
    trace: Trace, clock: FakeClock, open_app: OpenApp, key: str
) -> None:
    feed = StoppableFeed(trace, clock)
    async with open_app(feed, size=NARROW) as (app, pilot):
        await blocked_app(app, clock, pilot)
        await pilot.press(key)
        await pilot.pause()
        assert feed.asked == ["stop"] and app.is_running  # open while the program stops
        said = banner_text(app).splitlines()[0]
        assert "blocked in app.jobs.job_that_waits" in said and "writing the trace" in said
        assert "press q again to kill" in said
        before = banner_text(app).splitlines()[1]
        assert before.startswith(" BLOCKED 2s "), before
        clock.advance(1.0)
        app.refresh_feed()  # updates go on meanwhile
        await pilot.pause()
        lines = banner_text(app).splitlines()
        assert lines[0] == said and lines[1].startswith(" BLOCKED 3s "), lines
        feed.ended = True  # it wrote its trace and exited
        await wait_until(pilot, lambda: not app.is_running)
    assert feed.asked == ["stop"]


@pytest.mark.parametrize(("blocked", "asked"), [(True, ["stop", "kill"]), (False, [])],
                         ids=["blocked-q-twice", "not-blocked"])
@async_test
async def test_q_again_kills_and_an_unblocked_program_is_left_to_the_launcher(
    trace: Trace, clock: FakeClock, open_app: OpenApp, blocked: bool, asked: list[str]
) -> None:
    """Blocked: the second q kills the program; not blocked: the viewer closes
    at once and whoever started the program stops it, as before."""
    feed = StoppableFeed(trace, clock)
    async with open_app(feed, size=NARROW) as (app, pilot):
        if blocked:
            await blocked_app(app, clock, pilot)
            await pilot.press("q")
            await pilot.pause()
            assert app.is_running
        await pilot.press("q")
        await wait_until(pilot, lambda: not app.is_running)
    assert feed.asked == asked


@async_test
async def test_a_quiet_program_that_blocks_shows_it_on_the_next_poll(
    trace: Trace, clock: FakeClock, open_app: OpenApp
) -> None:
    """A quiet program's screen is redrawn about once a second, but a block
    (and its end) is shown on the poll that brings it."""
    feed = BlockedLiveFeed(trace, clock, since=BLOCK_AT, until=BLOCK_AT + 2 * S)
    async with open_app(feed, size=WIDE) as (app, pilot):
        app._quiet_every = 1_000  # as if polled every 0.08 s: redrawn rarely
        clock.advance(2.0)
        app.refresh_feed()
        await pilot.pause()
        assert app.model.snapshot.loop.events_per_second < 1_000  # quiet
        assert banner_text(app) == ""
        clock.advance(1.5)  # 0.5 s into the block
        app.refresh_feed()
        await pilot.pause()
        assert banner_text(app).startswith(" BLOCKED 500ms"), banner_text(app)
        assert "▲ BLOCKED" in header_text(app)
        clock.advance(3.0)  # the block is over
        app.refresh_feed()
        await pilot.pause()
        assert banner_text(app) == "" and "BLOCKED" not in header_text(app)
