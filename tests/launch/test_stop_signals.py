"""A stop signal while the reactor is blocked: the trace is written within 3 s, and the
program's own handling of the signal (its handler, twistd's, the default action) goes
on as it would untraced: same output, same exit status."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ..files import seconds_until_exists

PROGRAMS = Path(__file__).with_name("programs")


def start(argv: list[str], trace: Path | None, **env: str) -> subprocess.Popen[str]:
    traced = [sys.executable, "-m", "reactortrace", "run", "--no-tui", "-q", "-o", str(trace)]
    command = [*(traced if trace else [sys.executable]), *argv]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **env})



def signal_when_blocked(program: subprocess.Popen[str], marker: Path, signum: int) -> None:
    seconds_until_exists(marker, timeout=30)
    time.sleep(0.3)  # past the 100 ms slow threshold, so the block is known
    program.send_signal(signum)


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def slow(trace: dict[str, Any]) -> list[dict[str, Any]]:
    return [event for event in trace["events"] if event["kind"] == "slow"]


def test_own_sigterm_handler_runs_and_the_exit_is_unchanged(tmp_path: Path) -> None:
    outcomes = []
    for trace in (None, tmp_path / "trace.json"):
        marker = tmp_path / f"marker-{trace is not None}"
        program = start([str(PROGRAMS / "own_handler.py"), str(marker)], trace)
        signal_when_blocked(program, marker, signal.SIGTERM)
        if trace is not None:
            assert seconds_until_exists(trace, timeout=3.0) <= 3.0
            early = load(trace)
            assert early["meta"]["written_on_signal"]["signal"] == "SIGTERM"
            assert early["meta"]["written_on_signal"]["blocked"]["name"].endswith("job_that_waits")
        out, err = program.communicate(timeout=60)
        outcomes.append((program.returncode, out))
    assert outcomes[0] == outcomes[1] == (7, "handled SIGTERM\nblock over\nstopped\n"), outcomes
    final = load(tmp_path / "trace.json")  # rewritten when the program ended
    assert "written_on_signal" not in final["meta"]
    [block] = slow(final)
    assert block["dur"] >= 2.5e9 and not block["args"].get("ongoing"), block


def test_reactor_on_another_thread_default_sigterm(tmp_path: Path) -> None:
    statuses = []
    for trace in (None, tmp_path / "trace.json"):
        marker = tmp_path / f"marker-{trace is not None}"
        program = start([str(PROGRAMS / "thread_reactor.py"), str(marker)], trace)
        signal_when_blocked(program, marker, signal.SIGTERM)
        program.communicate(timeout=60)
        statuses.append(program.returncode)
    assert statuses == [-signal.SIGTERM, -signal.SIGTERM]
    trace = load(tmp_path / "trace.json")
    assert trace["meta"]["written_on_signal"]["blocked"]["function"] == "job_that_waits"
    assert slow(trace)[0]["args"]["ongoing"] is True


def test_twistd_sigterm_while_blocked(tmp_path: Path) -> None:
    trace = tmp_path / "trace.json"
    marker = tmp_path / "marker"
    twistd = os.path.join(os.path.dirname(sys.executable), "twistd")
    program = start(["--", twistd, "-n", "--pidfile=", "--logfile=-", "-y",
                     str(PROGRAMS / "stuck.tac")], trace, STUCK_MARKER=str(marker))
    try:
        signal_when_blocked(program, marker, signal.SIGTERM)
        assert seconds_until_exists(trace, timeout=3.0) <= 3.0
        written = load(trace)
        assert written["meta"]["written_on_signal"]["blocked"]["site"].endswith("stuck.tac:12")
        assert slow(written)[0]["args"]["function"] == "job_that_waits"
    finally:
        program.kill()
        program.communicate(timeout=60)


def test_sighup_with_no_handler_writes_the_trace_and_still_ends_the_program(
    tmp_path: Path,
) -> None:
    """The terminal hangs up on a program that leaves SIGHUP to its default action:
    it ends by SIGHUP as untraced, and the trace is written first."""
    statuses = []
    for trace in (None, tmp_path / "trace.json"):
        marker = tmp_path / f"marker-{trace is not None}"
        program = start([str(PROGRAMS / "ticking.py"), str(marker)], trace)
        seconds_until_exists(marker, timeout=30)
        program.send_signal(signal.SIGHUP)
        program.communicate(timeout=60)
        statuses.append(program.returncode)
    assert statuses == [-signal.SIGHUP, -signal.SIGHUP]
    written = load(tmp_path / "trace.json")
    assert written["meta"]["written_on_signal"]["signal"] == "SIGHUP"
    assert any(event["kind"] == "timer" for event in written["events"])
