"""Fixtures for the core tests: event logs, trace metadata."""

from __future__ import annotations

from typing import Any

import pytest

from .builders import EventLog


@pytest.fixture
def log() -> EventLog:
    return EventLog()


@pytest.fixture
def meta() -> dict[str, Any]:
    return {
        "program": "server.py",
        "argv": ["server.py", "--port", "8080"],
        "pid": 4242,
        "python": "3.11.7",
        "twisted": "26.10.0",
        "reactor": "twisted.internet.epollreactor.EPollReactor",
        "start_wall": 1_700_000_000.25,
        "options": {"slow_ms": 100, "max_events": 1000},
    }


@pytest.fixture
def sample_log(log: EventLog) -> EventLog:
    """A short, plausible run with one event of every kind (args as the recorder fills them)."""
    log.add("system", 0, name="startup", phase="before")
    log.add(
        "conn.open",
        1_000,
        name="app.Echo",
        conn=1,
        fd=7,
        type="tcp",
        local="127.0.0.1:8080",
        peer="127.0.0.1:51000",
        transport="twisted.internet.tcp.Server",
        buffer_size=65_536,
    )
    log.add(
        "timer.schedule",
        2_000,
        name="app.tick",
        timer=1,
        site="app.py:10",
        delay=5_000_000,
        due=5_002_000,
        looping=True,
    )
    log.add(
        "timer.schedule",
        2_500,
        name="app.later",
        timer=2,
        site="app.py:20",
        delay=9_000_000,
        due=9_002_500,
        looping=False,
    )
    log.add("timer.reset", 3_000, name="app.later", timer=2, site="app.py:20", due=12_000_000)
    log.add("io.read", 10_000, 4_000, name="app.Echo", conn=1, fd=7, bytes=512, error=None)
    log.add(
        "io.write", 20_000, 2_000, name="app.Echo", conn=1, fd=7, bytes=512, buffered=0, error=None
    )
    log.add(
        "deferred",
        30_000,
        1_000,
        name="app.on_result",
        outcome="failure",
        failure="builtins.ValueError",
        errback=False,
        site="app.py:33",
        line=None,
    )
    log.add(
        "thread",
        40_000,
        3_000,
        name="app.compute",
        source="pool",
        wait=500,
        thread="PoolThread-1",
        error=None,
    )
    log.add("conn.pause", 50_000, name="app.Echo", conn=1, buffered=70_000)
    log.add("conn.resume", 60_000, name="app.Echo", conn=1, buffered=1_000)
    log.add("conn.halfclose", 70_000, name="app.Echo", conn=1, side="read")
    log.add("deferred.new", 80_000, name="Deferred", deferred=11, site="app.py:60", waits="timer")
    log.add("deferred.fired", 90_000, name="Deferred", deferred=11)
    log.add(
        "deferred.error",
        100_000,
        name="builtins.KeyError",
        deferred=12,
        failure="builtins.KeyError",
        site="app.py:70",
    )
    log.add("deferred.handled", 110_000, name="Deferred", deferred=12)
    log.add(
        "timer",
        5_010_000,
        7_000,
        name="app.tick",
        timer=1,
        site="app.py:10",
        delay=5_000_000,
        late=8_000,
        looping=True,
        error=None,
    )
    log.add("timer.cancel", 5_030_000, name="app.later", timer=2, site="app.py:20")
    log.add(
        "slow",
        5_040_000,
        150_000_000,
        name="app.blocking",
        dispatch="timer",
        site="app.py:50",
        function="blocking",
        stack=["app.py:10 main", "app.py:50 blocking"],
        blocked=150_000_000,
    )
    log.add(
        "warning",
        155_100_000,
        name="slow-callback",
        code="slow",
        message="app.blocking blocked the reactor for 150 ms",
        where="app.py:50",
        subject=None,
    )
    log.add("iteration", 0, 155_200_000, name="iteration", wait=4_000_000)
    log.add("conn.close", 155_300_000, name="app.Echo", conn=1, reason="ConnectionDone")
    log.add("system", 155_400_000, name="shutdown", phase="after")
    return log
