"""Fixtures for the export tests: a busy program recorded once per reactor family."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import reactortrace
from reactortrace.core.trace import Trace

from ..core.conftest import log, meta, sample_log  # noqa: F401 - shared fixtures
from . import chrome_checker

PROGRAMS = Path(__file__).resolve().parent / "programs"
from ..reactors import REACTORS

TIMEOUT = 60


@dataclass
class Recorded:
    """One run of ``programs/busy.py``: its trace and its direct Chrome export."""

    reactor: str
    json_path: Path
    chrome_path: Path
    trace: Trace
    chrome: dict[str, Any]


def run_program(name: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(PROGRAMS / name), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def run_busy(workdir: Path, *flags: str) -> dict[str, Path]:
    """``busy.py`` run on every reactor family at once: ``{reactor: its OUT prefix}``."""
    started = {r: run_program("busy.py", r, str(workdir / r), *flags) for r in REACTORS}
    for reactor, process in started.items():
        try:
            _, stderr = process.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            _, stderr = process.communicate()
        assert process.returncode == 0, f"busy.py on {reactor}:\n{stderr[-3000:]}"
    return {reactor: workdir / reactor for reactor in started}


@pytest.fixture(scope="session")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Recorded]:
    """``busy.py`` run on every reactor family at once."""
    found: dict[str, Recorded] = {}
    for reactor, prefix in run_busy(tmp_path_factory.mktemp("busy")).items():
        json_path = Path(f"{prefix}.json")
        chrome_path = Path(f"{prefix}.chrome.json")
        found[reactor] = Recorded(
            reactor,
            json_path,
            chrome_path,
            reactortrace.load(str(json_path)),
            chrome_checker.load(chrome_path),
        )
    return found


@pytest.fixture(params=REACTORS)
def recorded(request: pytest.FixtureRequest, recordings: dict[str, Recorded]) -> Recorded:
    """The recording of one reactor family."""
    return recordings[request.param]
