"""A real Prometheus server, a real OTLP/HTTP receiver, and traced programs run by the CLI."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from .receiver import Receiver, wait_for

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = Path(__file__).resolve().parent / "programs"


def free_port() -> int:
    """A TCP port nothing listens on now (the OS's pick)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def program_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("REACTORTRACE_CONFIG", None)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(extra)
    return env


def start(args: Sequence[str], cwd: Path, **env: str) -> subprocess.Popen[str]:
    """``reactortrace ARGS`` started in ``cwd``, its output piped."""
    return subprocess.Popen(
        [sys.executable, "-m", "reactortrace", *args], cwd=cwd, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env=program_env(**env),
    )


def run(args: Sequence[str], cwd: Path, timeout: float = 90, **env: str) -> subprocess.CompletedProcess[str]:
    """``reactortrace ARGS`` run to the end in ``cwd``."""
    return subprocess.run(
        [sys.executable, "-m", "reactortrace", *args], cwd=cwd, capture_output=True, text=True,
        timeout=timeout, env=program_env(**env),
    )


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        return str(response.read().decode())


def sample(text: str, name: str) -> float | None:
    """The value of the sample line ``name`` (with its labels) in an exposition."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return None


class Prometheus:
    """A Prometheus server on 127.0.0.1 scraping ``target_port`` every second."""

    def __init__(self, directory: Path) -> None:
        binary = shutil.which("prometheus")
        assert binary, "the prometheus server is not installed (.ci/run installs it)"
        self.target_port = free_port()
        self.port = free_port()
        config = directory / "prometheus.yml"
        config.write_text(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n  - job_name: traced\n    scrape_interval: 1s\n"
            "    scrape_timeout: 1s\n"
            f"    static_configs:\n      - targets: ['127.0.0.1:{self.target_port}']\n"
        )
        self.log = open(directory / "prometheus.log", "w")
        self.process = subprocess.Popen(
            [binary, f"--config.file={config}", f"--storage.tsdb.path={directory / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=self.log, stderr=subprocess.STDOUT,
        )
        wait_for(self._ready, 60, "Prometheus to be ready")

    def _ready(self) -> bool:
        assert self.process.poll() is None, "prometheus exited"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready", timeout=2) as r:
                return bool(r.status == 200)
        except OSError:
            return False

    def query(self, expression: str) -> list[dict[str, Any]]:
        """The instant vector of a PromQL ``expression`` now."""
        url = (f"http://127.0.0.1:{self.port}/api/v1/query?"
               + urllib.parse.urlencode({"query": expression}))
        with urllib.request.urlopen(url, timeout=10) as response:
            body = json.load(response)
        assert body["status"] == "success", body
        return list(body["data"]["result"])

    def value(self, expression: str) -> float | None:
        """The single value of ``expression``, or None while there is none."""
        result = self.query(expression)
        return float(result[0]["value"][1]) if result else None

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


@pytest.fixture(scope="session")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    server = Prometheus(tmp_path_factory.mktemp("prometheus"))
    yield server
    server.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.close()


def stop(process: subprocess.Popen[str], timeout: float = 30) -> tuple[int, str, str]:
    """SIGTERM ``process`` and wait: its status, stdout and stderr.

    (Not SIGINT: a shell running the tests in the background ignores it, and
    so would the program, which Twisted then leaves alone.)
    """
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
    return process.returncode, out, err


def elapsed(function: Any) -> tuple[Any, float]:
    began = time.monotonic()
    value = function()
    return value, time.monotonic() - began
