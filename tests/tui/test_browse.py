"""Browsing the tables: short ids, a visible cursor, sorting, search, following a row."""

from __future__ import annotations

from typing import Any

from rich.style import Style

from reactortrace.core.replay import ReplayFeed
from reactortrace.tui.screens.detail import DetailScreen
from reactortrace.tui.widgets.event_log import EventLog
from reactortrace.tui.widgets.table import SEARCH_STYLE, ModelTable

from .helpers import MEDIUM, WIDE, OpenApp, async_test, column, static_text
from .sample import CLIENT_CLOSED_AT, FakeClock, RecordedLiveFeed, S

HEARTBEAT = "demo.program.heartbeat"


def watching(open_app: OpenApp, live: RecordedLiveFeed, clock: FakeClock, seconds: float) -> Any:
    """The app, wide, on the live sample ``seconds`` into the run."""
    clock.advance(seconds)
    return open_app(live, size=WIDE)


def table(app: Any, widget_id: str) -> ModelTable:
    return app._main_screen.query_one(f"#{widget_id}", ModelTable)


def event_log(app: Any) -> EventLog:
    return app._main_screen.query_one("#log", EventLog)


def move_cursor(widget: ModelTable | EventLog, row: int) -> None:
    if isinstance(widget, EventLog):
        widget.action_move_to(row)
    else:
        widget.move_cursor(row=row, scroll=True)


def background_at(widget: ModelTable | EventLog, y: int) -> Any:
    """The background colour of a table's line ``y`` (0: the header), as drawn."""
    strip = widget.render_line(y)
    styles = [segment.style or Style() for segment in strip if segment.text.strip()]
    assert styles, f"line {y} is blank"
    return styles[0].bgcolor


def title(app: Any) -> str:
    assert isinstance(app.screen, DetailScreen)
    return static_text(app.screen.query_one("#detail-title"))


async def enter_on(pilot: Any, widget: ModelTable, key: str) -> None:
    widget.focus()
    widget.move_cursor(row=widget._keys.index(key))
    await pilot.press("enter")
    await pilot.pause()


# -- short ids ---------------------------------------------------------------


@async_test
async def test_a_timer_has_one_short_id_in_the_list_the_log_and_the_detail(
    open_app: OpenApp, live: RecordedLiveFeed, clock: FakeClock
) -> None:
    async with watching(open_app, live, clock, 4.5) as (app, pilot):
        await pilot.pause()
        timers = table(app, "side-timers")
        names = column(timers, "name")
        assert HEARTBEAT in names, names
        short = column(timers, "id")[names.index(HEARTBEAT)]
        assert short.startswith("t") and len(short) <= 4
        log = event_log(app)
        abouts = {
            log.cells(entry, entry.name)[4].plain for entry in log._rows
            if entry.event.name == HEARTBEAT and entry.event.kind.startswith("timer")
        }
        # Every tick of the LoopingCall, each a new DelayedCall, by the one id.
        assert abouts and all(a.startswith(f"{short} ↻") for a in abouts), abouts
        await enter_on(pilot, timers, short)
        assert f"Timer {short}" in title(app) and "pending" in title(app)
        assert "no longer pending" not in title(app)
        # Its next tick fires: the detail follows the LoopingCall, still pending.
        clock.advance(1.0)
        app.refresh_feed()
        await pilot.pause()
        assert f"Timer {short}  pending" in title(app)


@async_test
async def test_enter_on_an_old_tick_in_the_log_opens_its_looping_call(
    open_app: OpenApp, live: RecordedLiveFeed, clock: FakeClock
) -> None:
    async with watching(open_app, live, clock, 4.5) as (app, pilot):
        log = event_log(app)
        row, first_tick = next(
            (i, entry.event) for i, entry in enumerate(log._rows)
            if entry.event.name == HEARTBEAT and entry.event.kind == "timer"
        )
        log.focus()
        log.action_move_to(row)
        await pilot.press("enter")
        await pilot.pause()
        short = app.model.short_id(("timer", first_tick.args["timer"]))
        assert f"Timer {short}  pending" in title(app)


# -- the cursor ----------------------------------------------------------------


@async_test
async def test_the_cursor_shows_in_focused_and_unfocused_tables(
    open_app: OpenApp, live: RecordedLiveFeed, clock: FakeClock
) -> None:
    async with watching(open_app, live, clock, 6.0) as (app, pilot):
        widgets: list[ModelTable | EventLog] = [
            table(app, "side-timers"), table(app, "side-connections"), event_log(app)]
        for widget in widgets:
            widget_id = widget.id
            widget.focus()
            await pilot.pause()
            for focused in (True, False):  # the focused table's cursor is brighter still
                if not focused:
                    table(app, "side-callables").focus()
                    await pilot.pause()
                for row in (0, 1):
                    move_cursor(widget, row)
                    await pilot.pause()
                    y = 1 + row - int(widget.scroll_y)  # under the header
                    cursor = background_at(widget, y).get_truecolor()
                    other = background_at(widget, y + (1 if row == 0 else -1)).get_truecolor()
                    # not a tint: a bar that stands out of the rows round it
                    contrast = sum(abs(a - b) for a, b in zip(cursor, other))
                    assert contrast >= 150, (widget_id, focused, row, cursor, other)


@async_test
async def test_home_and_end_go_to_the_first_and_last_row(
    open_app: OpenApp, live: RecordedLiveFeed, clock: FakeClock
) -> None:
    async with watching(open_app, live, clock, 6.0) as (app, pilot):
        for tab, widget_id in (("2", "timers-table"), ("3", "connections-table"),
                               ("4", "callables-table")):
            await pilot.press(tab)
            await pilot.pause()
            widget = table(app, widget_id)
            assert app.focused is widget and widget.row_count > 2
            await pilot.press("end")
            assert widget.cursor_row == widget.row_count - 1, widget_id
            await pilot.press("home")
            assert widget.cursor_row == 0, widget_id


@async_test
async def test_the_row_under_the_cursor_stays_there_when_the_columns_are_laid_out_again(
    open_app: OpenApp, live: RecordedLiveFeed, clock: FakeClock
) -> None:
    """A resize, or a wider value in a column, lays a table's columns out
    again: the row the user chose stays chosen, not the first."""
    async with watching(open_app, live, clock, 4.5) as (app, pilot):
        await pilot.press("2")
        await pilot.pause()
        timers = table(app, "timers-table")
        assert app.focused is timers and len(timers._keys) > 2
        chosen = timers._keys[2]
        timers.move_cursor(row=2)
        before = timers._laid_out_for
        await pilot.resize_terminal(*MEDIUM)
        await pilot.pause()
        assert timers._laid_out_for != before
        assert timers.selected_key == chosen
        timers.natural["name"] = 0  # a wider name comes: the widths are planned again
        app.refresh_feed(throttle=False)
        await pilot.pause()
        assert timers.selected_key == chosen
        await pilot.press("enter")
        await pilot.pause()
        assert f"Timer {chosen}" in title(app)


# -- sorting ---------------------------------------------------------------


@async_test
async def test_any_table_sorts_on_any_column_by_key_or_click(
    open_app: OpenApp, live: RecordedLiveFeed, clock: FakeClock
) -> None:
    async with watching(open_app, live, clock, 6.0) as (app, pilot):
        await pilot.press("3")
        await pilot.pause()
        conns = table(app, "connections-table")
        assert conns.sort_column is None
        await pilot.press("s", "s")  # id, then type
        await pilot.pause()
        assert conns.sort_column == "type"
        types = column(conns, "type")
        assert types == sorted(types, key=str.lower)
        await pilot.press("S")
        await pilot.pause()
        assert column(conns, "type") == sorted(types, key=str.lower, reverse=True)
        # A click on the "out" header: numbers, biggest first, by their value not their text.
        x = next(
            x for x in range(conns.size.width)
            if conns.get_cell_at  # the header row, found by its label
            and _header_at(conns, x) == "out"
        )
        await pilot.click(conns, offset=(x, 0))
        await pilot.pause()
        assert conns.sort_column == "out" and conns.sort_reverse
        outs = [c.bytes_out for c in app.model.snapshot.connections]
        shown = [conns._cells[key] for key in conns._keys]
        index = [k for k, _, _ in conns.shown_columns].index("out")
        assert [cells[index].sort_value for cells in shown] == sorted(outs, reverse=True)
        assert "out▼" in str(conns.columns[conns._column_locations.get_key(index)].label)


def _header_at(widget: ModelTable, x: int) -> str | None:
    """The key of the column under screen column ``x`` of a table."""
    at = 0
    for column_ in widget.ordered_columns:
        width = column_.get_render_width(widget)
        if at <= x < at + width:
            return str(column_.key.value)
        at += width
    return None


# -- search ----------------------------------------------------------------------


@async_test
async def test_search_highlights_matches_and_goes_to_the_next_and_previous(
    open_app: OpenApp, live: RecordedLiveFeed, clock: FakeClock
) -> None:
    async with watching(open_app, live, clock, 6.0) as (app, pilot):
        await pilot.press("4")
        await pilot.pause()
        calls = table(app, "callables-table")
        everything = column(calls, "name")
        await pilot.press("slash", *"program.", "enter")
        await pilot.pause()
        assert app.filter.search == "program." and app.filter.text == ""
        assert app.focused is calls
        assert column(calls, "name") == everything  # a search hides nothing
        matching = [i for i, name in enumerate(everything) if "program." in name]
        assert 2 <= len(matching) < len(everything)
        for i in range(calls.row_count):
            cell = calls.get_row_at(i)[0]
            lit = [cell.plain[s.start:s.end] for s in cell.spans if s.style == SEARCH_STYLE]
            assert lit == (["program."] if i in matching else []), (i, cell.plain)
        calls.move_cursor(row=0)
        seen = []
        for _ in range(len(matching) + 1):
            await pilot.press("right_square_bracket")
            seen.append(calls.cursor_row)
        first_after = [m for m in matching if m > 0] + matching
        assert seen == (first_after[:len(matching)] + [first_after[0]])[:len(seen)] or (
            sorted(set(seen)) == matching
        )
        assert seen[len(matching)] == seen[0]  # it wraps round
        await pilot.press("left_square_bracket")
        assert calls.cursor_row == matching[-1] if seen[0] == matching[0] else True
        # The filter (backslash) hides what does not match, the search stays.
        await pilot.press("backslash", *"crunch", "enter")
        await pilot.pause()
        assert column(calls, "name") == ["demo.program.crunch", "demo.program.on_crunched"]
        assert app.filter.search == "program."


# -- following a row ---------------------------------------------------------------


@async_test
async def test_a_followed_row_keeps_the_cursor_across_updates(
    open_app: OpenApp, live: RecordedLiveFeed, clock: FakeClock
) -> None:
    async with watching(open_app, live, clock, (CLIENT_CLOSED_AT - 1 * S) / S) as (app, pilot):
        await pilot.press("3")
        await pilot.pause()
        conns = table(app, "connections-table")
        conns.move_cursor(row=conns._keys.index("c4"))
        await pilot.press("f")
        assert conns.followed == "c4"
        conns.sort_by("in", reverse=False)  # its place changes with the sort...
        clock.advance(2.0)  # ...and c3 closes: it goes to the end
        app.refresh_feed()
        await pilot.pause()
        assert conns.selected_key == "c4"
        assert conns._keys.index("c4") != 3
        await pilot.press("f")  # stop following
        assert conns.followed is None


@async_test
async def test_a_followed_looping_call_stays_under_the_cursor(
    open_app: OpenApp, replay: ReplayFeed
) -> None:
    replay.seek(2 * S)
    async with open_app(replay, size=WIDE) as (app, pilot):
        await pilot.press("2")
        await pilot.pause()
        timers = table(app, "timers-table")
        short = column(timers, "id")[column(timers, "name").index(HEARTBEAT)]
        timers.move_cursor(row=timers._keys.index(short))
        await pilot.press("f")
        for second in (3, 4, 5, 6):
            replay.seek(second * S)
            app.refresh_feed()
            await pilot.pause()
            assert timers.selected_key == short, second
