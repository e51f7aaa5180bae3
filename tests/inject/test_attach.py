"""``reactortrace attach PID`` on programs started the ordinary way, on every reactor.

Each program here is ``python plain.py``: no reactortrace in it. It is
attached to headless (``--no-tui --duration``), its trace read back, and it
must then run to its own end: same output, status 3, every Twisted class as
it was at start-up.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import reactortrace
from reactortrace.inject import attacher
from reactortrace.live.deadman import stacks_path
from reactortrace.live.paths import socket_path

from ..live.fakes import wait_until
from ..reactors import REACTORS
from .conftest import ROOT, Program

PROGRAM_OUTPUT = "ticks>0=True echoed>0=True\nchanged=[]\n"


def record(attach: Callable[..., Any], program: Program, trace: Path,
           duration: str = "1") -> reactortrace.Trace:
    result = attach(str(program.pid), "--no-tui", "--duration", duration, "-o", str(trace))
    assert result.returncode == 0, result.stderr
    assert f"wrote {trace}" in result.stderr
    assert program.process.poll() is None, "the program ended"
    return reactortrace.load(str(trace))


def assert_sees_the_program(trace: reactortrace.Trace, pid: int) -> None:
    assert trace.meta["pid"] == pid
    timers = {timer.name: timer for timer in trace.snapshot.timers}
    assert timers["far_away"].site == "before attach"
    assert timers["far_away"].due_in > 3000 * 10**9  # made for an hour from start-up
    assert any(t.name == "tick" and t.looping for t in trace.snapshot.timers)
    kinds = {conn.type for conn in trace.snapshot.connections}
    assert {"tcp.listen", "tcp", "tcp.client"} <= kinds, kinds
    protocols = {conn.protocol for conn in trace.snapshot.connections}
    assert {"__main__.Echo", "__main__.Talker"} <= protocols, protocols
    seen = {event.kind for event in trace.events}
    assert {"timer", "io.read", "io.write", "iteration"} <= seen, seen
    assert any(e.kind == "timer" and e.name == "tick" for e in trace.events)


@pytest.mark.parametrize("reactor", REACTORS)
def test_attach_records_a_plain_program_which_then_runs_on_as_before(
    reactor: str, start: Callable[..., Program], attach: Callable[..., Any], tmp_path: Path,
    runtime: str,
) -> None:
    program = start(reactor, "120")
    first = record(attach, program, tmp_path / "first.json")
    assert_sees_the_program(first, program.pid)
    assert first.meta["reactor"].split(".")[-1].lower().startswith(reactor[:4])
    # Detached: the live socket is gone. Attaching again works.
    assert not os.path.exists(socket_path(program.pid, os.path.join(runtime, "reactortrace")))
    second = record(attach, program, tmp_path / "second.json")
    assert_sees_the_program(second, program.pid)
    status, out, err = program.stop()
    assert (status, out) == (3, PROGRAM_OUTPUT), err
    assert "Traceback" not in err and "reactortrace" not in err, err
    assert "far_away fired" not in out


def test_twenty_attach_detach_cycles_leave_threads_and_memory_as_they_were(
    start: Callable[..., Program], attach: Callable[..., Any], tmp_path: Path
) -> None:
    program = start("epoll", "600")
    threads = program.threads()
    record(attach, program, tmp_path / "warm.json", "0.1")  # reactortrace is imported now
    # The threads of an attachment end right after it has said "detached".
    wait_until(lambda: program.threads() == threads)
    rss = program.rss_kb()
    for cycle in range(20):
        record(attach, program, tmp_path / f"{cycle}.json", "0.1")
        wait_until(lambda: program.threads() == threads)
    grown = program.rss_kb() - rss
    assert grown < 8 * 1024, f"RSS grew {grown} kB over 20 cycles"
    status, out, err = program.stop()
    assert (status, out) == (3, PROGRAM_OUTPUT), err


def test_an_idle_reactor_is_reached(
    start: Callable[..., Program], attach: Callable[..., Any], tmp_path: Path
) -> None:
    """No timers, no I/O: the reactor sleeps in its poll with no timeout."""
    program = start("epoll", "600", "--idle")
    began = time.monotonic()
    trace = record(attach, program, tmp_path / "idle.json", "0.1")
    took = time.monotonic() - began
    assert trace.meta["pid"] == program.pid
    assert {conn.type for conn in trace.snapshot.connections} == {"waker"}
    # gdb, the bootstrap, importing reactortrace in the target and recording
    # 0.1 s: two seconds on an idle machine, more on a loaded one.
    assert took < 10, took
    print(f"idle reactor attached and recorded in {took:.2f} s")
    status, out, err = program.stop()
    assert status == 3, err


def test_a_blocked_reactor_is_reported_with_its_stack(
    start: Callable[..., Program], attach: Callable[..., Any], tmp_path: Path
) -> None:
    program = start("epoll", "600", "--block")
    assert program.process.stdout is not None
    assert program.process.stdout.readline() == "blocking\n"
    began = time.monotonic()
    result = attach(str(program.pid), "--no-tui", "--duration", "1", "-o",
                    str(tmp_path / "t.json"))
    took = time.monotonic() - began
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert "the reactor is blocked" in result.stderr
    assert "in block" in result.stdout and "time.sleep(seconds)" in result.stdout, result.stdout
    assert took < 10, took
    print(f"blocked reactor reported in {took:.2f} s")
    assert not (tmp_path / "t.json").exists()
    assert program.process.poll() is None


def test_a_second_attach_reuses_the_live_socket(
    start: Callable[..., Program], env: dict[str, str], runtime: str,
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", runtime)
    program = start("epoll", "600")
    first = attacher.attach(program.pid, output=str(tmp_path / "t.json"))
    try:
        assert first.injected and os.path.exists(first.socket)
        # The dead man's switch beside it: stacks for viewers while C code holds the GIL.
        assert os.path.exists(stacks_path(first.socket))
        second = attacher.attach(program.pid)
        assert not second.injected and second.socket == first.socket
        assert [t.name for t in os.scandir(f"/proc/{program.pid}/task")]
        assert first.write()["state"] == "wrote"
    finally:
        first.detach()
    assert not os.path.exists(first.socket)
    assert not os.path.exists(stacks_path(first.socket))
    status, out, err = program.stop()
    assert (status, out) == (3, PROGRAM_OUTPUT), err


def start_attacher(env: dict[str, str], pid: int, *args: str) -> subprocess.Popen[str]:
    """A headless ``attach`` running in the background, once it has attached."""
    command = [sys.executable, "-m", "reactortrace", "attach", str(pid), "--no-tui", *args]
    attacher_process = subprocess.Popen(command, env={**env, "PYTHONPATH": str(ROOT)},
                                        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                        text=True)
    assert attacher_process.stderr is not None
    line = attacher_process.stderr.readline()
    assert "attached to process" in line, line + attacher_process.stderr.read()
    return attacher_process


def live_socket(runtime: str, pid: int) -> str:
    return socket_path(pid, os.path.join(runtime, "reactortrace"))


def test_the_program_ending_while_attached_writes_the_trace(
    start: Callable[..., Program], attach: Callable[..., Any], tmp_path: Path
) -> None:
    program = start("epoll", "4")
    trace = tmp_path / "end.json"
    result = attach(str(program.pid), "--no-tui", "-o", str(trace))
    assert result.returncode == 0, result.stderr
    assert result.stderr.count(f"wrote {trace}") == 1, result.stderr
    status, out, err = program.process.wait(60), *program.process.communicate()
    assert status == 3 and out == PROGRAM_OUTPUT, err
    assert any(e.kind == "timer" and e.name == "tick" for e in reactortrace.load(str(trace)).events)


def test_sigterm_ends_a_headless_attach_cleanly(
    start: Callable[..., Program], env: dict[str, str], runtime: str, tmp_path: Path
) -> None:
    program = start("epoll", "600")
    trace = tmp_path / "term.json"
    attaching = start_attacher(env, program.pid, "-o", str(trace))
    assert os.path.exists(live_socket(runtime, program.pid))
    attaching.send_signal(signal.SIGTERM)
    _, err = attaching.communicate(timeout=60)
    assert attaching.returncode == 0, err
    assert f"wrote {trace}" in err
    assert reactortrace.load(str(trace)).meta["pid"] == program.pid
    assert not os.path.exists(live_socket(runtime, program.pid))
    status, out, err = program.stop()
    assert (status, out) == (3, PROGRAM_OUTPUT), err


def test_an_attacher_killed_outright_leaves_the_program_detached(
    start: Callable[..., Program], env: dict[str, str], runtime: str
) -> None:
    program = start("epoll", "600")
    threads = program.threads()
    attaching = start_attacher(env, program.pid)
    assert program.threads() > threads  # the attach thread and the live server's
    attaching.kill()
    attaching.communicate(timeout=60)
    wait_until(lambda: not os.path.exists(live_socket(runtime, program.pid)), timeout=30)
    wait_until(lambda: program.threads() == threads, timeout=30)
    status, out, err = program.stop()
    assert (status, out) == (3, PROGRAM_OUTPUT), err
