"""Which process of a forking program takes the trace path: the first to ask, once."""

from __future__ import annotations

import os
from pathlib import Path

from reactortrace.launch.claim import OutputClaim, beside


def in_child(body) -> int:  # type: ignore[no-untyped-def]
    """Run ``body()`` (an int) in a forked child; its exit code."""
    pid = os.fork()
    if pid == 0:
        code = 99
        try:
            code = body()
        finally:
            os._exit(code)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def test_beside_puts_the_pid_before_the_extension() -> None:
    assert beside("/t/trace.json", 42) == "/t/trace-42.json"
    assert beside("/t/trace.chrome.json", 42) == "/t/trace.chrome-42.json"
    assert beside("/t/trace", 42) == "/t/trace-42"


def test_the_first_process_to_ask_takes_the_path_the_others_get_their_own(tmp_path: Path) -> None:
    path = str(tmp_path / "trace.json")
    claim = OutputClaim(path)
    # A child asks first (twistd's daemon): it wins; then the parent asks.
    assert in_child(lambda: 0 if claim.take() == path else 1) == 0
    assert claim.take() == beside(path, os.getpid())
    assert claim.take() == beside(path, os.getpid())  # decided for good


def test_children_of_the_owner_never_take_the_path(tmp_path: Path) -> None:
    path = str(tmp_path / "trace.json")
    claim = OutputClaim(path)
    assert claim.take() == path

    def child() -> int:
        return 0 if claim.take() == beside(path, os.getpid()) else 1

    assert in_child(child) == 0
    assert claim.take() == path


def test_a_descriptor_the_program_closed_and_reused_is_not_read(tmp_path: Path) -> None:
    path = str(tmp_path / "trace.json")
    claim = OutputClaim(path)

    def child() -> int:
        fd = claim._fd
        assert fd is not None
        os.close(fd)  # a daemon closing every descriptor...
        read_end, write_end = os.pipe()  # ...and reusing the number
        if read_end != fd:
            os.dup2(read_end, fd)
        os.write(write_end, b"1")
        taken = claim.take()
        left = os.read(fd, 1)  # the program's byte is still there
        return 0 if taken == beside(path, os.getpid()) and left == b"1" else 1

    assert in_child(child) == 0
