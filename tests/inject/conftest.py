"""Plain programs to attach to (started without reactortrace), and the attacher."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ..live.fakes import short_tempdir

ROOT = Path(__file__).resolve().parents[2]
PLAIN = str(Path(__file__).with_name("plain.py"))


class Program:
    """A program started the ordinary way (``python prog.py``), no reactortrace."""

    def __init__(self, argv: list[str], env: dict[str, str], ready: bool = True) -> None:
        self.process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True,
                                        stdin=subprocess.DEVNULL)
        self.pid = self.process.pid
        if ready:
            assert self.process.stdout is not None
            line = self.process.stdout.readline()
            assert line == "ready\n", (line, self.process.stderr.read() if line == "" else "")

    def threads(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/task"))

    def rss_kb(self) -> int:
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def stop(self, timeout: float = 60) -> tuple[int, str, str]:
        """Ask it to stop (SIGUSR1); its status and the rest of its output."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGUSR1)
        out, err = self.process.communicate(timeout=timeout)
        return self.process.returncode, out, err

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()


@pytest.fixture
def runtime() -> Iterator[str]:
    """XDG_RUNTIME_DIR shared by the programs and the attacher."""
    path = short_tempdir()
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def env(runtime: str) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("PYTHONPATH", "REACTORTRACE_CONFIG")}
    environment["XDG_RUNTIME_DIR"] = runtime
    return environment


@pytest.fixture
def start(env: dict[str, str]) -> Iterator[Callable[..., Program]]:
    """Start a program: ``start(argv)``, or ``start(reactor, seconds, *flags)`` for plain.py."""
    started: list[Program] = []

    def run(*args: str, argv: list[str] | None = None, ready: bool = True,
            environment: dict[str, str] | None = None, **kw: str) -> Program:
        command = argv if argv is not None else [sys.executable, PLAIN, *args]
        program = Program(command, environment or env, ready=ready)
        started.append(program)
        return program

    yield run
    for program in started:
        program.kill()


@pytest.fixture
def attach(env: dict[str, str], tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``python -m reactortrace attach ARGS`` in ``tmp_path``."""

    def run(*args: str, environment: dict[str, str] | None = None,
            prefix: tuple[str, ...] = (), timeout: float = 120) -> subprocess.CompletedProcess[str]:
        command_env = dict(environment or env)
        command_env.setdefault("PYTHONPATH", str(ROOT))
        return subprocess.run([*prefix, sys.executable, "-m", "reactortrace", "attach", *args],
                              cwd=tmp_path, capture_output=True, text=True, timeout=timeout,
                              env=command_env, stdin=subprocess.DEVNULL)

    return run
