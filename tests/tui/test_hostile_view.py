"""The UI on hostile traces: whatever ``load`` accepts it shows, names as plain text.

Every view is visited (and a detail screen opened from each table) on crafted
traces whose names are markup and terminal escapes, and on mutations of a
valid trace; an exception in the app fails the test (Pilot re-raises it).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from textual.widgets import DataTable, Static

from reactortrace.core.replay import ReplayFeed
from reactortrace.errors import TraceFileError
from reactortrace.formats import load

from ..formats.hostile import CONTROL, corpus
from ..formats.test_hostile import mutated
from .helpers import WIDE, make_app, plain, rows

ACCEPTED = ("valid", "valid jsonl", "evil names everywhere", "evil names jsonl", "jsonl cut")
CORPUS = corpus()


async def visit_every_view(path: Path) -> list[str]:
    """Open the app at the end of the trace in ``path``, go through every view and
    open each table's first row; every text shown, as plain strings."""
    trace = load(path)
    feed = ReplayFeed(trace, playing=False)
    feed.seek(trace.duration)
    app = make_app(feed)
    app.animation_level = "none"
    shown: list[str] = []
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        for key in "123456":
            await pilot.press(key)
            await pilot.pause()
            for table in app.screen.query(DataTable):
                shown += [cell for row in rows(table) for cell in row]
            await pilot.press("enter")
            await pilot.pause()
            shown += [plain(static.content) for static in app.screen.query(Static)]
            await pilot.press("escape")
            await pilot.pause()
        shown.append(app._header.render().plain)
    return shown


@pytest.mark.parametrize("name", ACCEPTED)
def test_every_view_shows_crafted_names_as_text(tmp_path: Path, name: str) -> None:
    path = tmp_path / "trace.json"
    path.write_bytes(CORPUS[name])
    shown = asyncio.run(visit_every_view(path))
    for text in shown:
        assert CONTROL.search(text) is None, text
    if name.startswith("evil"):
        everything = "\n".join(shown)
        assert "[bold red]" in everything  # shown, not taken as a style
        assert "\\x1b" in everything


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=mutated())
def test_mutations_that_load_never_crash_the_ui(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    path = tmp_path_factory.mktemp("mutant") / "trace.json"
    path.write_bytes(data)
    try:
        load(path)
    except TraceFileError:
        return  # refused before any UI: the summary tests cover it
    shown: Any = asyncio.run(visit_every_view(path))
    for text in shown:
        assert CONTROL.search(text) is None, text


def test_a_failing_ui_is_reported_not_hidden(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The UI raising inside: show() says so and ``view`` exits 1, not 0."""
    from textual.app import App

    from reactortrace.cli import view as view_command
    from reactortrace.tui import app as app_module
    from reactortrace.tui import run as run_module

    def crash(self: Any) -> None:
        raise RuntimeError("a bug in a widget")

    def headless_run(self: Any) -> Any:
        return App.run(self, headless=True, size=WIDE)

    monkeypatch.setattr(app_module.ReactorTraceApp, "on_mount", crash)
    monkeypatch.setattr(app_module.ReactorTraceApp, "run", headless_run)
    monkeypatch.setattr(run_module, "require_terminal", lambda command: None)
    path = tmp_path / "trace.json"
    path.write_bytes(CORPUS["valid"])
    with pytest.raises(run_module.UIFailed):
        run_module.show(ReplayFeed(load(path), playing=False))
    assert view_command.main([str(path)]) == 1


@pytest.mark.parametrize("name", ["NaN", "unknown kind", "duplicate seq", "zeros", "empty"])
def test_view_refuses_a_bad_file_before_the_ui(tmp_path: Path, name: str) -> None:
    from ..formats.hostile import check_outcome, run_cli

    path = tmp_path / "trace.json"
    path.write_bytes(CORPUS[name])
    outcome = run_cli("view", str(path))
    check_outcome(outcome)
    assert outcome.status == 2 and str(path) in outcome.err
    assert "terminal" not in outcome.err  # the file was refused, not the missing terminal


def test_markup_typed_in_the_seek_box_is_shown_as_typed(tmp_path: Path) -> None:
    from reactortrace.tui.screens.seek import SeekScreen

    path = tmp_path / "trace.json"
    path.write_bytes(CORPUS["valid"])

    async def seek_to_markup() -> str:
        app = make_app(ReplayFeed(load(path), playing=False))
        async with app.run_test(size=WIDE) as pilot:
            await pilot.press("g")
            await pilot.pause()
            assert isinstance(app.screen, SeekScreen)
            await pilot.press("[", "/", "]", "enter")
            await pilot.pause()
            return plain(app.screen.query_one("#seek-error", Static).content)

    assert "not a duration: '[/]'" in asyncio.run(seek_to_markup())
