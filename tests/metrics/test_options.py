"""Bad ``--metrics``/``--otlp`` values, a port in use, a missing library: one line, status 2,
before the program starts; the same checks from Python."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

import reactortrace
from reactortrace.errors import UsageError
from reactortrace.metrics import check_options

from .conftest import PROGRAMS, ROOT, program_env, run

PROGRAM = str(PROGRAMS / "slowone.py")


def refused(result: subprocess.CompletedProcess[str]) -> str:
    """The one line of a refusal (and the program never started)."""
    assert result.returncode == 2, result.stderr
    assert "BLOCK" not in result.stdout  # the program did not run
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


@pytest.mark.parametrize(("args", "says"), [
    (["--metrics", "nonsense"], "HOST:PORT"),
    (["--metrics", "127.0.0.1:99999"], "out of range"),
    (["--metrics", "127.0.0.1:http"], "HOST:PORT"),
    (["--metrics", "::1:9464"], "brackets"),
    (["--metrics", "no-such-host.invalid:9464"], "cannot resolve"),
    (["--metrics", "192.0.2.1:9464"], "cannot listen"),  # not an address of this machine
    (["--otlp", "collector:4318"], "http:// or https://"),
    (["--otlp", "ftp://collector:4318"], "http:// or https://"),
    (["--otlp", "http://"], "http:// or https://"),
    (["--otlp", "http://collector:99999"], "not a URL"),
    (["--otlp", "http://collector:4318/?x=1"], "base URL"),
])
def test_bad_values_exit_2_before_the_program(args: list[str], says: str, tmp_path: Path) -> None:
    line = refused(run(["run", "--no-tui", *args, PROGRAM], tmp_path))
    assert says in line


def test_a_port_in_use_exits_2_before_the_program(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        line = refused(run(["run", "--no-tui", "--metrics", f"127.0.0.1:{port}", PROGRAM],
                           tmp_path))
    assert f"cannot listen on 127.0.0.1:{port}" in line and "in use" in line


@pytest.mark.parametrize(("option", "value", "library"), [
    ("--metrics", "127.0.0.1:0", "prometheus_client"),
    ("--otlp", "http://127.0.0.1:4318", "opentelemetry"),
])
def test_a_missing_library_names_the_extra(option: str, value: str, library: str,
                                           tmp_path: Path) -> None:
    # The library hidden as if it were not installed.
    hide = "opentelemetry.sdk" if library == "opentelemetry" else library
    code = (f"import sys; sys.modules[{hide!r}] = None; from reactortrace.cli import main; "
            f"sys.exit(main(['run', '--no-tui', {option!r}, {value!r}, {PROGRAM!r}]))")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60, env=program_env())
    line = refused(result)
    assert library in line and "pip install 'reactortrace[metrics]'" in line


def test_the_python_api_refuses_before_touching_the_reactor() -> None:
    code = (
        "from twisted.internet import reactor\n"
        "import reactortrace\n"
        "before = dict(vars(type(reactor)))\n"
        "try:\n"
        "    reactortrace.instrument(reactor, metrics='nonsense')\n"
        "except reactortrace.ReactorTraceError as exc:\n"
        "    print('refused:', exc)\n"
        "print('unchanged' if dict(vars(type(reactor))) == before else 'changed')\n"
        "tracer = reactortrace.instrument(reactor)\n"  # and it can be instrumented after
        "tracer.close()\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "refused: --metrics wants HOST:PORT" in result.stdout
    assert result.stdout.strip().endswith("unchanged")


def test_check_options_accepts_good_values() -> None:
    check_options("127.0.0.1:0", "http://localhost:4318")
    check_options(":0", "https://collector.example:4318/otlp")
    check_options("[::1]:0" if socket.has_ipv6 and _has_ipv6_loopback() else "localhost:0", None)
    with pytest.raises(UsageError):
        check_options(None, "http://localhost:4318#x")
    assert reactortrace.UsageError is UsageError


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False
