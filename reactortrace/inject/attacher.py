"""The attaching side: check, inject, wait for the target's report, detach.

:func:`attach` returns an :class:`Attached` once the target's reactor is
instrumented and serving its live socket, or raises a one-line
:class:`ReactorTraceError` (the refusals of ``process``, and what the
bootstrap found: no Twisted, no running reactor, a blocked reactor with its
stack). The target reports over a Unix socket in a private directory (0700,
the socket 0600, both owned by the target's user), which is removed as soon
as the target has connected; that connection then stays open as the control
channel, and closing it detaches.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
import time
from typing import Any

from ..errors import ReactorTraceError
from . import bootstrap, debugger, process

#: Seconds the reactor has to run one call before it is reported blocked.
PROBE = 1.0
#: Seconds gdb waits for the main thread to reach a safe point.
SAFE_POINT_WAIT = 1.0
#: Seconds for the bootstrap to connect after gdb has left.
CONNECT_WAIT = 3.0
#: Seconds for the target to import reactortrace and instrument its reactor.
INSTALL_WAIT = 60.0
_REFUSALS = {
    "no-twisted": "process {pid} is a Python process without Twisted",
    "no-reactor": "process {pid} has imported Twisted but installed no reactor",
    "not-running": "process {pid} has a Twisted reactor, but it is not running",
}


class Blocked(ReactorTraceError):
    """The reactor did not run a call in time; ``stack`` says where it is."""

    def __init__(self, message: str, stack: list[str]) -> None:
        super().__init__(message)
        self.stack = stack


class Attached:
    """An attached process: its live socket, and the control connection."""

    def __init__(self, pid: int, socket_path: str, control: socket.socket | None) -> None:
        self.pid = pid
        self.socket = socket_path
        self._control = control
        self._buffer = b""
        #: True once the program stopped its reactor (and wrote its trace).
        self.ended = False
        #: The last report of a trace written (the program writes one when it stops).
        self.written: dict[str, Any] | None = None

    @property
    def injected(self) -> bool:
        """False when the process was already serving and this only watches it."""
        return self._control is not None

    def write(self, timeout: float = 120.0) -> dict[str, Any]:
        """Have the target write its trace to the file named at attach time
        (or the report of the one it wrote when it stopped)."""
        if self._control is None:
            raise ReactorTraceError("this process was attached by another reactortrace")
        try:
            while self.poll(0) is not None:
                pass  # take what came: the program may have ended meanwhile
        except ReactorTraceError:
            if self.written is None:
                raise ReactorTraceError(f"process {self.pid} ended before writing its trace")
        if self.ended and self.written is not None:
            return self.written
        self._request("write")
        return self._wait(("wrote", "write-failed"), timeout)

    def poll(self, timeout: float) -> dict[str, Any] | None:
        """A report that came (``ended`` when the program stopped), or None."""
        if self._control is None:
            return None
        try:
            return self._read(timeout)
        except TimeoutError:
            return None

    def detach(self, timeout: float = 15.0) -> None:
        """Undo everything in the target; idempotent."""
        control, self._control = self._control, None
        if control is None:
            return
        try:
            control.sendall(b'{"do": "detach"}\n')
            self._control = control
            self._wait(("detached",), timeout)
        except (OSError, TimeoutError, ReactorTraceError):
            pass
        finally:
            self._control = None
            control.close()

    def _request(self, what: str) -> None:
        assert self._control is not None
        try:
            self._control.sendall(json.dumps({"do": what}).encode() + b"\n")
        except OSError as exc:
            raise ReactorTraceError(f"process {self.pid} went away: {exc}") from None

    def _wait(self, states: tuple[str, ...], timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            report = self._read(max(0.0, deadline - time.monotonic()))
            if report.get("state") in states:
                return report

    def _read(self, timeout: float) -> dict[str, Any]:
        """The next report; TimeoutError if none in ``timeout`` seconds."""
        assert self._control is not None
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            self._control.settimeout(left)
            try:
                data = self._control.recv(65536)
            except (socket.timeout, TimeoutError):
                raise TimeoutError from None
            except OSError:
                data = b""
            if not data:
                raise ReactorTraceError(f"process {self.pid} closed the connection")
            self._buffer += data
        line, self._buffer = self._buffer.split(b"\n", 1)
        report: dict[str, Any] = json.loads(line)
        if report.get("state") == "ended":
            self.ended = True
        elif report.get("state") in ("wrote", "write-failed"):
            self.written = report
        return report


def existing(pid: int) -> Attached | None:
    """The live socket of a process already served (by ``run --listen`` or an
    earlier attach), if it answers."""
    from ..live.paths import socket_path

    path = socket_path(pid)
    if not os.path.exists(path):
        return None
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(2.0)
        probe.connect(path)
    except OSError:
        return None
    finally:
        probe.close()
    return Attached(pid, path, None)


def attach(
    pid: int,
    *,
    output: str | None = None,
    format: str | None = None,
    slow_ms: float | None = None,
    probe: float = PROBE,
) -> Attached:
    """Instrument the reactor of process ``pid`` and serve it live."""
    target = process.inspect(pid)
    already = existing(pid)
    if already is not None:
        return already
    process.check_version(target)
    gdb = process.find_gdb()
    process.check_ptrace()
    directory = tempfile.mkdtemp(prefix="rt-attach-")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        report_path = os.path.join(directory, "r.sock")
        listener.bind(report_path)
        os.chmod(report_path, 0o600)
        if os.geteuid() == 0 and target.uid != 0:
            os.chown(directory, target.uid, -1)
            os.chown(report_path, target.uid, -1)
        listener.listen(1)
        params = {
            "report": report_path,
            "path": _install_location(),
            "probe": probe,
            "output": output,
            "format": format,
            "slow_ms": slow_ms,
        }
        result = debugger.inject(gdb, pid, bootstrap.code(params), SAFE_POINT_WAIT)
        _check_injected(pid, result)
        control = _accept(pid, listener, result)
    finally:
        listener.close()
        shutil.rmtree(directory, ignore_errors=True)
    attached = Attached(pid, "", control)
    try:
        report = attached._wait(("attached", "already", "refused", "blocked", "failed"),
                                INSTALL_WAIT)
    except TimeoutError:
        control.close()
        raise ReactorTraceError(f"process {pid} did not finish attaching in "
                                f"{INSTALL_WAIT:g} s") from None
    except ReactorTraceError:
        control.close()
        raise
    state = report["state"]
    if state == "attached":
        attached.socket = report["socket"]
        return attached
    control.close()
    if state == "already":
        return Attached(pid, report["socket"], None)
    raise _refusal(pid, report)


def _install_location() -> str:
    """The directory the target imports reactortrace from: this copy's."""
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _check_injected(pid: int, result: dict[str, Any]) -> None:
    error = result.get("error")
    if error is None:
        return
    if error == "not-python":
        raise ReactorTraceError(f"process {pid} has no Python interpreter gdb can call into")
    if error == "blocked":
        stack = [f"  [native] {name}" for name in result.get("frames") or []][:20]
        raise Blocked(
            f"process {pid}: the reactor is blocked (its thread holds the GIL and did not "
            f"reach a safe point in {SAFE_POINT_WAIT:g} s); nothing was injected", stack)
    raise ReactorTraceError(f"could not inject into process {pid}: {error}")


def _accept(pid: int, listener: socket.socket, result: dict[str, Any]) -> socket.socket:
    listener.settimeout(CONNECT_WAIT)
    try:
        control, _ = listener.accept()
    except (socket.timeout, TimeoutError):
        stack = [f"  [native] {name}" for name in result.get("frames") or []][:20]
        raise Blocked(
            f"process {pid} did not run the injected code within {CONNECT_WAIT:g} s: its main "
            f"thread is busy outside Python (the code runs when it comes back)", stack
        ) from None
    control.settimeout(None)
    return control


def _refusal(pid: int, report: dict[str, Any]) -> ReactorTraceError:
    state = report["state"]
    if state == "blocked":
        return Blocked(
            f"process {pid}: the reactor is blocked (a call it was given did not run within "
            f"{PROBE:g} s); nothing was installed", list(report.get("stack") or []))
    if state == "refused":
        reason = report.get("reason")
        if reason == "no-import":
            return ReactorTraceError(
                f"process {pid} cannot import reactortrace from {report.get('path')}: "
                f"{report.get('error')} (install reactortrace where the process can read it)")
        return ReactorTraceError(_REFUSALS.get(str(reason), "process {pid}: {reason}").format(
            pid=pid, reason=reason))
    reason = str(report.get("reason") or "unknown error")
    if "already instrumented" in reason:
        return ReactorTraceError(
            f"process {pid} is already recorded by reactortrace without a live socket "
            f"(start it with 'reactortrace run --listen' to watch it)")
    return ReactorTraceError(f"attaching to process {pid} failed: {reason}")
