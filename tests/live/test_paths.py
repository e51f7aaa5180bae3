"""Where sockets are, and how ``attach TARGET`` finds one."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

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
    namespace = os.stat("/proc/self/ns/pid").st_ino
    named = f"{sock_dir}/{pid}-{namespace}.sock"
    try:
        assert paths.resolve_target(str(pid), sock_dir) == named
        assert paths.resolve_target(named) == named
    finally:
        listener.close()


def test_same_pid_in_two_pid_namespaces_gets_two_sockets(tmp_path: Path) -> None:
    """Two programs, each pid 1 of its own PID namespace, sharing a directory: two
    names; a viewer outside finds each by the pid it sees."""
    code = ("import os, sys, time; from reactortrace.live.paths import socket_path; "
            "print(socket_path(os.getpid(), sys.argv[1]), flush=True); time.sleep(60)")
    programs = [
        subprocess.Popen(["unshare", "--pid", "--fork", "--mount-proc", sys.executable, "-c",
                          code, str(tmp_path)], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    try:
        names = [program.stdout.readline().strip() for program in programs]  # type: ignore[union-attr]
        assert names[0] != names[1]
        assert all(os.path.basename(name).startswith("1-") for name in names), names
        for program, name in zip(programs, names):
            with open(f"/proc/{program.pid}/task/{program.pid}/children") as children:
                inner = int(children.read().split()[0])
            assert paths.socket_path(inner, str(tmp_path)) == name
    finally:
        for program in programs:
            program.kill()
            program.wait()


def test_a_dead_pid_or_a_missing_or_wrong_path_is_refused(sock_dir: str) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    with pytest.raises(ReactorTraceError, match=f"no process with pid {gone.pid}"):
        paths.resolve_target(str(gone.pid), sock_dir)
    with pytest.raises(ReactorTraceError, match="no such socket"):
        paths.resolve_target(f"{sock_dir}/nothing.sock")
    with pytest.raises(ReactorTraceError, match="is not a socket"):
        paths.resolve_target(sock_dir)


def test_a_stale_socket_is_removed_only_once_its_owner_ended_and_only_if_it_is_the_same(
    sock_dir: str,
) -> None:
    path = os.path.join(sock_dir, "1.sock")

    def bind() -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(path)
        return sock

    first = bind()
    ident = paths.socket_ident(path)
    assert not paths.remove_stale(path, os.getpid(), ident)  # the owner is alive
    assert os.path.exists(path)
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    for _ in range(500):  # ended, not reaped yet: a zombie counts as ended
        if paths.process_ended(zombie.pid):
            break
        threading.Event().wait(0.02)
    assert paths.remove_stale(path, zombie.pid, ident)
    assert not os.path.exists(path)
    first.close()
    second = bind()  # the same name, bound since by someone else
    try:
        assert paths.remove_stale(path, zombie.pid, ident)  # nothing left to do...
        assert os.path.exists(path)  # ...and the new socket is left alone
    finally:
        second.close()
        zombie.wait()
