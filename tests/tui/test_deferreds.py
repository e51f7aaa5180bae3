"""The Deferreds tab: pending Deferreds by age, the awaited-by tree, deadlocks, bounds."""

from __future__ import annotations

from typing import Any

from reactortrace.core.trace import Trace
from reactortrace.tui.screens.detail import DetailScreen
from reactortrace.tui.widgets.deferreds import DeferredsTable

from .helpers import (
    NARROW,
    WIDE,
    OpenApp,
    async_test,
    column,
    make_app,
    rows,
    static_text,
)
from .sample import DeferredsLiveFeed, FakeClock, RecordedLiveFeed
from .test_snapshots import SIZES, play_for


async def show_tab(app: Any, pilot: Any) -> DeferredsTable:
    clock_step(app)
    await pilot.press("7")
    await pilot.pause()
    return app.query_one(DeferredsTable)


def clock_step(app: Any) -> None:
    app.feed._replay._clock.advance(1.0)
    app.refresh_feed()


def names(table: DeferredsTable) -> list[str]:
    return column(table, "name")


@async_test
async def test_tab_lists_pending_deferreds_oldest_first_with_what_they_wait_on(
    trace: Trace, clock: FakeClock, open_app: OpenApp
) -> None:
    async with open_app(DeferredsLiveFeed(trace, clock), size=WIDE) as (app, pilot):
        table = await show_tab(app, pilot)
        assert app._tabs.active == "deferreds" and table.has_focus
        ids = column(table, "id")
        # Oldest first: the connection's Deferred (4 s), then the thread job's coroutine (3 s).
        assert ids[:3] == ["d28", "d25", "d26"], ids
        by_id = {row[1]: row for row in rows(table)}
        assert by_id["d28"][4].startswith("data on connection 4")  # cut between words
        assert by_id["d11"][2] == "app.web.handle_order (coro)"
        assert by_id["d11"][3] == "/srv/app/web.py:52"  # the line it is suspended at
        assert by_id["d11"][5].startswith("timer 2")  # the end of its chain
        assert by_id["d21"][2] == "app.poll.poller (gen)"
        assert by_id["d31"][2].startswith("⚠ ") and by_id["d31"][5].startswith("deadlock: #31")
        # The last line names the cycle; the tab's label counts and warns.
        assert names(table)[-1] == "⚠ deadlock d31→d32→d31"
        assert app._tabs.get_tab("deferreds").label.plain == "Deferreds 10 ⚠"


@async_test
async def test_s_turns_the_age_order_round_and_the_filter_keeps_matching_names(
    trace: Trace, clock: FakeClock, open_app: OpenApp
) -> None:
    async with open_app(DeferredsLiveFeed(trace, clock), size=WIDE) as (app, pilot):
        table = await show_tab(app, pilot)
        await pilot.press("s")
        await pilot.pause()
        ids = [i for i in column(table, "id") if i]
        assert ids[-1] == "d28" and ids[0] in {"d31", "d32"}, ids
        await pilot.press("backslash", *"store", "enter")
        await pilot.pause()
        assert [i for i in column(table, "id") if i] == ["d12", "d13"]  # newest first still


@async_test
async def test_v_shows_the_awaited_by_tree_down_to_what_fires_each_chain(
    trace: Trace, clock: FakeClock, open_app: OpenApp
) -> None:
    async with open_app(DeferredsLiveFeed(trace, clock), size=WIDE) as (app, pilot):
        table = await show_tab(app, pilot)
        await pilot.press("v")
        await pilot.pause()
        lines = names(table)
        start = lines.index("app.web.handle_order (coro)")
        assert lines[start:start + 4] == [
            "app.web.handle_order (coro)",
            "└─ app.store.fetch",
            "   └─ app.store.retry_later",
            "      └─ timer 2, due in 25.0s",
        ], lines
        cycle = lines.index("⚠ app.locks.swap")
        assert lines[cycle + 1] == "└─ ⚠ app.locks.swap"
        assert lines[cycle + 2] == "   └─ ⚠ app.locks.swap (shown above)"
        await pilot.press("v")
        await pilot.pause()
        assert names(table)[0] == "app.client.LineClient.connectionMade"


@async_test
async def test_enter_opens_the_deferred_with_the_timer_that_fires_it(
    trace: Trace, clock: FakeClock, open_app: OpenApp
) -> None:
    async with open_app(DeferredsLiveFeed(trace, clock), size=WIDE) as (app, pilot):
        table = await show_tab(app, pilot)
        table.move_cursor(row=column(table, "id").index("d13"))
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DetailScreen) and screen.subject == ("timer", 2)
        fields = static_text(screen.query_one("#detail-fields"))
        assert "Pending Deferred" in fields and "app.store.retry_later" in fields
        assert f"Timer {app.model.short_id(('timer', 2))}" in static_text(screen.query_one("#detail-title"))


@async_test
async def test_thousands_pending_stay_bounded_and_say_what_was_left_out(
    trace: Trace, clock: FakeClock, open_app: OpenApp
) -> None:
    async with open_app(DeferredsLiveFeed(trace, clock, extra=3_000), size=NARROW) as (
        app, pilot
    ):
        table = await show_tab(app, pilot)
        assert table.row_count <= DeferredsTable.MAX_ROWS + 3
        assert any(n.startswith("… 40 more pending") for n in names(table)), names(table)[-4:]
        assert app._tabs.get_tab("deferreds").label.plain == "Deferreds 3050 ⚠"
        await pilot.press("v")  # the tree of 3 000 roots is cut too
        await pilot.pause()
        assert table.row_count <= DeferredsTable.MAX_ROWS + 3


@async_test
async def test_without_the_view_the_tab_says_so(
    trace: Trace, clock: FakeClock, open_app: OpenApp
) -> None:
    async with open_app(RecordedLiveFeed(trace, clock), size=NARROW) as (app, pilot):
        table = await show_tab(app, pilot)
        assert [n[:17] for n in names(table)] == ["No Deferreds view"]
        assert app._tabs.get_tab("deferreds").label.plain == "Deferreds"


@SIZES
def test_deferreds_view(
    snap_compare: Any, trace: Trace, clock: FakeClock, size: tuple[int, int]
) -> None:
    feed = DeferredsLiveFeed(trace, clock)
    clock.advance(1.0)
    assert snap_compare(make_app(feed), press=["7"], terminal_size=size,
                        run_before=play_for(clock, 5))


@SIZES
def test_deferreds_tree(
    snap_compare: Any, trace: Trace, clock: FakeClock, size: tuple[int, int]
) -> None:
    feed = DeferredsLiveFeed(trace, clock)
    clock.advance(1.0)
    assert snap_compare(make_app(feed), press=["7", "v"], terminal_size=size,
                        run_before=play_for(clock, 5))
