"""The dead man's switch: stacks dumped while C code holds the GIL, never in the program's way."""

from __future__ import annotations

import faulthandler
import os
import subprocess
import sys
import threading
import time
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from reactortrace.core.faultdump import reactor_stack
from reactortrace.live import deadman
from reactortrace.live.deadman import StackSwitch, read_dump, stacks_path


@pytest.fixture
def switch(tmp_path: Path) -> Iterator[StackSwitch]:
    ident = threading.get_ident()  # this test's thread stands for the reactor's
    made = StackSwitch(str(tmp_path / "1.stacks"), lambda: ident)
    assert made.start()
    yield made
    made.stop()
    assert faulthandler.dump_traceback_later is deadman._original_arm


#: A program holding the GIL in the regex engine (backtracking for seconds),
#: its main thread standing for the reactor's.
HOLDER = """
import re, sys, threading, time
from reactortrace.live.deadman import StackSwitch
ident = threading.get_ident()
switch = StackSwitch(sys.argv[1], lambda: ident)
switch.start()
time.sleep(0.5)
def hold_the_gil():
    re.match(r"(a+)+$", "a" * 26 + "b")
hold_the_gil()
print("held", flush=True)
time.sleep(1.5)
switch.stop()
"""


def test_a_held_lock_leaves_the_stack_and_running_again_clears_it(tmp_path: Path) -> None:
    path = tmp_path / "1.stacks"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)],
                              stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        stack = None
        while stack is None and holder.poll() is None:  # read while it holds the lock
            assert time.monotonic() < deadline, read_dump(str(path))
            stack = reactor_stack(read_dump(str(path)))
            time.sleep(0.05)
        assert stack is not None
        assert stack[-1].endswith(" match") and stack[-2].endswith(" hold_the_gil")
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        time.sleep(0.1)  # running again: the switch re-arms within REARM and empties the file
        deadline = time.monotonic() + 10
        while path.exists() and reactor_stack(read_dump(str(path))) is not None:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert holder.wait(30) == 0 and not path.exists()  # removed when it stopped
    finally:
        holder.kill()
        holder.wait()


def test_a_program_arming_its_own_timer_takes_it_over(switch: StackSwitch) -> None:
    faulthandler.dump_traceback_later(30)
    try:
        assert switch.ceded
        assert faulthandler.dump_traceback_later is deadman._original_arm  # ours is gone
    finally:
        faulthandler.cancel_dump_traceback_later()


def test_a_forked_child_can_use_faulthandler(switch: StackSwitch) -> None:
    """The child inherits no armed timer: faulthandler's calls there return."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 0
        try:
            faulthandler.dump_traceback_later(30)
            faulthandler.cancel_dump_traceback_later()
        except BaseException:
            code = 1
        os._exit(code)
    deadline = time.monotonic() + 10
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            pytest.fail("the child hung in faulthandler")
        time.sleep(0.05)
    assert os.waitstatus_to_exitcode(status) == 0
    assert not switch.ceded  # and the parent's is armed again


def test_the_stacks_file_sits_beside_the_socket() -> None:
    assert stacks_path("/run/rt/123.sock") == "/run/rt/123.stacks"


def test_not_started_when_a_module_holds_faulthandlers_function_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``from faulthandler import dump_traceback_later`` would bypass our
    wrapper, and our re-arming would replace that program's timer."""
    program = types.ModuleType("program_with_its_own_watchdog")
    program.dump_traceback_later = faulthandler.dump_traceback_later  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, program.__name__, program)
    switch = StackSwitch(str(tmp_path / "2.stacks"), threading.get_ident)
    assert not switch.start()
    assert faulthandler.dump_traceback_later is deadman._original_arm
    assert not (tmp_path / "2.stacks").exists()
