"""Pilot tests: the app driven by a real live feed (socket, server thread, fake program).

The app polls when the test says so (``until`` calls ``refresh_feed``, as the
app's interval would): no poll can then land while the app shuts down.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from reactortrace.core import events as ev
from reactortrace.live.client import LiveFeed
from reactortrace.live.server import LiveServer
from reactortrace.tui.app import ReactorTraceApp

from .fakes import FakeProgram

SIZE = (120, 40)


def header(app: ReactorTraceApp) -> str:
    return app._header.render().plain


def cells(app: ReactorTraceApp, table_id: str) -> str:
    table = app._main_screen.query_one(f"#{table_id}")
    return "\n".join(
        " ".join(str(getattr(cell, "plain", cell)) for cell in table.get_row_at(i))
        for i in range(table.row_count)
    )


def make_app(feed: LiveFeed) -> ReactorTraceApp:
    return ReactorTraceApp(feed, poll_interval=60.0)


async def until(pilot: Any, condition: Any, timeout: float = 10.0) -> None:
    """Poll the feed as the app's interval would, until ``condition()`` holds."""
    deadline = time.monotonic() + timeout
    while True:
        pilot.app.refresh_feed()
        await pilot.pause()
        if condition():
            return
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.05)


def shop(program: FakeProgram) -> None:
    """A listening port, a client, a pending timer: what a small server has."""
    program.add(ev.CONN_OPEN, "shop.ShopFactory", conn=1, fd=5, type="tcp.listen",
                local="127.0.0.1:8123", peer=None, transport="twisted.internet.tcp.Port")
    program.add(ev.CONN_OPEN, "shop.ShopProtocol", conn=2, fd=6, type="tcp",
                local="127.0.0.1:8123", peer="127.0.0.1:50000",
                transport="twisted.internet.tcp.Server")
    program.add(ev.TIMER_SCHEDULE, "shop.Shop.expire_carts", timer=1, site="shop.py:40",
                delay=60_000_000_000, due=program.now() + 60_000_000_000, looping=False)
    program.add(ev.IO_READ, "shop.ShopProtocol", 20_000, conn=2, fd=6, bytes=12, error=None)


def run(test: Any) -> Any:
    def wrapper(program: FakeProgram, server: LiveServer) -> None:
        asyncio.run(test(program, server))

    wrapper.__name__ = test.__name__
    return wrapper


@run
async def test_live_data_reaches_every_view(program: FakeProgram, server: LiveServer) -> None:
    app = make_app(LiveFeed(server.path))
    async with app.run_test(size=SIZE) as pilot:
        assert "shop.py" in header(app) and "EPollReactor" in header(app)
        assert "LIVE" in header(app)
        shop(program)
        await until(pilot, lambda: "expire_carts" in cells(app, "side-timers"))
        await pilot.press("2")
        await until(pilot, lambda: "expire_carts" in cells(app, "timers-table"))
        await pilot.press("3")
        await until(pilot, lambda: "ShopProtocol" in cells(app, "connections-table"))
        assert "0.0.1:50000" in cells(app, "connections-table")
        assert [e.name for e in app.model.events][-1] == "shop.ShopProtocol"


@run
async def test_pause_freezes_the_view_and_resume_catches_up(
    program: FakeProgram, server: LiveServer
) -> None:
    feed = LiveFeed(server.path)
    app = make_app(feed)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space")
        await until(pilot, lambda: "PAUSED" in header(app))
        program.add_timers(25)
        drained = len(program.drain_times)
        await until(pilot, lambda: len(program.drain_times) > drained + 2)
        assert app.model.snapshot.loop.events == 0
        await pilot.press("space")
        await until(pilot, lambda: app.model.snapshot.loop.events == 25)
        assert "LIVE" in header(app)


@run
async def test_the_end_of_the_program_shows_as_ended(
    program: FakeProgram, server: LiveServer
) -> None:
    app = make_app(LiveFeed(server.path))
    async with app.run_test(size=SIZE) as pilot:
        program.add_timers(3)
        server.finish("stopped")
        await until(pilot, lambda: "ENDED" in header(app))
        assert app.model.snapshot.loop.events == 3


@run
async def test_events_the_viewer_missed_are_counted_in_the_header(
    program: FakeProgram, server: LiveServer
) -> None:
    feed = LiveFeed(server.path, max_events=10)
    app = make_app(feed)
    async with app.run_test(size=SIZE) as pilot:
        program.add_timers(50)
        deadline = time.monotonic() + 10
        while feed._snapshot.loop.events < 50:  # arrived, not polled yet
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        await until(pilot, lambda: "+40 viewer" in header(app))


@run
async def test_replay_keys_are_off_and_quit_closes_the_socket(
    program: FakeProgram, server: LiveServer
) -> None:
    feed = LiveFeed(server.path)
    app = make_app(feed)
    async with app.run_test(size=SIZE) as pilot:
        assert app.replay is None
        await until(pilot, lambda: server.viewers == 1)
        await pilot.press("q")
    await asyncio.sleep(0)
    deadline = time.monotonic() + 5
    while server.viewers and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert server.viewers == 0
