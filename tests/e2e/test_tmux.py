"""End to end in a real terminal: tmux runs ``reactortrace run`` on a small program.

The test types into a shell in a detached tmux session, reads the screen with
``capture-pane``, and checks what a user would see: the program's timers and
connections by name, the keys working, and after quitting, the shell prompt
back on a clean terminal and the program gone. tmux is required (CI installs
it): without it these tests fail, they are not skipped.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

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


def assert_clean_exit(terminal: Terminal, pid: int, screen: str) -> None:
    assert at_prompt(screen), screen
    assert "● LIVE" not in screen and "Quit" not in screen, screen
    for mode in MODES:
        assert terminal.flag(mode) == "0", f"{mode} left on"
    assert terminal.flag("cursor_flag") == "1", "cursor left hidden"
    assert not pid_alive(pid), "the program is still running"


def test_run_shows_the_program_keys_work_and_q_leaves_a_clean_terminal(
    terminal: Terminal, tmp_path: Path
) -> None:
    pid = start_shop(terminal, tmp_path / "shop.pid")
    # Wide terminal: the loop tab shows timers and connections beside the log.
    terminal.wait_for(lambda s: "Shop.expire_carts" in s and "ShopProtocol" in s)
    terminal.press("2")
    screen = terminal.wait_for("created at")  # a column of the full timers view
    for name in ("Shop.expire_carts", "Shop.restock", "CustomerProtocol.browse", "shop.py:"):
        assert name in screen, screen
    terminal.press("3")
    screen = terminal.wait_for("last active")  # a column of the full connections view
    for name in (".listen", "twisted.internet.tcp.Port", "ShopProtocol", "0.0.1:"):
        assert name in screen, screen
    terminal.press("6")
    terminal.wait_for("shop open on port")
    terminal.press("?")
    screen = terminal.wait_for("Pending timers")
    assert "Quit" in screen
    terminal.press("Escape")
    terminal.wait_for(lambda s: "Pending timers" not in s)
    terminal.press("q")
    screen = terminal.wait_for("EXIT=0")
    screen = terminal.wait_for(at_prompt)
    assert "shop closed" in screen  # its last words, printed after the TUI had closed
    assert_clean_exit(terminal, pid, screen)


def test_ctrl_c_quits_and_stops_the_program(terminal: Terminal, tmp_path: Path) -> None:
    pid = start_shop(terminal, tmp_path / "shop.pid")
    terminal.press("C-c")
    screen = terminal.wait_for("EXIT=0")
    screen = terminal.wait_for(at_prompt)
    assert_clean_exit(terminal, pid, screen)
