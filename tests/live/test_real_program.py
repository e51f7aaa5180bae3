"""Viewers on a real traced program: killing or stalling one changes nothing for it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import reactortrace
from reactortrace.core.feed import ENDED
from reactortrace.live.client import LiveFeed
from reactortrace.live.paths import socket_path

from .fakes import wait_until

WORKLOAD = str(Path(__file__).with_name("workload.py"))
ARGS = ["--rounds", "300", "--pace", "0.005"]
VIEWER = """
import sys, time
from reactortrace.live.client import LiveFeed
feed = LiveFeed(sys.argv[1])
while True:
    update = feed.poll()
    print(len(update.events), update.snapshot.loop.events, flush=True)
    time.sleep(0.05)
"""


@pytest.fixture(scope="module")
def expected() -> str:
    """What the program prints when nothing traces it."""
    result = subprocess.run([sys.executable, WORKLOAD, *ARGS], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def start_traced(runtime: str, trace: str) -> subprocess.Popen[str]:
    env = dict(os.environ, XDG_RUNTIME_DIR=runtime)
    command = [sys.executable, "-m", "reactortrace", "run", "--no-tui", "--listen", "-o", trace,
               WORKLOAD, *ARGS]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def socket_of(runtime: str, program: subprocess.Popen[str]) -> str:
    path = socket_path(program.pid, os.path.join(runtime, "reactortrace"))
    wait_until(lambda: os.path.exists(path) or program.poll() is not None)
    assert program.poll() is None, program.communicate()
    return path


def test_a_viewer_killed_mid_stream_changes_nothing_for_the_program(
    runtime: str, tmp_path: Path, expected: str
) -> None:
    trace = str(tmp_path / "trace.json")
    program = start_traced(runtime, trace)
    try:
        path = socket_of(runtime, program)
        watcher = LiveFeed(path)  # a second viewer, that stays to the end
        viewer = subprocess.Popen([sys.executable, "-c", VIEWER, path], stdout=subprocess.PIPE,
                                  text=True)
        assert viewer.stdout is not None
        seen = 0
        while seen < 3:  # updates that brought events: it is mid-stream
            line = viewer.stdout.readline()
            assert line, "the viewer stopped by itself"
            seen += int(line.split()[0]) > 0
        assert program.poll() is None, "the program ended before the viewer was killed"
        viewer.send_signal(signal.SIGKILL)
        viewer.wait(10)
        viewer.stdout.close()
        stdout, stderr = program.communicate(timeout=60)
        final = wait_until(lambda: (u := watcher.poll()).state == ENDED and u)
        watcher.close()
    finally:
        if program.poll() is None:
            program.kill()
            program.wait()
    assert program.returncode == 0, stderr
    assert "Traceback" not in stderr, stderr
    assert stdout == expected
    assert watcher.end_reason == "stopped"
    recorded = reactortrace.load(trace)
    # The viewer that stayed saw all that was recorded, to the last event.
    assert final.snapshot.loop.events == len(recorded.events)
    assert any(e.kind == "io.read" for e in recorded.events)
    assert not os.path.exists(path)


def test_a_stalled_viewer_changes_nothing_for_the_program(
    runtime: str, tmp_path: Path, expected: str
) -> None:
    program = start_traced(runtime, str(tmp_path / "trace.json"))
    stalled = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        stalled.connect(socket_of(runtime, program))  # never reads
        stdout, stderr = program.communicate(timeout=60)
    finally:
        stalled.close()
        if program.poll() is None:
            program.kill()
            program.wait()
    assert program.returncode == 0, stderr
    assert stdout == expected
