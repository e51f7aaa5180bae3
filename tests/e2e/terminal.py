"""A shell in a real terminal (tmux) for the end-to-end tests."""

from __future__ import annotations

import itertools
import os
import subprocess
import time

PROMPT = "e2e$ "
WIDTH, HEIGHT = 160, 48
#: Terminal modes a full-screen app turns on and must turn off again.
MODES = ("alternate_on", "mouse_any_flag", "mouse_button_flag", "mouse_standard_flag",
         "mouse_sgr_flag")


class Terminal:
    """A shell in a detached tmux session on a private tmux server of its own.

    Each terminal has a server name never used before: the previous test's
    server may still be shutting down on its socket (kill-server returns
    before the server is gone), and a new session there can fail.
    """

    _made = itertools.count(1)

    def __init__(self, cwd: str) -> None:
        self.server = f"rt-e2e-{os.getpid()}-{next(self._made)}"
        self.target = "e2e"
        shell = f"env PS1='{PROMPT}' bash --norc --noprofile"
        self._tmux("new-session", "-d", "-s", self.target, "-x", str(WIDTH), "-y", str(HEIGHT),
                   "-c", cwd, shell)

    def _tmux(self, *args: str) -> str:
        result = subprocess.run(["tmux", "-L", self.server, "-f", "/dev/null", *args],
                                capture_output=True, text=True, timeout=10)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def type(self, text: str, enter: bool = True) -> None:
        self._tmux("send-keys", "-t", self.target, "-l", text)
        if enter:
            self._tmux("send-keys", "-t", self.target, "Enter")

    def press(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", self.target, *keys)

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", self.target)

    def flag(self, name: str) -> str:
        return self._tmux("display-message", "-p", "-t", self.target, f"#{{{name}}}").strip()

    def wait_for(self, check: object, timeout: float = 20.0) -> str:
        """Wait until ``check(screen)`` is true, or a string is on the screen."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            ok = check in screen if isinstance(check, str) else check(screen)  # type: ignore[operator]
            if ok:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"waited {timeout}s for {check!r}; the screen:\n{screen}")
            time.sleep(0.1)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.server, "kill-server"], capture_output=True,
                       timeout=10)


def at_prompt(screen: str) -> bool:
    return screen.rstrip().endswith(PROMPT.rstrip())
