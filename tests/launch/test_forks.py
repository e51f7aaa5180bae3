"""Programs that fork, recorded by ``reactortrace run``: a child never touches
the parent's trace; one that goes on with Twisted records into a file and a
socket of its own; a daemonizing ``twistd`` keeps its trace, stream and live
server, and no socket is left behind."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import reactortrace
from reactortrace.core.trace import Trace
from reactortrace.live.client import LiveFeed
from reactortrace.live.paths import process_ended, resolve_target, socket_path

from ..cli.conftest import ROOT
from ..live.fakes import short_tempdir

PROGRAMS = Path(__file__).with_name("programs")
REACTORS = ("epoll", "asyncio")
FORMATS = ("json", "jsonl")


@pytest.fixture
def runtime() -> Iterator[Path]:
    """XDG_RUNTIME_DIR for the program: its live sockets go in ``reactortrace/`` there."""
    path = Path(short_tempdir())
    yield path
    shutil.rmtree(path, ignore_errors=True)


def environment(runtime: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "REACTORTRACE_CONFIG"}
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH")
                                     else "")
    return {**env, "XDG_RUNTIME_DIR": str(runtime), **extra}


def files(runtime: Path) -> list[str]:
    """Everything in the runtime directory (sockets, the stacks files beside them)."""
    directory = runtime / "reactortrace"
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def sockets(runtime: Path) -> list[str]:
    return [name for name in files(runtime) if name.endswith(".sock")]


def traces(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("trace"))


def ticks(trace: Trace) -> list[object]:
    return [e for e in trace.by_kind("timer") if e.name == "tick"]


def wait_until(condition, timeout: float = 30.0, what: str = "condition"):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"no {what} after {timeout} s"
        time.sleep(0.05)


def run_forking(tmp_path: Path, runtime: Path, reactor: str, fmt: str, mode: str
                ) -> tuple[int, str, str]:
    """Run programs/forking.py traced (listening too); (its pid, stdout, stderr)."""
    command = [sys.executable, "-m", "reactortrace", "run", "--no-tui", "--listen",
               "-o", str(tmp_path / f"trace.{fmt}"),
               str(PROGRAMS / "forking.py"), reactor, mode]
    program = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=environment(runtime))
    out, err = program.communicate(timeout=120)
    assert program.returncode == 0, out + err
    return program.pid, out, err


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("reactor", REACTORS)
@pytest.mark.parametrize("mode", ["exit-before-run", "exit-in-callback", "worker", "preexec"])
def test_a_child_that_never_runs_the_reactor_leaves_the_parents_trace_alone(
    tmp_path: Path, runtime: Path, reactor: str, fmt: str, mode: str
) -> None:
    pid, out, err = run_forking(tmp_path, runtime, reactor, fmt, mode)
    assert "parent ticks 30 child status 0" in out, out + err
    if mode == "exit-before-run":
        assert "child exits" in out
    if mode == "worker":
        assert "worker results [0, 1, 4, 9]" in out
    if mode == "preexec":
        assert "exec child" in out
    assert traces(tmp_path) == [f"trace.{fmt}"], err  # nothing from the child, no stray file
    trace = reactortrace.load(str(tmp_path / f"trace.{fmt}"))
    assert trace.complete
    assert trace.meta["pid"] == pid and "forked_from" not in trace.meta
    assert len(ticks(trace)) == 29  # the first tick is run by LoopingCall.start itself
    assert err.count("reactortrace: wrote") == 1, err
    assert files(runtime) == []


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("reactor", ["poll", "asyncio"])  # epoll: see programs/forking.py
def test_a_child_that_goes_on_with_the_reactor_records_into_its_own_file(
    tmp_path: Path, runtime: Path, reactor: str, fmt: str
) -> None:
    pid, out, err = run_forking(tmp_path, runtime, reactor, fmt, "carry-on")
    assert "child ticks 5" in out and "parent ticks 30 child status 0" in out, out + err
    [child_file] = [name for name in traces(tmp_path) if name != f"trace.{fmt}"]
    child_pid = int(child_file.removeprefix("trace-").removesuffix(f".{fmt}"))
    assert child_file == f"trace-{child_pid}.{fmt}"
    parent = reactortrace.load(str(tmp_path / f"trace.{fmt}"))
    child = reactortrace.load(str(tmp_path / child_file))
    assert parent.complete and child.complete  # jsonl: neither has the other's lines
    assert parent.meta["pid"] == pid and "forked_from" not in parent.meta
    assert len(ticks(parent)) == 29
    assert child.meta["pid"] == child_pid and child.meta["forked_from"] == pid
    # The parent's two timer ticks before the fork (the second ends in the
    # child, which forked in it), then the child's own five.
    assert len(ticks(child)) == 7
    namespace = os.stat("/proc/self/ns/pid").st_ino  # the child's: the same as ours
    socket = f"{runtime}/reactortrace/{child_pid}-{namespace}.sock"
    assert f"listening on {socket} (forked from {pid})" in err
    assert files(runtime) == []  # each removed its own


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("reactor", REACTORS)
def test_a_daemon_style_child_of_a_running_reactor_records_into_its_own_file(
    tmp_path: Path, runtime: Path, reactor: str, fmt: str
) -> None:
    # The parent ends with os._exit right after the fork: output ends when the child's does.
    pid, out, err = run_forking(tmp_path, runtime, reactor, fmt, "detach")
    assert out == "child ticks 5\n", out + err
    [child_file] = [name for name in traces(tmp_path) if name != f"trace.{fmt}"]
    child_pid = int(child_file.removeprefix("trace-").removesuffix(f".{fmt}"))
    child = reactortrace.load(str(tmp_path / child_file))
    assert child.complete and child.meta["pid"] == child_pid and child.meta["forked_from"] == pid
    assert len(ticks(child)) == 7
    if fmt == "jsonl":  # the parent's own stream, cut short by its os._exit, alone in its file
        parent = reactortrace.load(str(tmp_path / "trace.jsonl"))
        assert not parent.complete and parent.meta["pid"] == pid
        assert len(ticks(parent)) <= 2
    else:  # the path was the parent's (its reactor ran first); it wrote nothing
        assert not (tmp_path / "trace.json").exists()
    assert files(runtime) == []  # the child removed its own and its parent's


BEAT_LINE = b'"kind":"timer","name":"daemon.beat"'  # a beat run, in a jsonl stream


def start_daemon(tmp_path: Path, runtime: Path, reactor: str, fmt: str) -> tuple[Path, int]:
    """``twistd`` without ``-n``, traced: the trace path and the daemon's pid.

    The launcher (become twistd) exits as soon as the daemon has started.
    """
    twistd = os.path.join(os.path.dirname(sys.executable), "twistd")
    trace = tmp_path / f"trace.{fmt}"
    marker = tmp_path / "beats"
    command = [sys.executable, "-m", "reactortrace", "run", "--no-tui", "--listen",
               "-o", str(trace), "--", twistd, f"--reactor={reactor}",
               f"--pidfile={tmp_path / 'twistd.pid'}", f"--logfile={tmp_path / 'twistd.log'}",
               "-y", str(PROGRAMS / "daemon.tac")]
    launcher = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True,
                              timeout=60, env=environment(runtime, DAEMON_MARKER=str(marker)))
    assert launcher.returncode == 0, launcher.stdout + launcher.stderr

    def beats() -> tuple[int, int] | None:
        try:
            pid, count = marker.read_text().split()
        except (OSError, ValueError):
            return None
        return (int(pid), int(count)) if int(count) >= 10 else None

    daemon, _ = wait_until(beats, what="daemon beats")
    assert daemon != launcher  # it is a grandchild
    return trace, daemon


def stop_daemon(pid: int, signum: int) -> None:
    os.kill(pid, signum)
    wait_until(lambda: process_ended(pid), what=f"end of the daemon {pid}")


def beats(trace: Trace) -> list[object]:
    return [e for e in trace.by_kind("timer") if e.name.endswith("beat")]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("reactor", REACTORS)
def test_a_daemonizing_twistd_is_recorded_served_and_written_at_sigterm(
    tmp_path: Path, runtime: Path, reactor: str, fmt: str
) -> None:
    trace_path, daemon = start_daemon(tmp_path, runtime, reactor, fmt)
    try:
        # attach PID: the daemon serves its own socket, named for its pid.
        feed = LiveFeed(resolve_target(str(daemon), str(runtime / "reactortrace")))
        try:
            assert feed.meta["pid"] == daemon
            seen: list[object] = []

            def live_beats() -> bool:
                seen.extend(e for e in feed.poll().events if e.name.endswith("beat"))
                return len(seen) >= 3

            wait_until(live_beats, what="beats seen live")
        finally:
            feed.close()
        # The launcher's socket (the twistd parent ended with os._exit) is removed.
        daemon_socket = os.path.basename(socket_path(daemon))
        wait_until(lambda: sockets(runtime) == [daemon_socket], what="only the daemon's socket")
        if fmt == "jsonl":  # streamed as it runs: more than the meta line
            wait_until(lambda: BEAT_LINE in trace_path.read_bytes(), what="streamed beats")
    finally:
        stop_daemon(daemon, signal.SIGTERM)
    assert traces(tmp_path) == [trace_path.name]  # the daemon took the path asked for
    trace = reactortrace.load(str(trace_path))
    assert trace.complete
    assert trace.meta["pid"] == daemon and trace.meta["forked_from"] != daemon
    assert len(beats(trace)) >= 9  # ten beats or more; the first is not run by a timer
    # The watchdog ran in the daemon: it took the stack of the blocking beat.
    assert [e.args["function"] for e in trace.by_kind("slow")] == ["beat"]
    assert any(e.name == "shutdown" for e in trace.by_kind("system"))
    assert files(runtime) == []


@pytest.mark.parametrize("reactor", REACTORS)
def test_a_daemonizing_twistd_killed_with_sigkill_leaves_a_loadable_stream(
    tmp_path: Path, runtime: Path, reactor: str
) -> None:
    trace_path, daemon = start_daemon(tmp_path, runtime, reactor, "jsonl")
    try:
        wait_until(lambda: trace_path.read_bytes().count(BEAT_LINE) >= 5, what="streamed beats")
    finally:
        stop_daemon(daemon, signal.SIGKILL)
    trace = reactortrace.load(str(trace_path))
    assert not trace.complete  # no end line: cut short by the kill
    assert trace.meta["pid"] == daemon
    assert len(beats(trace)) >= 5
