"""The ``terminal`` fixture: a shell in a fresh tmux server, at its prompt."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from .terminal import Terminal, at_prompt


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    if shutil.which("tmux") is None:
        pytest.fail("tmux is needed for the end-to-end tests: install it (apt-get install tmux)")
    term = Terminal(str(tmp_path))
    try:
        term.wait_for(at_prompt)
        yield term
    finally:
        term.close()
