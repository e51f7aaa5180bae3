"""Run gdb once on a process to make it run the bootstrap (see ``gdbinject``)."""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

from ..errors import ReactorTraceError
from .process import ptrace_refused

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gdbinject.py")
#: Seconds gdb may take in all (it loads the process's symbols first).
GDB_TIMEOUT = 60.0
RESULT = "REACTORTRACE-GDB "


def inject(gdb: str, pid: int, bootstrap: str, wait: float) -> dict[str, Any]:
    """Have process ``pid`` run ``bootstrap``; gdb's result (see ``gdbinject``).

    ``wait``: seconds to wait for the main thread to reach a safe point.
    """
    command = [
        gdb, "-nx", "-batch", "-q", "--readnever",
        "-iex", "set debuginfod enabled off",
        "-iex", "set auto-load off",
        "-p", str(pid),
        "-x", SCRIPT,
    ]
    env = dict(os.environ, REACTORTRACE_BOOTSTRAP=bootstrap, REACTORTRACE_WAIT=str(wait))
    env.pop("PYTHONPATH", None)  # gdb's own Python must not import ours
    env.pop("PYTHONHOME", None)
    try:
        gdb_process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       text=True, env=env, stdin=subprocess.DEVNULL)
    except OSError as exc:
        raise ReactorTraceError(f"cannot run {gdb}: {exc.strerror or exc}") from None
    try:
        stdout, stderr = gdb_process.communicate(timeout=GDB_TIMEOUT)
    except subprocess.TimeoutExpired:
        # Never SIGKILL: gdb killed mid-call would leave its breakpoints in
        # the process. SIGTERM makes it detach, removing them.
        gdb_process.terminate()
        gdb_process.communicate()
        raise ReactorTraceError(f"gdb did not finish with process {pid} in "
                                f"{GDB_TIMEOUT:g} s; it detached") from None
    for line in stdout.splitlines():
        if line.startswith(RESULT):
            result: dict[str, Any] = json.loads(line[len(RESULT):])
            return result
    output = stdout + stderr
    if "ptrace: Operation not permitted" in output or "Could not attach" in output:
        raise ptrace_refused(pid)
    if "No such process" in output:
        raise ReactorTraceError(f"no process with pid {pid}")
    if "Python scripting is not supported" in output:
        raise ReactorTraceError(f"{gdb} was built without Python: install a gdb with Python")
    last = [line for line in output.splitlines() if line.strip()][-1:] or ["no output"]
    raise ReactorTraceError(f"gdb could not inject into process {pid}: {last[0]}")
