"""End to end in a real terminal: tmux runs ``reactortrace run`` on a small program,
and ``reactortrace attach`` on a program started without it.

The test types into a shell in a detached tmux session, reads the screen with
``capture-pane``, and checks what a user would see: the program's timers and
connections by name, the keys working, and after quitting, the shell prompt
back on a clean terminal and the program gone. tmux is required (CI installs
it): without it these tests fail, they are not skipped.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import reactortrace
from reactortrace.live.paths import pid_alive

from .terminal import MODES, Terminal, at_prompt

SHOP = str(Path(__file__).with_name("shop.py"))


def start_shop(terminal: Terminal, pidfile: Path) -> int:
    pidfile.unlink(missing_ok=True)
    command = f"{sys.executable} -m reactortrace run {SHOP} {pidfile}; echo EXIT=$?"
    terminal.type(command)
    terminal.wait_for("● LIVE")
    deadline = time.monotonic() + 10
    while not pidfile.exists() or not pidfile.read_text():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return int(pidfile.read_text())


def side_panes(screen: str) -> str:
    """The panes right of the event log on the wide loop tab (timers, connections)."""
    return "\n".join(line.split("││", 1)[1] for line in screen.splitlines() if "││" in line)


def assert_clean_terminal(terminal: Terminal, screen: str) -> None:
    assert at_prompt(screen), screen
    assert "● LIVE" not in screen and "Quit" not in screen, screen
    for mode in MODES:
        assert terminal.flag(mode) == "0", f"{mode} left on"
    assert terminal.flag("cursor_flag") == "1", "cursor left hidden"


def assert_clean_exit(terminal: Terminal, pid: int, screen: str) -> None:
    assert_clean_terminal(terminal, screen)
    assert not pid_alive(pid), "the program is still running"


def test_run_shows_the_program_keys_work_and_q_leaves_a_clean_terminal(
    terminal: Terminal, tmp_path: Path
) -> None:
    pid = start_shop(terminal, tmp_path / "shop.pid")
    # Wide terminal: the loop tab shows timers and connections beside the log,
    # the connections' addresses whole: the port listening, and the client's peer.
    first = terminal.wait_for(lambda s: "Shop.expire_carts" in s and "ShopProtocol" in s
                              and len(re.findall(r"127\.0\.0\.1:\d+", side_panes(s))) >= 3)
    side = side_panes(first)
    assert "…" not in "".join(re.findall(r"\S*127\.0\.0\.1\S*", side)), first
    ports = re.findall(r"(?<![\d.…])127\.0\.0\.1:(\d+)", side)
    terminal.press("2")
    # a column of the full timers view, and its rows
    screen = terminal.wait_for(lambda s: "created at" in s and "Shop.restock" in s)
    for name in ("Shop.expire_carts", "Shop.restock", "CustomerProtocol.browse", "shop.py:"):
        assert name in screen, screen
    terminal.press("3")
    # a column of the full connections view, and its rows
    screen = terminal.wait_for(lambda s: "last active" in s and "listening 127.0.0.1:" in s)
    for name in (".listen", "ShopProtocol", "listening 127.0.0.1:"):
        assert name in screen, screen
    terminal.press("6")
    screen = terminal.wait_for("shop open on port")
    port = re.search(r"shop open on port (\d+)", screen)
    assert port is not None and ports.count(port.group(1)) >= 2, (ports, first)
    terminal.press("?")
    screen = terminal.wait_for("Pending timers")
    assert "Quit" in screen
    terminal.press("Escape")
    terminal.wait_for(lambda s: "Pending timers" not in s)
    terminal.press("q")
    screen = terminal.wait_for("EXIT=0")
    screen = terminal.wait_for(at_prompt)
    assert "shop closed" in screen  # its last words, printed after the TUI had closed
    assert "shop open on port" in screen  # what the Output tab showed, kept in the terminal
    assert_clean_exit(terminal, pid, screen)


def test_ctrl_c_quits_and_stops_the_program(terminal: Terminal, tmp_path: Path) -> None:
    pid = start_shop(terminal, tmp_path / "shop.pid")
    terminal.press("C-c")
    screen = terminal.wait_for("EXIT=0")
    screen = terminal.wait_for(at_prompt)
    assert_clean_exit(terminal, pid, screen)


def test_attach_to_a_plain_program_shows_it_and_q_detaches(
    terminal: Terminal, tmp_path: Path
) -> None:
    """``attach PID`` on a program started with plain ``python``: its timers from
    before the attach, its connections; quitting leaves it running, unchanged."""
    plain = str(Path(__file__).parents[1] / "inject" / "plain.py")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    program = subprocess.Popen([sys.executable, plain, "epoll", "600"], env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert program.stdout is not None and program.stdout.readline() == "ready\n"
        trace = tmp_path / "attached.json"
        terminal.type(f"{sys.executable} -m reactortrace attach {program.pid} -o {trace}; "
                      f"echo EXIT=$?")
        terminal.wait_for("● LIVE", timeout=60)
        terminal.press("2")
        screen = terminal.wait_for(lambda s: "far_away" in s and "before attach" in s)
        assert "tick" in screen, screen
        terminal.press("3")
        screen = terminal.wait_for(lambda s: "last active" in s and "__main__.Talker" in s)
        for name in (".listen", "__main__.Echo", "__main__.Talker"):
            assert name in screen, screen
        terminal.press("q")
        screen = terminal.wait_for("EXIT=0")
        screen = terminal.wait_for(at_prompt)
        assert_clean_terminal(terminal, screen)
        assert f"wrote {trace}" in screen
        assert program.poll() is None, "quitting stopped the program"
        assert reactortrace.load(str(trace)).meta["pid"] == program.pid
        program.send_signal(signal.SIGUSR1)
        out, err = program.communicate(timeout=60)
    finally:
        if program.poll() is None:
            program.kill()
            program.communicate()
    assert program.returncode == 3, err
    assert out == "ticks>0=True echoed>0=True\nchanged=[]\n", err
