"""The one request a viewer can make: ``save``, answered with the whole recording,
even while the program's reactor is blocked."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from reactortrace.core import events as ev
from reactortrace.errors import ReactorTraceError
from reactortrace.live.client import LiveFeed
from reactortrace.live.server import LiveServer

from .fakes import FakeProgram, wait_until
from .test_real_program import socket_of

STUCK = str(Path(__file__).parent.parent / "e2e" / "stuck.py")


@pytest.fixture
def stuck(runtime: str, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str, Path]]:
    """A program blocked for 20 s one second in, listening; (process, socket, marker)."""
    marker = tmp_path / "blocked"
    command = [sys.executable, "-m", "reactortrace", "run", "--no-tui", "-q", "--listen", STUCK,
               str(marker)]
    program = subprocess.Popen(command, env=dict(os.environ, XDG_RUNTIME_DIR=runtime),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        yield program, socket_of(runtime, program), marker
    finally:
        program.kill()
        program.communicate(timeout=30)


def test_save_while_blocked_brings_the_whole_ring_and_the_block(stuck) -> None:  # type: ignore[no-untyped-def]
    program, path, marker = stuck
    wait_until(marker.exists, timeout=30)
    feed = LiveFeed(path)
    try:
        # A live viewer sees the block as it goes on...
        blocked = wait_until(lambda: feed.poll().snapshot.blocked, timeout=10)
        assert blocked.function == "wait_for_the_disk"
        trace = feed.save_trace(timeout=30)
    finally:
        feed.close()
    # ...and the saved trace holds every event so far and the block as it is now.
    assert program.poll() is None, "the program was disturbed"
    kinds = {event.kind for event in trace.events}
    assert {ev.TIMER, ev.TIMER_SCHEDULE, ev.SLOW} <= kinds
    [slow] = [e for e in trace.events if e.kind == ev.SLOW]
    assert slow.args["ongoing"] is True and slow.args["function"] == "wait_for_the_disk"
    assert trace.snapshot is not None and trace.snapshot.blocked is not None
    assert trace.meta["pid"] == program.pid
    assert [e.seq for e in trace.events] == sorted(e.seq for e in trace.events)


def test_save_brings_every_event_in_order(program: FakeProgram, server: LiveServer) -> None:
    program.add_timers(12_000)  # more than one message of events
    feed = LiveFeed(server.path)
    try:
        trace = feed.save_trace(timeout=30)
        assert [e.seq for e in trace.events] == list(range(12_000))
        assert trace.meta == program.meta and trace.dropped == 3
        assert trace.snapshot is not None and trace.snapshot.loop.events > 0
        # The stream goes on as before.
        program.add_timers(5)
        wait_until(lambda: feed.poll().snapshot.loop.events == 12_005)
    finally:
        feed.close()


def test_a_viewer_of_another_user_gets_nothing(
    program: FakeProgram, server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reactortrace.live import server as server_module

    program.add_timers(10)
    feed = LiveFeed(server.path)
    # Connected, then seen as another user when it asks (the server checks both times).
    monkeypatch.setattr(server_module, "peer_uid", lambda sock: os.getuid() + 4242)
    try:
        with pytest.raises(ReactorTraceError, match="only the program's user"):
            feed.save_trace(timeout=10)
        assert "trace" not in program.calls
    finally:
        feed.close()


def test_junk_from_a_viewer_drops_that_viewer_only(program: FakeProgram, server: LiveServer) -> None:
    good = LiveFeed(server.path)
    junk = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        junk.connect(server.path)
        wait_until(lambda: server.viewers == 2)
        junk.sendall(b'{"type": "save", "x": 1}\n' + b"x" * 10_000)  # not a request, then too long
        wait_until(lambda: server.viewers == 1)
        assert "trace" not in program.calls
        program.add_timers(3)
        wait_until(lambda: good.poll().snapshot.loop.events == 3)
    finally:
        junk.close()
        good.close()
