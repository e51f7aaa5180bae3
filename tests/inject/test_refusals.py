"""What ``attach`` refuses: one line on stderr, exit status 2, the target untouched."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import reactortrace
from reactortrace.errors import ReactorTraceError
from reactortrace.inject import process
from reactortrace.live.paths import socket_path

from .conftest import PLAIN, ROOT, Program

SLEEPER = "import time; {imports}; print('ready', flush=True); time.sleep(120)"
VENV_SITE = str(Path(sys.prefix) / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
                / "site-packages")
#: Runs a command as user nobody (Debian's /usr/bin/python3 is one nobody may run).
NOBODY = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")


def refused(result: Any, *words: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("reactortrace: error: ")
    for word in words:
        assert word in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def sleeper(start: Callable[..., Program], imports: str = "pass",
            python: str = sys.executable, **kw: Any) -> Program:
    return start(argv=[python, "-c", SLEEPER.format(imports=imports)], **kw)


def untouched(program: Program) -> None:
    """Still running, with no thread of ours left in it."""
    assert program.process.poll() is None
    assert program.threads() == 1


def test_no_such_pid(attach: Callable[..., Any]) -> None:
    refused(attach("999999999", "--no-tui"), "no process with pid 999999999")


def test_not_a_python_process(start: Callable[..., Program],
                              attach: Callable[..., Any]) -> None:
    program = start(argv=["sleep", "120"], ready=False)
    refused(attach(str(program.pid), "--no-tui"), "(sleep) is not a Python process")


@pytest.mark.parametrize(("imports", "message"), [
    ("pass", "is a Python process without Twisted"),
    ("import twisted", "has imported Twisted but installed no reactor"),
    ("from twisted.internet import reactor", "has a Twisted reactor, but it is not running"),
])
def test_no_running_reactor(start: Callable[..., Program], attach: Callable[..., Any],
                            imports: str, message: str) -> None:
    program = sleeper(start, imports)
    refused(attach(str(program.pid), "--no-tui"), f"process {program.pid} {message}")
    untouched(program)


def test_another_python_version_says_which_to_use(
    start: Callable[..., Program], attach: Callable[..., Any]
) -> None:
    other = "3.12" if sys.version_info[:2] != (3, 12) else "3.13"
    pyenv = sorted((Path.home() / ".pyenv" / "versions").glob(f"{other}.*/bin/python{other}"))
    python = str(pyenv[-1]) if pyenv else shutil.which(f"python{other}")  # not pyenv's shim
    assert python, f"python{other} is needed for this test"
    program = sleeper(start, python=python)
    refused(attach(str(program.pid), "--no-tui"), f"runs Python {other}",
            f"python{other} -m reactortrace attach {program.pid}")
    untouched(program)


def test_another_users_process(start: Callable[..., Program]) -> None:
    program = sleeper(start)
    with pytest.raises(ReactorTraceError, match=f"process {program.pid} belongs to user root: "
                                                f"run reactortrace as that user"):
        process.inspect(program.pid, my_uid=4242)


@pytest.mark.parametrize(("scope", "capable", "message"), [
    ("1", False, "(kernel.yama.ptrace_scope=1): run as root, or allow it with "
                 "'sudo sysctl kernel.yama.ptrace_scope=0'"),
    ("2", False, "ptrace needs CAP_SYS_PTRACE here (kernel.yama.ptrace_scope=2)"),
    ("3", True, "ptrace is disabled on this machine (kernel.yama.ptrace_scope=3"),
])
def test_yama_ptrace_scope(tmp_path: Path, scope: str, capable: bool, message: str) -> None:
    yama = tmp_path / "ptrace_scope"
    yama.write_text(scope + "\n")
    with pytest.raises(ReactorTraceError) as caught:
        process.check_ptrace(yama=str(yama), capable=capable)
    assert message in str(caught.value)
    process.check_ptrace(yama=str(yama.with_name("absent")), capable=False)
    if scope != "3":
        process.check_ptrace(yama=str(yama), capable=True)


def test_ptrace_not_permitted(start: Callable[..., Program], attach: Callable[..., Any],
                              env: dict[str, str]) -> None:
    """Root without CAP_SYS_PTRACE (as in a container without it) and another user's process."""
    program = start(argv=[*NOBODY, "/usr/bin/python3", "-c", SLEEPER.format(imports="pass")])
    result = attach(str(program.pid), "--no-tui",
                    prefix=("setpriv", "--inh-caps=-sys_ptrace", "--bounding-set=-sys_ptrace"))
    refused(result, f"not permitted to ptrace process {program.pid}", "CAP_SYS_PTRACE",
            "--cap-add=SYS_PTRACE")
    untouched(program)


def test_gdb_missing(start: Callable[..., Program], attach: Callable[..., Any],
                     env: dict[str, str], tmp_path: Path) -> None:
    program = start("epoll", "120")
    empty = tmp_path / "bin"
    empty.mkdir()
    result = attach(str(program.pid), "--no-tui", environment={**env, "PATH": str(empty)})
    refused(result, "needs gdb: install it (apt-get install gdb")
    assert program.threads() == 1


def test_reactortrace_not_importable_by_the_target(
    start: Callable[..., Program], attach: Callable[..., Any], env: dict[str, str],
    tmp_path: Path,
) -> None:
    """The target (the base interpreter without its site-packages: Twisted on its
    path, but not reactortrace's own dependencies) cannot import reactortrace."""
    site = tmp_path / "site"
    site.mkdir()
    for entry in Path(VENV_SITE).iterdir():
        if not entry.name.lower().startswith(("orjson", "reactortrace", "__editable__")):
            (site / entry.name).symlink_to(entry)
    python = Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    program = start(argv=[str(python), "-S", PLAIN, "epoll", "120"],
                    environment={**env, "PYTHONPATH": str(site)})
    result = attach(str(program.pid), "--no-tui")
    refused(result, f"process {program.pid} cannot import reactortrace from {ROOT}",
            "No module named 'orjson'", "install reactortrace where the process can read it")
    status, out, err = program.stop()
    assert status == 3 and "changed=[]" in out, err


def test_a_program_recorded_by_run_without_listen(
    start: Callable[..., Program], attach: Callable[..., Any], env: dict[str, str],
    tmp_path: Path,
) -> None:
    program = start(argv=[sys.executable, "-m", "reactortrace", "run", "--no-tui", "-q",
                          "-o", str(tmp_path / "run.json"), PLAIN, "epoll", "120"],
                    environment={**env, "PYTHONPATH": str(ROOT)})
    refused(attach(str(program.pid), "--no-tui"), "already recorded by reactortrace",
            "reactortrace run --listen")
    status, out, err = program.stop()
    assert status == 3, err


def test_a_program_served_by_run_listen_is_not_recorded_twice_but_can_be_saved(
    start: Callable[..., Program], attach: Callable[..., Any], env: dict[str, str],
    tmp_path: Path,
) -> None:
    program = start(argv=[sys.executable, "-m", "reactortrace", "run", "--no-tui", "-q",
                          "--listen", "-o", str(tmp_path / "run.json"), PLAIN, "epoll", "120"],
                    environment={**env, "PYTHONPATH": str(ROOT)})
    runtime = os.path.join(env["XDG_RUNTIME_DIR"], "reactortrace")
    from ..live.fakes import wait_until

    wait_until(lambda: os.path.exists(socket_path(program.pid, runtime)))
    # Nothing is injected: the program's own recording comes over its socket.
    saved = tmp_path / "saved.json"
    done = attach(str(program.pid), "--no-tui", "-o", str(saved))
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert f"wrote {saved}" in done.stderr
    trace = reactortrace.load(str(saved))
    assert trace.meta["pid"] == program.pid and trace.events
    # The run's own recording (from its start), not a second one made now.
    assert any(e.kind == "timer.schedule" and e.ts < 500_000_000 for e in trace.events)
    status, out, err = program.stop()
    assert status == 3, err


@pytest.mark.parametrize(("exe", "maps", "version"), [
    ("/usr/bin/python3.11", "", (3, 11)),
    ("/opt/app/bin/server", "7f00-7f01 r-xp 0 08:01 12 /opt/py/lib/libpython3.12.so.1.0\n",
     (3, 12)),
    ("/usr/local/bin/uwsgi", "7f00-7f01 r-xp 0 08:01 12 /usr/lib/libc.so.6\n", None),
])
def test_the_python_version_of_a_process(exe: str, maps: str,
                                         version: tuple[int, int] | None) -> None:
    assert process.python_version(exe, maps) == version
