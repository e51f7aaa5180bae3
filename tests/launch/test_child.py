"""A program run as the TUI's child: its output, stopping it, detaching from it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from reactortrace.core.feed import ENDED
from reactortrace.core.snapshot import Snapshot
from reactortrace.launch.child import ChildProgram, ProgramFeed
from reactortrace.launch.env import program_environment
from reactortrace.launch.program import session_config
from reactortrace.launch.target import Target
from reactortrace.live.paths import output_path

from ..live.fakes import wait_until

WORKLOAD = str(Path(__file__).parent.parent / "live" / "workload.py")


def python(code: str) -> list[str]:
    return [sys.executable, "-u", "-c", textwrap.dedent(code)]


def start(code: str, directory: str) -> ChildProgram:
    return ChildProgram(python(code), dict(os.environ), directory)


def lines_until(child: ChildProgram, last: str, timeout: float = 10.0) -> list[str]:
    got: list[str] = []

    def done() -> bool:
        got.extend(child.output.take())
        return last in got

    wait_until(done, timeout)
    return got


def test_stdout_and_stderr_come_as_lines_in_order(sock_dir: str) -> None:
    child = start(
        """
        import sys
        print("one")
        print("two", file=sys.stderr)
        print("three")
        sys.stdout.write("no newline at the end")
        """,
        sock_dir,
    )
    assert child.wait(10) == 0
    assert lines_until(child, "no newline at the end") == [
        "one", "two", "three", "no newline at the end"
    ]
    child.close()


IGNORES = """
import signal, sys, time
for name in sys.argv[1:]:
    signal.signal(getattr(signal, name), signal.SIG_IGN)
print("ready", flush=True)
while True:
    time.sleep(1)
"""


@pytest.mark.parametrize(
    ("ignored", "status", "said"),
    [
        ((), 130, []),
        (("SIGINT",), 143, ["SIGTERM"]),
        (("SIGINT", "SIGTERM"), 137, ["SIGTERM", "SIGKILL"]),
    ],
)
def test_stop_escalates_sigint_sigterm_sigkill(
    sock_dir: str, ignored: tuple[str, ...], status: int, said: list[str]
) -> None:
    child = ChildProgram([sys.executable, "-c", IGNORES, *ignored], dict(os.environ), sock_dir)
    lines_until(child, "ready")
    messages: list[str] = []
    assert child.stop(grace=0.3, say=messages.append) == status
    assert [m.rsplit(" ", 1)[-1] for m in messages] == said
    assert not child.running()
    child.close()


def test_detach_leaves_it_running_and_its_output_goes_to_a_file(sock_dir: str) -> None:
    child = start(
        """
        import sys, time
        print("before", flush=True)
        for line in sys.stdin:  # /dev/null: no input ever
            pass
        n = 0
        while True:
            n += 1
            print(f"line {n}", flush=True)
            time.sleep(0.02)
        """,
        sock_dir,
    )
    try:
        lines_until(child, "line 2")
        path = child.detach()
        assert os.stat(path).st_mode & 0o777 == 0o600
        wait_until(lambda: "line 20\n" in Path(path).read_text())
        assert child.running()
        text = Path(path).read_text()
        # No line lost or doubled at the hand-over.
        numbers = [int(line.split()[1]) for line in text.splitlines() if line.startswith("line")]
        assert numbers == list(range(numbers[0], numbers[-1] + 1))
    finally:
        child.stop(grace=1.0)
        child.close()


def test_connect_gives_up_when_the_program_never_listens(sock_dir: str) -> None:
    child = start("print('not twisted')", sock_dir)
    waited: list[float] = []
    assert child.connect(on_wait=waited.append) is None
    assert child.wait() == 0
    child.close()
    assert child.output.take() == ["not twisted"]


def test_program_feed_brings_the_live_state_the_output_and_the_end(sock_dir: str) -> None:
    target = Target("script", WORKLOAD, ["--rounds", "50", "--pace", "0.005"])
    env = program_environment(session_config(target, {"listen": sock_dir, "tui": True}, None))
    child = ChildProgram(target.argv(), env, sock_dir)
    live = child.connect()
    assert live is not None
    feed = ProgramFeed(child, live)
    assert feed.meta["pid"] == child.pid
    assert feed.meta["reactor"].startswith("twisted.internet.")
    output: list[str] = []
    last: list[Snapshot] = []

    def ended() -> bool:
        update = feed.poll()
        output.extend(update.output)
        last.append(update.snapshot)
        return update.state == ENDED and any("exited" in line for line in output)

    wait_until(ended, timeout=30)
    feed.close()
    child.close()
    assert output[0] == "started"
    assert "rounds=50" in output
    assert output[-1] == "[reactortrace] the program exited with status 0"
    # The aggregates are exact whenever the records came (the echo may be over
    # before the first update: a quiet start is sent news every 0.4 s, and the
    # event log of a busy burst is sampled): the server read every round.
    reads = {(c.name, c.kind): c.count for c in last[-1].callables}
    assert reads[("__main__.Echo", "io.read")] >= 50
    assert not os.path.exists(child.socket)


def test_a_killed_viewer_leaves_the_program_writing_without_errors(
    sock_dir: str, tmp_path: Path
) -> None:
    """The viewer dies with SIGKILL: the program goes on printing (to the file a
    detached program's output goes to) and never sees a broken pipe."""
    marker = tmp_path / "result"
    program = textwrap.dedent(f"""
        import sys, time
        try:
            for n in range(150):
                print("line", n)
                print("error", n, file=sys.stderr)
                time.sleep(0.01)
            result = "ok"
        except BaseException as exc:
            result = repr(exc)
        open({str(marker)!r}, "w").write(result)
    """)
    viewer = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from reactortrace.launch.child import ChildProgram
            child = ChildProgram([sys.executable, "-u", "-c", {program!r}], {{}}, {sock_dir!r})
            print(child.pid, flush=True)
            time.sleep(120)
        """)],
        stdout=subprocess.PIPE, text=True,
    )
    assert viewer.stdout is not None
    pid = int(viewer.stdout.readline())
    viewer.kill()
    viewer.wait()
    wait_until(marker.exists, 60)
    assert marker.read_text() == "ok"
    kept = Path(output_path(pid, sock_dir))
    wait_until(lambda: "line 149" in kept.read_text(), 30)
    assert "error 149" in kept.read_text()
