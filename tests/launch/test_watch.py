"""``reactortrace run`` with the TUI, the TUI replaced by a script: stop, detach, status."""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import reactortrace
from reactortrace.core.feed import ENDED, Feed
from reactortrace.launch import watch as tui_launch
from reactortrace.launch.target import Target
from reactortrace.live.paths import pid_alive, socket_path

from ..live.fakes import short_tempdir, wait_until

WORKLOAD = str(Path(__file__).parent.parent / "live" / "workload.py")


@pytest.fixture(autouse=True)
def runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    path = short_tempdir()
    monkeypatch.setenv("XDG_RUNTIME_DIR", path)
    yield path
    shutil.rmtree(path, ignore_errors=True)


class ScriptedTui:
    """Stands in for :func:`tui_launch.show`: polls until ``done``, then quits."""

    def __init__(self, done: Callable[[Any, list[str]], bool], result: Any = None) -> None:
        self.done = done
        self.result = result
        self.pid: int | None = None
        self.output: list[str] = []
        self.closed = False

    def __call__(self, feed: Feed, title: str | None = None,
                 history: float | None = None) -> Any:
        self.pid = feed.meta["pid"]

        def finished() -> bool:
            update = feed.poll()
            self.output.extend(update.output)
            return self.done(update, self.output)

        wait_until(finished, timeout=30)
        feed.close()
        return self.result


def kill(pid: int) -> None:
    """Kill a program left running, and reap it (it is still our child here)."""
    os.kill(pid, signal.SIGKILL)
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def watch(monkeypatch: pytest.MonkeyPatch, tui: ScriptedTui, args: list[str],
          options: dict[str, Any] | None = None, **kwargs: Any) -> int:
    monkeypatch.setattr(tui_launch, "show", tui)
    target = Target("script", WORKLOAD, args)
    return tui_launch.watch(target, dict(options or {}), **kwargs)


def test_quitting_stops_the_program_and_its_trace_is_still_written(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    trace = str(tmp_path / "t.json")
    tui = ScriptedTui(lambda update, output: update.snapshot.loop.events > 50)
    status = watch(monkeypatch, tui, ["--rounds", "100000"], {"output": trace, "format": "json"})
    assert status == 0  # a Twisted program stops cleanly on SIGINT
    assert tui.pid is not None and not pid_alive(tui.pid)
    assert tui.output[0] == "started"
    assert reactortrace.load(trace).events
    # What the program said after the TUI had closed is not lost.
    assert f"wrote {trace}" in capfd.readouterr().out


def test_a_program_that_ends_by_itself_gives_its_exit_status(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tui = ScriptedTui(lambda update, output: update.state == ENDED and "exited" in output[-1])
    status = watch(monkeypatch, tui, ["--rounds", "20", "--status", "3"])
    assert status == 3
    assert "rounds=20" in tui.output
    assert tui.output[-1] == "[reactortrace] the program exited with status 3"


def test_detach_on_quit_leaves_it_running(
    monkeypatch: pytest.MonkeyPatch, runtime: str, capfd: pytest.CaptureFixture[str]
) -> None:
    tui = ScriptedTui(lambda update, output: update.snapshot.loop.events > 20)
    status = watch(monkeypatch, tui, ["--rounds", "100000"], detach_on_quit=True)
    assert tui.pid is not None
    try:
        assert status == 0
        assert pid_alive(tui.pid)
        err = capfd.readouterr().err
        assert f"reactortrace attach {tui.pid}" in err
        assert os.path.exists(socket_path(tui.pid, os.path.join(runtime, "reactortrace")))
    finally:
        kill(tui.pid)


def test_a_detach_request_from_the_tui_leaves_it_running(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tui = ScriptedTui(lambda update, output: update.snapshot.loop.events > 20, result=tui_launch.DETACH)
    assert watch(monkeypatch, tui, ["--rounds", "100000"]) == 0
    assert tui.pid is not None
    try:
        assert pid_alive(tui.pid)
    finally:
        kill(tui.pid)
