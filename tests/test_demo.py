"""The bundled demo does real work on more than one reactor and stops cleanly."""

from __future__ import annotations

import re
import signal
import subprocess
import sys

import pytest

RUN_ON_ASYNCIO = (
    "import sys\n"
    "from twisted.internet import asyncioreactor\n"
    "asyncioreactor.install()\n"
    "import runpy\n"
    "sys.argv = ['reactortrace.demo'] + sys.argv[1:]\n"
    "runpy.run_module('reactortrace.demo', run_name='__main__')\n"
)

COMMANDS = {
    "default": [sys.executable, "-m", "reactortrace.demo"],
    "asyncio": [sys.executable, "-c", RUN_ON_ASYNCIO],
}

SUMMARY = re.compile(r"^demo: ((?:\w+=\d+ ?)+)$", re.MULTILINE)
DID_WORK = ("echoes", "http", "thread_jobs", "slow", "heartbeats", "workflows")


def summary_counts(stdout: str) -> dict[str, int]:
    """The counts on the last summary line the demo printed."""
    lines = SUMMARY.findall(stdout)
    assert lines, f"no summary line in output:\n{stdout}"
    pairs = (item.split("=") for item in lines[-1].split())
    return {key: int(value) for key, value in pairs}


@pytest.mark.parametrize("reactor_name", sorted(COMMANDS))
def test_demo_runs_for_duration_and_reports_work(reactor_name: str) -> None:
    result = subprocess.run(
        COMMANDS[reactor_name] + ["--duration", "3"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert "http on http://127.0.0.1:" in result.stdout
    counts = summary_counts(result.stdout)
    for key in DID_WORK:
        assert counts[key] > 0, f"{key} is 0 on {reactor_name}: {result.stdout}"
    assert counts["errors"] == 0, result.stdout


def test_quiet_prints_only_the_summary() -> None:
    result = subprocess.run(
        COMMANDS["default"] + ["--duration", "1.5", "--quiet"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    assert summary_counts(result.stdout)["echoes"] > 0


def test_sigint_shuts_down_cleanly() -> None:
    process = subprocess.Popen(
        COMMANDS["default"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A runner started in the background may ignore SIGINT, and children
        # would inherit that; give the demo the ordinary disposition.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()  # printed once the servers listen
        assert first.startswith("demo: pid"), first
        process.send_signal(signal.SIGINT)
        rest, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr, stderr
    assert summary_counts(rest)["errors"] == 0, rest


def test_bad_duration_is_a_usage_error() -> None:
    result = subprocess.run(
        COMMANDS["default"] + ["--duration", "-1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "--duration must be positive" in result.stderr


def test_importing_the_demo_leaves_the_reactor_choice_open() -> None:
    code = (
        "import sys, reactortrace.demo.program\n"
        "assert 'twisted.internet.reactor' not in sys.modules\n"
        "from twisted.internet import selectreactor\n"
        "selectreactor.install()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


def test_demo_writes_no_file_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    from reactortrace.cli import demo, run

    seen: list[list[str]] = []
    monkeypatch.setattr(run, "main", lambda argv: seen.append(list(argv)) or 0)
    assert demo.main(["--duration", "1"]) == 0
    assert demo.main(["-o", "out.json"]) == 0
    assert "-o" not in seen[0] and seen[0][-2:] == ["--duration", "1.0"]
    assert seen[1][:2] == ["-o", "out.json"]
