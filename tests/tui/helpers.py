"""Reading what the app shows: table cells, header lines, static contents, as plain text."""

from __future__ import annotations

import asyncio
import functools
import io
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Awaitable, Callable

from rich.console import Console
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from reactortrace.core.feed import Feed
from reactortrace.tui.app import ReactorTraceApp

NARROW = (80, 24)
MEDIUM = (120, 36)
WIDE = (160, 48)


def plain(renderable: Any, width: int = 160) -> str:
    """What a Rich renderable or a cell prints as, without styles."""
    if isinstance(renderable, Text):
        return renderable.plain
    if isinstance(renderable, str):
        return renderable
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def rows(table: DataTable) -> list[list[str]]:
    """Every row of a table as plain cell texts."""
    return [[plain(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def column(table: DataTable, key: str) -> list[str]:
    """One column of a table as plain texts."""
    keys = [str(k.value) for k in table.columns]
    index = keys.index(key)
    return [row[index] for row in rows(table)]


def screen_text(app: Any) -> str:
    """What the screen shows, as plain text lines."""
    update = app.screen._compositor.render_update(full=True)
    return "\n".join("".join(strip.text for strip in line) for line in update.strips)


def static_text(static: Static, width: int = 160) -> str:
    return plain(static.content, width)


def header_text(app: ReactorTraceApp) -> str:
    return app._header.render().plain


def replay_text(app: ReactorTraceApp) -> str:
    assert app._replay_bar is not None
    return app._replay_bar.render().plain


def make_app(feed: Feed, **kwargs: Any) -> ReactorTraceApp:
    """An app that polls rarely on its own: the tests poll when they move the clock."""
    kwargs.setdefault("poll_interval", 30.0)
    app = ReactorTraceApp(feed, **kwargs)
    app.animation_level = "none"
    return app


def async_test(test: Callable[..., Awaitable[None]]) -> Callable[..., None]:
    """Run an async test function (pilot tests) in its own event loop."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return run


#: ``open_app(feed, size=NARROW, at=None, **app_options)``: the app on ``feed``
#: running headless at ``size`` (a replay feed moved to ``at`` ns first).
OpenApp = Callable[..., AbstractAsyncContextManager[tuple[ReactorTraceApp, Pilot[Any]]]]


@asynccontextmanager
async def open_app(
    feed: Feed, size: tuple[int, int] = NARROW, at: int | None = None, **kwargs: Any
) -> AsyncIterator[tuple[ReactorTraceApp, Pilot[Any]]]:
    """The app under test: see :data:`OpenApp`."""
    if at is not None:
        feed.seek(at)  # type: ignore[attr-defined]
    app = make_app(feed, **kwargs)
    async with app.run_test(size=size) as pilot:
        yield app, pilot
