"""Helpers to run the ``reactortrace`` command as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def reactortrace(
    args: Sequence[str], cwd: Path, timeout: float = 60, **kw: object
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m reactortrace ARGS`` in ``cwd`` and capture its output."""
    env = dict(os.environ)
    env.pop("REACTORTRACE_CONFIG", None)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return subprocess.run(
        [sys.executable, "-m", "reactortrace", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A fresh directory to run programs in."""
    return tmp_path
