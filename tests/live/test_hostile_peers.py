"""attach and the live server check whom they talk to, and bound what they read.

A socket in another user's or an open directory, a server running as another
user, a server that sends garbage or one endless line: each is refused with
one line (status 2 from ``attach``), and the viewer's memory stays bounded.
The server, for its part, takes no viewer of another user. These tests make
other users' files and processes, so they run as root (as CI does).
"""

from __future__ import annotations

import os
import resource
import socket
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from reactortrace.errors import ReactorTraceError
from reactortrace.live import protocol
from reactortrace.live.client import LiveFeed
from reactortrace.live.server import LiveServer

from ..formats.hostile import check_outcome, run_cli
from .fakes import FakeProgram, wait_until
from .test_server_client import fake_server, hello_line

NOBODY = 65534

pytestmark = pytest.mark.skipif(os.getuid() != 0, reason="makes files of other users")


def listening(path: str) -> socket.socket:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)
    return listener


def test_a_socket_in_a_directory_of_another_user_is_refused(sock_dir: str) -> None:
    planted = f"{sock_dir}/planted"
    os.mkdir(planted, 0o700)
    os.chown(planted, NOBODY, NOBODY)
    listener = listening(f"{planted}/1.sock")  # ours, in their directory
    try:
        with pytest.raises(ReactorTraceError, match="directory of another user"):
            LiveFeed(f"{planted}/1.sock")
        outcome = run_cli("attach", f"{planted}/1.sock")
        check_outcome(outcome)
        assert outcome.status == 2 and "not trusted" in outcome.err
    finally:
        listener.close()


def test_a_socket_in_a_directory_others_may_write_is_refused(sock_dir: str) -> None:
    listener = listening(f"{sock_dir}/1.sock")
    try:
        os.chmod(sock_dir, 0o777)
        with pytest.raises(ReactorTraceError, match="others may write to"):
            LiveFeed(f"{sock_dir}/1.sock")
    finally:
        os.chmod(sock_dir, 0o700)
        listener.close()


def as_nobody(work: Callable[[], bytes]) -> tuple[int, bytes]:
    """Run ``work`` in a forked child that became user nobody; (pid, what it wrote first).

    Forked, not executed: nobody may not read this interpreter's directory.
    The child writes ``work()``'s result to a pipe and leaves with os._exit.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.close(read_end)
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            os.write(write_end, work())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        first = pipe.read(64)
    return pid, first


def test_a_server_of_another_user_is_refused(sock_dir: str) -> None:
    """The socket file and its directory are ours, but the process serving it is not."""
    path = f"{sock_dir}/1.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    # A viewer sees the credentials of the process that called listen().
    def serve() -> bytes:
        listener.listen(1)
        return b"ready"

    pid, said = as_nobody(serve)
    try:
        assert said == b"ready"
        with pytest.raises(ReactorTraceError, match=f"another user \\(uid {NOBODY}\\)"):
            LiveFeed(path)
    finally:
        os.waitpid(pid, 0)
        listener.close()


def test_the_server_takes_no_viewer_of_another_user(sock_dir: str) -> None:
    program = FakeProgram()
    server = LiveServer(program, f"{sock_dir}/1.sock", interval=0.05, idle_interval=0.2)
    server.start()
    try:
        # Opened up by mistake: the peer check still keeps the stranger out.
        os.chmod(sock_dir, 0o755)
        os.chmod(server.path, 0o666)

        def look() -> bytes:
            stranger = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            stranger.settimeout(10)
            stranger.connect(server.path)
            return b"got %d" % len(stranger.recv(65536))

        pid, said = as_nobody(look)
        os.waitpid(pid, 0)
        assert said == b"got 0"  # closed at once: no hello
        os.chmod(sock_dir, 0o700)
        feed = LiveFeed(server.path)  # its own user still gets in
        try:
            assert feed.meta["program"] == "shop.py"
        finally:
            feed.close()
    finally:
        os.chmod(sock_dir, 0o700)
        server.finish()


def test_garbage_instead_of_a_hello_is_one_line_status_2(sock_dir: str) -> None:
    path = fake_server(sock_dir, [b"\x1b]2;PWNED\x07 garbage\n"], close=True)
    outcome = run_cli("attach", path)
    check_outcome(outcome)
    assert outcome.status == 2 and "live stream: not JSON" in outcome.err


def test_a_wrong_typed_message_is_refused(sock_dir: str) -> None:
    bad = b'{"type": "hello", "interval_ms": "soon", "meta": {}, "snapshot": {"ts": 0}}\n'
    outcome = run_cli("attach", fake_server(sock_dir, [bad], close=True))
    check_outcome(outcome)
    assert outcome.status == 2 and "bad hello message" in outcome.err


def endless_server(sock_dir: str, first: bytes) -> tuple[str, threading.Event]:
    """A server that sends ``first`` and then one line that never ends."""
    path = f"{sock_dir}/endless.sock"
    listener = listening(path)
    stop = threading.Event()

    def serve() -> None:
        conn, _ = listener.accept()
        chunk = b"x" * 65536
        try:
            conn.sendall(first)
            while not stop.is_set():
                conn.sendall(chunk)
        except OSError:
            pass
        conn.close()
        listener.close()

    threading.Thread(target=serve, daemon=True).start()
    return path, stop


def test_an_endless_hello_is_cut_at_16_mib(sock_dir: str) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    path, stop = endless_server(sock_dir, b'{"type": "hello", "meta": {"a": "')
    try:
        outcome = run_cli("attach", path)
    finally:
        stop.set()
    check_outcome(outcome)
    assert outcome.status == 2 and "message too long" in outcome.err
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 200


def test_an_endless_update_ends_the_feed_with_one_error(sock_dir: str) -> None:
    path, stop = endless_server(sock_dir, hello_line())
    feed = LiveFeed(path)
    try:
        def failed() -> str | None:
            try:
                feed.poll()
            except ReactorTraceError as exc:
                return str(exc)
            return None

        message = wait_until(failed, timeout=60)
        assert message == "live stream: message too long"
    finally:
        stop.set()
        feed.close()


def test_a_dead_socket_is_one_line(sock_dir: str, tmp_path: Path) -> None:
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(f"{sock_dir}/stale.sock")
    stale.close()
    outcome = run_cli("attach", f"{sock_dir}/stale.sock")
    check_outcome(outcome)
    assert outcome.status == 2 and "nothing listens" in outcome.err
    assert protocol.MAX_LINE == 16 * 1024 * 1024
