"""End to end: a reactor stuck for 20 s is seen as stuck, and its trace survives quitting.

The program (``stuck.py``) blocks in ``wait_for_the_disk`` one second in. In a
real terminal the TUI must name the callable and the blocking function with an
elapsed time that grows; quitting while it is blocked must keep the TUI open,
saying so, and leave the trace file within 3 s, holding the slow event with the
blocking line; a second ``q`` kills the program. Without the TUI,
SIGTERM must do the same.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ..files import seconds_until_exists
from .terminal import Terminal, at_prompt

STUCK = str(Path(__file__).with_name("stuck.py"))
BLOCKING_LINE = f"stuck.py:{next(i for i, line in enumerate(open(STUCK), 1) if 'the blocking line' in line)}"
ELAPSED = re.compile(r"BLOCKED (\d+(?:\.\d+)?)(ms|s)")



def slow_events(path: Path) -> list[dict[str, Any]]:
    trace = json.loads(path.read_text())
    return [event for event in trace["events"] if event["kind"] == "slow"]


def seconds(match: re.Match[str]) -> float:
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "ms" else value


def test_tui_shows_the_block_growing_and_q_keeps_the_trace(
    terminal: Terminal, tmp_path: Path
) -> None:
    trace = tmp_path / "trace.json"
    marker = tmp_path / "blocked"
    terminal.type(f"{sys.executable} -m reactortrace run -o {trace} {STUCK} {marker}; echo EXIT=$?")
    terminal.wait_for(lambda s: marker.exists(), timeout=30)
    blocked_at = time.monotonic()
    screen = terminal.wait_for(lambda s: ELAPSED.search(s) and "wait_for_the_disk" in s, timeout=10)
    assert time.monotonic() - blocked_at < 2.0 + 1.0, "the block took too long to show"
    assert "job_that_waits" in screen and BLOCKING_LINE in screen, screen
    first = seconds(ELAPSED.search(screen))  # type: ignore[arg-type]
    screen = terminal.wait_for(
        lambda s: (m := ELAPSED.search(s)) is not None and seconds(m) >= first + 1.0, timeout=10)
    assert "util 100%" in screen, screen

    terminal.press("q")
    # The TUI stays open and says what it does while the program stops.
    screen = terminal.wait_for("press q again to kill", timeout=3)
    assert "blocked in" in screen and "job_that_waits" in screen and "writing the trace" in screen
    assert not re.search(r"EXIT=\d+", screen)
    assert seconds_until_exists(trace, timeout=3.0) <= 3.0
    slow = slow_events(trace)
    assert slow and slow[0]["args"]["site"].endswith(BLOCKING_LINE), slow
    assert slow[0]["name"].endswith("job_that_waits")
    terminal.press("q")  # do not wait for SIGTERM and SIGKILL: kill it now
    killed_at = time.monotonic()
    screen = terminal.wait_for(lambda s: re.search(r"EXIT=\d+", s), timeout=30)
    assert time.monotonic() - killed_at < 3.0, "the second q did not kill it at once"
    terminal.wait_for(at_prompt)
    assert "EXIT=137" in screen, screen  # SIGKILL


def test_sigterm_while_blocked_writes_the_trace_without_the_tui(tmp_path: Path) -> None:
    trace = tmp_path / "trace.json"
    marker = tmp_path / "blocked"
    program = subprocess.Popen(
        [sys.executable, "-m", "reactortrace", "run", "--no-tui", "-o", str(trace), STUCK,
         str(marker)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        seconds_until_exists(marker, timeout=30)
        time.sleep(0.3)  # past the slow threshold: the watchdog has seen the block
        program.send_signal(signal.SIGTERM)
        assert seconds_until_exists(trace, timeout=3.0) <= 3.0
        slow = slow_events(trace)
        assert slow and slow[0]["args"]["site"].endswith(BLOCKING_LINE), slow
        assert slow[0]["args"]["ongoing"] is True
        meta = json.loads(trace.read_text())["meta"]
        assert meta["written_on_signal"]["signal"] == "SIGTERM"
        assert meta["written_on_signal"]["blocked"]["function"] == "wait_for_the_disk"
    finally:
        program.kill()
        _, err = program.communicate(timeout=30)
    assert "SIGTERM while the reactor is blocked in job_that_waits" in err, err


LOCKED = str(Path(__file__).with_name("locked.py"))
LOCKED_LINE = f"locked.py:{next(i for i, line in enumerate(open(LOCKED), 1) if 'the blocking line' in line)}"


def test_a_block_holding_the_interpreter_lock_still_shows_its_stack(
    terminal: Terminal, tmp_path: Path
) -> None:
    """C code that never releases the GIL stops every thread of ours: the stack
    comes from faulthandler's C thread, through the file beside the socket."""
    marker = tmp_path / "blocked"
    terminal.type(f"{sys.executable} -m reactortrace run {LOCKED} {marker}; echo EXIT=$?")
    terminal.wait_for(lambda s: marker.exists(), timeout=30)
    blocked_at = time.monotonic()
    screen = terminal.wait_for(
        lambda s: "NO UPDATE" in s and LOCKED_LINE in s and "match_the_log" in s, timeout=10)
    # the switch waits 1 s; the rest is the viewer's polling and a loaded machine
    assert time.monotonic() - blocked_at < 8.0, "the stack took too long to show"
    assert "holding the interpreter lock" in screen, screen
    assert re.search(r"→ .*locked\.py:\d+ +match_the_log", screen), screen  # the blocking line
    terminal.wait_for(lambda s: "ENDED" in s or "exited" in s, timeout=60)  # it stops itself
    terminal.press("q")
    terminal.wait_for(lambda s: re.search(r"EXIT=0", s), timeout=30)
    terminal.wait_for(at_prompt)
