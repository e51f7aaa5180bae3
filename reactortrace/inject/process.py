"""What can be told about a process before touching it, and the refusals.

Everything here reads ``/proc`` only: the process is not stopped, nothing is
injected. Each refusal is a :class:`ReactorTraceError` with one line that
says what is wrong and what to do.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import sys
from dataclasses import dataclass

from ..errors import ReactorTraceError

YAMA = "/proc/sys/kernel/yama/ptrace_scope"
CAP_SYS_PTRACE = 19
_PYTHON = re.compile(r"(?:lib)?python(\d+)\.(\d+)")


@dataclass(frozen=True)
class Process:
    """A process that may be attached to."""

    pid: int
    uid: int
    exe: str
    python: tuple[int, int]

    @property
    def version(self) -> str:
        return f"{self.python[0]}.{self.python[1]}"


def user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def inspect(pid: int, *, proc: str = "/proc", my_uid: int | None = None) -> Process:
    """The process ``pid``, if reactortrace could attach to it; else refuse."""
    my_uid = os.geteuid() if my_uid is None else my_uid
    base = f"{proc}/{pid}"
    try:
        uid = os.stat(base).st_uid
    except FileNotFoundError:
        raise ReactorTraceError(f"no process with pid {pid}") from None
    if my_uid != 0 and uid != my_uid:
        raise ReactorTraceError(
            f"process {pid} belongs to user {user_name(uid)}: run reactortrace as that user "
            f"(or as root)"
        )
    try:
        exe = os.readlink(f"{base}/exe")
        with open(f"{base}/maps", encoding="utf-8", errors="replace") as maps:
            mapped = maps.read()
    except FileNotFoundError:
        raise ReactorTraceError(f"no process with pid {pid}") from None
    except PermissionError:
        raise ptrace_refused(pid) from None
    version = python_version(exe, mapped)
    if version is None:
        raise ReactorTraceError(
            f"process {pid} ({os.path.basename(exe)}) is not a Python process"
        )
    return Process(pid, uid, exe, version)


def python_version(exe: str, maps: str) -> tuple[int, int] | None:
    """The Python a process runs: from its libpython, else its executable's name."""
    for line in maps.splitlines():
        name = os.path.basename(line.rsplit(" ", 1)[-1])
        if name.startswith("libpython"):
            match = _PYTHON.match(name)
            if match:
                return int(match.group(1)), int(match.group(2))
    match = _PYTHON.match(os.path.basename(exe))
    if match:
        return int(match.group(1)), int(match.group(2))
    return None


def check_version(process: Process) -> None:
    """The target must run the Python this reactortrace runs on (its compiled
    dependencies are imported into the target)."""
    mine = sys.version_info[:2]
    if process.python != mine:
        raise ReactorTraceError(
            f"process {process.pid} runs Python {process.version} and reactortrace runs on "
            f"{mine[0]}.{mine[1]}: attach with a reactortrace installed for Python "
            f"{process.version} (python{process.version} -m reactortrace attach {process.pid})"
        )


def find_gdb() -> str:
    """The gdb to inject with (``REACTORTRACE_GDB`` or the one on PATH)."""
    gdb = os.environ.get("REACTORTRACE_GDB") or shutil.which("gdb")
    if not gdb:
        raise ReactorTraceError(
            "attaching to a process not started by reactortrace needs gdb: install it "
            "(apt-get install gdb, dnf install gdb)"
        )
    return gdb


def has_cap_sys_ptrace(status: str = "/proc/self/status") -> bool:
    """Whether this process may trace any process (CAP_SYS_PTRACE in effect)."""
    try:
        with open(status, encoding="ascii") as lines:
            for line in lines:
                if line.startswith("CapEff:"):
                    return bool(int(line.split()[1], 16) >> CAP_SYS_PTRACE & 1)
    except OSError:
        pass
    return False


def check_ptrace(*, yama: str = YAMA, capable: bool | None = None) -> None:
    """Refuse when the kernel's Yama settings forbid attaching to a non-child."""
    try:
        with open(yama, encoding="ascii") as scope_file:
            scope = int(scope_file.read().strip() or 0)
    except (OSError, ValueError):
        return  # no Yama: ordinary permission checks only
    capable = has_cap_sys_ptrace() if capable is None else capable
    if scope >= 3:
        raise ReactorTraceError(
            "ptrace is disabled on this machine (kernel.yama.ptrace_scope=3, which only a "
            "reboot undoes)"
        )
    if scope == 2 and not capable:
        raise ReactorTraceError(
            "ptrace needs CAP_SYS_PTRACE here (kernel.yama.ptrace_scope=2): run as root"
        )
    if scope == 1 and not capable:
        raise ReactorTraceError(
            "ptrace of a process that is not your child is not allowed "
            "(kernel.yama.ptrace_scope=1): run as root, or allow it with "
            "'sudo sysctl kernel.yama.ptrace_scope=0'"
        )


def ptrace_refused(pid: int) -> ReactorTraceError:
    """gdb could not attach although the checks above passed: a container or
    a security module refused; say how it is usually allowed."""
    return ReactorTraceError(
        f"not permitted to ptrace process {pid}: reactortrace needs CAP_SYS_PTRACE "
        f"(in a container: docker run --cap-add=SYS_PTRACE, or "
        f"securityContext.capabilities.add: [SYS_PTRACE] in Kubernetes)"
    )
