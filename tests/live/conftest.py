"""Fixtures for the live transport tests: a private directory and a served fake program."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from reactortrace.live.server import LiveServer

from .fakes import FakeProgram, short_tempdir


@pytest.fixture
def sock_dir() -> Iterator[str]:
    path = short_tempdir()
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def program() -> FakeProgram:
    return FakeProgram()


@pytest.fixture
def server(program: FakeProgram, sock_dir: str) -> Iterator[LiveServer]:
    """A server on the fake program, quick to update, stopped after the test."""
    server = LiveServer(program, f"{sock_dir}/1.sock", interval=0.05, idle_interval=0.2)
    server.start()
    yield server
    server.finish()


@pytest.fixture
def runtime() -> Iterator[str]:
    """XDG_RUNTIME_DIR for a traced program: its socket goes in there."""
    path = short_tempdir()
    yield path
    shutil.rmtree(path, ignore_errors=True)
