"""The commands around the TUI, where no terminal is needed: errors, help, record-only."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import reactortrace
from reactortrace.cli import main
from reactortrace.cli.run import parse as parse_run


def run(*args: str, cwd: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "reactortrace", *args], capture_output=True,
                          text=True, timeout=60, cwd=cwd, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["view", "/nonexistent/trace.json"], "cannot read trace file"),
        (["attach", "999999999"], "no process with pid 999999999"),
        (["attach", "/nonexistent.sock"], "no such socket"),
        (["view"], "the following arguments are required"),
    ],
)
def test_errors_are_one_line_and_status_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err


def test_a_broken_trace_is_one_line_and_status_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "reactortrace", "version": 1, "events": [')
    result = run("view", str(broken))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and str(broken) in result.stderr
    assert "Traceback" not in result.stderr


def test_view_and_attach_need_a_terminal(tmp_path: Path) -> None:
    trace = tmp_path / "t.json"
    from reactortrace.core.trace import Trace
    from reactortrace.formats import write

    write(Trace({"program": "p"}, [], None), str(trace))
    result = run("view", str(trace))
    assert result.returncode == 2
    assert "run it in a terminal" in result.stderr


def test_run_options_for_the_live_view() -> None:
    options, target = parse_run(["--listen", "--detach-on-quit", "-q", "app.py", "--listen"])
    assert options["listen"] and options["detach_on_quit"] and options["quiet"]
    assert (target.name, target.args) == ("app.py", ["--listen"])


def test_run_help_documents_the_tui_options() -> None:
    result = run("run", "--help")
    assert result.returncode == 0
    for option in ("--listen", "--detach-on-quit", "--no-tui", "SIGTERM"):
        assert option in result.stdout


def test_demo_without_tui_records_as_before(tmp_path: Path) -> None:
    result = run("demo", "--no-tui", "--duration", "1", "-o", "demo.json", cwd=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "demo: echoes=" in result.stdout
    trace = reactortrace.load(str(tmp_path / "demo.json"))
    assert trace.meta["program"] == "reactortrace.demo"
    assert trace.events


def test_run_without_a_terminal_does_not_open_the_tui(tmp_path: Path) -> None:
    """Not a terminal: record only, as with --no-tui; this process becomes the program."""
    script = tmp_path / "hello.py"
    script.write_text("import os; print('pid', os.getpid())\n")
    command = [sys.executable, "-m", "reactortrace", "run", "-q", str(script)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                               text=True, cwd=str(tmp_path))
    out, _ = process.communicate(timeout=60)
    assert process.returncode == 0
    assert out == f"pid {process.pid}\n"
