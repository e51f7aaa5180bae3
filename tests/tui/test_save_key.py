"""``t`` saves the watched program's whole recording to a file in the current directory."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

import reactortrace
from reactortrace.core.trace import Trace
from reactortrace.errors import ReactorTraceError

from .helpers import OpenApp, async_test
from .sample import FakeClock, RecordedLiveFeed


class SavingFeed(RecordedLiveFeed):
    """A live stand-in that can send its whole recording (or fail to)."""

    def __init__(self, trace: Trace, clock: FakeClock, fail: str | None = None) -> None:
        super().__init__(trace, clock)
        self.whole = trace
        self.fail = fail

    def save_trace(self) -> Trace:
        if self.fail:
            raise ReactorTraceError(self.fail)
        return self.whole


async def wait_for(condition: Any, pilot: Any, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out"
        await pilot.pause(0.05)


@async_test
async def test_t_writes_the_recording_here(
    trace: Trace, clock: FakeClock, open_app: OpenApp, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    async with open_app(SavingFeed(trace, clock)) as (app, pilot):
        await pilot.press("t")
        await wait_for(lambda: list(tmp_path.glob("reactortrace-4242-*.json")), pilot)
        await wait_for(lambda: any("Saved" in n.message for n in app._notifications), pilot)
    [saved] = tmp_path.glob("reactortrace-4242-*.json")
    assert len(reactortrace.load(str(saved)).events) == len(trace.events)


@async_test
async def test_a_failed_save_is_said_and_writes_nothing(
    trace: Trace, clock: FakeClock, open_app: OpenApp, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    feed = SavingFeed(trace, clock, fail="the program did not send its trace within 60s")
    async with open_app(feed) as (app, pilot):
        await pilot.press("t")
        await wait_for(lambda: any("Could not save" in n.message for n in app._notifications),
                       pilot)
    assert not list(tmp_path.iterdir())


@async_test
async def test_t_does_nothing_on_a_replay(replay: Any, open_app: OpenApp, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    async with open_app(replay) as (app, pilot):
        await pilot.press("t")
        await pilot.pause(0.2)
    assert not list(tmp_path.iterdir())
