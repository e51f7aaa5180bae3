"""Healthy programs run as users run them, under ``reactortrace run``: no warning.

``twistd -n web`` serving static files, stopped by SIGTERM: large files go
through flow control (the transport pauses the file producer whenever its
buffer fills, then resumes it), Twisted keeps its own timers (the log-date
clock, connection timeouts), and the reactor closes the port at shutdown.
The bundled demo without its deliberately slow callback: echo clients, HTTP
polled by an Agent, LoopingCalls, thread-pool jobs, inlineCallbacks and
coroutines. None of that is a fault: the traces must hold no warning.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import reactortrace
from reactortrace.formats.summary import summarize

from ..reactors import REACTORS
from .conftest import ROOT

BIG = 2 * 1024 * 1024
TIMEOUT = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fetch(url: str, deadline: float) -> bytes:
    """GET ``url``, retrying until the server is up (or the deadline passes)."""
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return bytes(response.read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.mark.parametrize("reactor", REACTORS)
def test_twistd_web_static_files_then_sigterm_gives_no_warning(
    tmp_path: Path, reactor: str
) -> None:
    static = tmp_path / "static"
    static.mkdir()
    (static / "big.bin").write_bytes(os.urandom(BIG))
    (static / "index.html").write_bytes(b"<html>hi</html>")
    trace_path = tmp_path / "twistd.json"
    port = free_port()
    twistd = str(Path(sys.executable).parent / "twistd")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("REACTORTRACE_CONFIG", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "reactortrace", "run", "--no-tui", "-o", str(trace_path), "--",
         twistd, f"--reactor={reactor}", "-n", "--pidfile=", "web",
         "--listen", f"tcp:{port}:interface=127.0.0.1", "--path", str(static)],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + TIMEOUT
        base = f"http://127.0.0.1:{port}/"
        assert fetch(base + "index.html", deadline).startswith(b"<html>")
        for _ in range(2):
            assert len(fetch(base + "big.bin", deadline)) == BIG
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert trace_path.exists(), stderr[-3000:]
    trace = reactortrace.load(str(trace_path))
    assert trace.by_kind("conn.pause") and trace.by_kind("conn.resume")  # flow control ran
    assert trace.snapshot is not None and trace.snapshot.warnings == ()
    assert summarize(trace)["warnings"] == []


REACTOR_MODULES = {
    "epoll": "twisted.internet.epollreactor",
    "poll": "twisted.internet.pollreactor",
    "select": "twisted.internet.selectreactor",
    "asyncio": "twisted.internet.asyncioreactor",
}
DEMO = """
import importlib, sys
importlib.import_module(sys.argv[1]).install()
from reactortrace.demo.program import main
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.parametrize("reactor", REACTORS)
def test_the_demo_without_its_slow_callback_gives_no_warning(
    tmp_path: Path, reactor: str
) -> None:
    script = tmp_path / "demo_on.py"
    script.write_text(DEMO)
    trace_path = tmp_path / "demo.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("REACTORTRACE_CONFIG", None)
    done = subprocess.run(
        [sys.executable, "-m", "reactortrace", "run", "--no-tui", "-q", "-o", str(trace_path),
         str(script), REACTOR_MODULES[reactor], "--duration", "3", "--no-slow", "--quiet"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=TIMEOUT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "slow=0" in done.stdout and "errors=0" in done.stdout
    trace = reactortrace.load(str(trace_path))
    assert trace.by_kind("timer") and trace.by_kind("io.read") and trace.by_kind("thread")
    assert trace.snapshot is not None and trace.snapshot.warnings == ()
    assert summarize(trace)["warnings"] == []
