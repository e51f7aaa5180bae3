"""Where sockets are, and how ``attach TARGET`` finds one."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from reactortrace.errors import ReactorTraceError
from reactortrace.live import paths


def test_runtime_dir_is_under_xdg_runtime_dir_else_per_user_in_tmp(
    monkeypatch: pytest.MonkeyPatch, sock_dir: str
) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", sock_dir)
    assert paths.runtime_dir() == os.path.join(sock_dir, "reactortrace")
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    assert paths.runtime_dir() == f"/tmp/reactortrace-{os.getuid()}"


def test_private_dir_is_created_owner_only(sock_dir: str) -> None:
    path = paths.private_dir(os.path.join(sock_dir, "sub"))
    assert os.stat(path).st_mode & 0o777 == 0o700
    assert paths.private_dir(path) == path  # and accepted as it is


def test_private_dir_refuses_a_file(sock_dir: str) -> None:
    path = os.path.join(sock_dir, "file")
    open(path, "w").close()
    with pytest.raises(ReactorTraceError, match="not a directory"):
        paths.private_dir(path)


def test_target_by_pid_and_by_path(sock_dir: str) -> None:
    pid = os.getpid()
    with pytest.raises(ReactorTraceError, match=f"process {pid} is not listening"):
        paths.resolve_target(str(pid), sock_dir)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(paths.socket_path(pid, sock_dir))
    try:
        assert paths.resolve_target(str(pid), sock_dir) == f"{sock_dir}/{pid}.sock"
        assert paths.resolve_target(f"{sock_dir}/{pid}.sock") == f"{sock_dir}/{pid}.sock"
    finally:
        listener.close()


def test_a_dead_pid_or_a_missing_or_wrong_path_is_refused(sock_dir: str) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    with pytest.raises(ReactorTraceError, match=f"no process with pid {gone.pid}"):
        paths.resolve_target(str(gone.pid), sock_dir)
    with pytest.raises(ReactorTraceError, match="no such socket"):
        paths.resolve_target(f"{sock_dir}/nothing.sock")
    with pytest.raises(ReactorTraceError, match="is not a socket"):
        paths.resolve_target(sock_dir)
