"""Fixtures for the TUI tests: the sample trace, a hand-moved clock, feeds, the app."""

from __future__ import annotations

import pytest

from reactortrace.core.replay import ReplayFeed
from reactortrace.core.trace import Trace

from .helpers import OpenApp
from .helpers import open_app as _open_app
from .sample import FakeClock, RecordedLiveFeed, sample_trace


@pytest.fixture
def trace() -> Trace:
    return sample_trace()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def replay(trace: Trace, clock: FakeClock) -> ReplayFeed:
    """A replay of the sample, paused at the start."""
    return ReplayFeed(trace, clock=clock, playing=False)


@pytest.fixture
def live(trace: Trace, clock: FakeClock) -> RecordedLiveFeed:
    return RecordedLiveFeed(trace, clock)


@pytest.fixture
def open_app() -> OpenApp:
    """Open the app under test on a feed (see :data:`helpers.OpenApp`)."""
    return _open_app
