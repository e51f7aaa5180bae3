"""``reactortrace run``: scripts, modules and commands, however they end."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import urllib.request
from pathlib import Path

import pytest

import reactortrace

from .conftest import ROOT
from .conftest import reactortrace as run_cli

TICKER = textwrap.dedent(
    """
    import sys
    from twisted.internet import reactor, task

    ticks = []

    def tick():
        ticks.append(1)
        if len(ticks) == 5:
            finish()

    def finish():
        lc.stop()
        {ending}

    lc = task.LoopingCall(tick)
    lc.start(0.01)
    reactor.run()
    print("ticks", len(ticks))
    {after}
    """
)


def write_ticker(path: Path, ending: str = "reactor.stop()", after: str = "") -> Path:
    path.write_text(TICKER.format(ending=ending, after=after))
    return path


def tick_events(trace_path: Path) -> list[reactortrace.core.events.Event]:  # type: ignore[name-defined]
    trace = reactortrace.load(str(trace_path))
    return [e for e in trace.by_kind("timer") if e.name == "tick"]


def test_script_with_arguments_is_recorded_and_keeps_its_exit_status(workdir: Path) -> None:
    script = write_ticker(workdir / "app.py", after="sys.exit(int(sys.argv[1]))")
    done = run_cli(["run", "--no-tui", "-o", "trace.json", str(script), "7"], cwd=workdir)
    assert done.returncode == 7, done.stderr
    assert "ticks 5" in done.stdout
    ticks = tick_events(workdir / "trace.json")
    assert len(ticks) == 4  # LoopingCall.start runs the first tick at once, not from a timer
    assert all(e.args["looping"] for e in ticks)
    start_line = script.read_text().splitlines().index("lc.start(0.01)") + 1
    assert {e.args["site"] for e in ticks} == {f"{script}:{start_line}"}
    meta = reactortrace.load(str(workdir / "trace.json")).meta
    assert meta["argv"] == [str(script), "7"]


def test_a_trace_that_cannot_be_written_at_the_end_is_said_once_and_the_status_kept(
    workdir: Path,
) -> None:
    out = workdir / "out"
    out.mkdir()
    script = write_ticker(
        workdir / "app.py", after="sys.exit(3)",
        ending=f"import shutil; shutil.rmtree({str(out)!r}); reactor.stop()",
    )
    done = run_cli(["run", "--no-tui", "-o", str(out / "t.json"), str(script)], cwd=workdir)
    assert done.returncode == 3
    assert "ticks 5" in done.stdout
    lines = [line for line in done.stderr.splitlines() if "t.json" in line]
    assert len(lines) == 1 and "cannot write" in lines[0], done.stderr


def test_module_is_recorded(workdir: Path) -> None:
    package = workdir / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    write_ticker(package / "server.py")
    done = run_cli(["run", "--no-tui", "-o", "out/t.json", "-m", "pkg.server"], cwd=workdir)
    # the output directory does not exist: refused before the program starts
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "no directory" in done.stderr
    assert "ticks" not in done.stdout
    (workdir / "out").mkdir()
    done = run_cli(["run", "--no-tui", "-o", "out/t.json", "-m", "pkg.server"], cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert len(tick_events(workdir / "out" / "t.json")) == 4


def test_uncaught_exception_keeps_traceback_status_and_trace(workdir: Path) -> None:
    script = write_ticker(workdir / "crash.py", after="raise RuntimeError('boom')")
    done = run_cli(["run", "--no-tui", "-o", "t.json", str(script)], cwd=workdir)
    plain = subprocess.run([sys.executable, str(script)], cwd=workdir, capture_output=True, text=True)
    assert done.returncode == plain.returncode == 1
    assert "RuntimeError: boom" in done.stderr
    # the program's own stderr is the same, but for our one line
    ours = [line for line in done.stderr.splitlines() if not line.startswith("reactortrace:")]
    assert ours == plain.stderr.splitlines()
    assert len(tick_events(workdir / "t.json")) == 4


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_stops_the_program_and_the_trace_is_written(workdir: Path, sig: int) -> None:
    script = workdir / "forever.py"
    script.write_text(textwrap.dedent(
        """
        from twisted.internet import reactor, task
        def beat():
            print("beat", flush=True)
        task.LoopingCall(beat).start(0.01)
        reactor.run()
        print("stopped", flush=True)
        """
    ))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "reactortrace", "run", "--no-tui", "-o", "t.json", str(script)],
        cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    assert proc.stdout is not None
    for _ in range(4):  # the first beat is a direct call; wait for timer ones
        assert proc.stdout.readline().strip() == "beat"
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    assert "stopped" in out  # Twisted's own handler stopped the reactor
    assert proc.returncode == 0, err
    beats = [e for e in reactortrace.load(str(workdir / "t.json")).by_kind("timer") if e.name == "beat"]
    assert beats


def test_twistd_stopped_by_sigterm_writes_the_trace(workdir: Path) -> None:
    (workdir / "www").mkdir()
    (workdir / "www" / "index.html").write_text("hello")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    twistd = [sys.executable, "-m", "twisted", "web"]  # `twist web`: same runner family
    command = [
        sys.executable, "-m", "reactortrace", "run", "--no-tui", "-o", "tw.json", "--",
        sys.executable, "-c",
        "import sys; from twisted.scripts.twistd import run; sys.argv[0] = 'twistd'; run()",
        "-n", "--pidfile=", "web", "--path", "www", "--listen", "tcp:0:interface=127.0.0.1",
    ]
    del twistd
    proc = subprocess.Popen(command, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=env)
    assert proc.stdout is not None
    seen = []
    port = None
    for line in proc.stdout:
        seen.append(line)
        if "Site starting on" in line:
            port = int(line.rsplit(" ", 1)[1])
            break
    assert port is not None, "".join(seen)
    # One request: the reactor is surely running (and has its SIGTERM handler).
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html", timeout=10) as reply:
        assert reply.read() == b"hello"
    proc.send_signal(signal.SIGTERM)
    rest, _ = proc.communicate(timeout=30)
    assert "reactortrace: wrote" in rest, "".join(seen) + rest
    # twistd ends by killing itself with the signal
    assert proc.returncode == -signal.SIGTERM
    trace = reactortrace.load(str(workdir / "tw.json"))
    opened = trace.by_kind("conn.open")
    assert any(e.args["type"] == "tcp.listen" for e in opened)
    assert any(e.args["type"] == "tcp" and e.name.startswith("twisted.web") for e in opened)
    assert any(e.name == "shutdown" for e in trace.by_kind("system"))


def test_trial_changes_directory_but_the_trace_goes_where_asked(workdir: Path) -> None:
    tests = workdir / "mytests"
    tests.mkdir()
    (tests / "__init__.py").write_text("")
    (tests / "test_a.py").write_text(textwrap.dedent(
        """
        from twisted.internet import reactor, task
        from twisted.trial import unittest

        def later():
            return 42

        class T(unittest.TestCase):
            def test_later(self):
                d = task.deferLater(reactor, 0.01, later)
                d.addCallback(self.assertEqual, 42)
                return d
        """
    ))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(workdir)]))
    done = subprocess.run(
        [sys.executable, "-m", "reactortrace", "run", "--no-tui", "-o", "trial.json", "--",
         sys.executable, "-m", "twisted.trial", "mytests"],
        cwd=workdir, capture_output=True, text=True, env=env, timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASSED" in done.stdout
    assert (workdir / "_trial_temp").is_dir()
    trace = reactortrace.load(str(workdir / "trial.json"))
    assert [e.name for e in trace.by_kind("timer") if e.name.endswith("later")] == ["mytests.test_a.later"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "--no-tui", "missing.py"], "no such script: missing.py"),
        (["run", "--bogus", "x.py"], "unrecognized arguments: --bogus"),
        (["run", "-m", "no_such_module_here"], "no module named no_such_module_here"),
        (["run", "--", "no-such-command-here"], "command not found: no-such-command-here"),
        (["run", "--max-events", "lots", "x.py"], "--max-events: not a whole number"),
        (["run"], "nothing to run"),
        (["frobnicate"], "unknown command 'frobnicate'"),
    ],
)
def test_usage_errors_are_one_line_and_status_2(workdir: Path, args: list[str], message: str) -> None:
    done = run_cli(args, cwd=workdir)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("python_args", [["-I"], ["-Es"], ["-X", "dev", "-S"], ["-bI"]])
def test_python_skipping_the_bootstrap_is_refused(workdir: Path, python_args: list[str]) -> None:
    """``python -I``/``-E``/``-S`` would run untraced: one line, status 2, nothing run."""
    marker = workdir / "ran"
    script = workdir / "prog.py"
    script.write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    done = run_cli(["run", "--no-tui", "-o", "t.json", "--", sys.executable, *python_args,
                    str(script)], cwd=workdir)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    option = "-" + next(c for c in "".join(python_args) if c in "IES")
    assert len(lines) == 1 and f"runs Python with {option}" in lines[0], done.stderr
    assert not marker.exists() and not (workdir / "t.json").exists()


def test_a_script_whose_interpreter_line_isolates_python_is_refused(workdir: Path) -> None:
    script = workdir / "tool"
    script.write_text(f"#!{sys.executable} -I\nprint('ran')\n")
    script.chmod(0o755)
    done = run_cli(["run", "--no-tui", "-o", "t.json", "--", str(script)], cwd=workdir)
    assert done.returncode == 2 and "runs Python with -I" in done.stderr, done.stderr


def test_python_options_that_keep_the_bootstrap_are_traced(workdir: Path) -> None:
    """``-W error``, ``-X dev``, ``-u`` (and a program's own ``-I`` after ``-c``) run traced."""
    done = run_cli(["run", "--no-tui", "-q", "-o", "t.json", "--", sys.executable, "-u",
                    "-W", "default", "-X", "dev", "-c",
                    "from twisted.internet import reactor; reactor.callLater(0, reactor.stop); "
                    "reactor.run()", "-I"], cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert reactortrace.load(str(workdir / "t.json")).events


def test_programs_started_by_the_program_are_not_traced(workdir: Path) -> None:
    script = workdir / "parent.py"
    script.write_text(textwrap.dedent(
        """
        import os, subprocess, sys
        from twisted.internet import reactor
        child = subprocess.run([sys.executable, "-c",
            "import os; print(os.environ.get('REACTORTRACE_CONFIG'), os.environ.get('PYTHONPATH'))"],
            capture_output=True, text=True)
        print("child:", child.stdout.strip())
        reactor.callLater(0, reactor.stop)
        reactor.run()
        """
    ))
    env_pythonpath = os.environ.get("PYTHONPATH")
    done = run_cli(["run", "--no-tui", "-o", "t.json", str(script)], cwd=workdir)
    assert done.returncode == 0, done.stderr
    child_line = next(line for line in done.stdout.splitlines() if line.startswith("child:"))
    assert "None" in child_line.split()[1]
    assert "_bootstrap" not in child_line
    del env_pythonpath


LEFT_WAITING = textwrap.dedent(
    """
    from twisted.internet import defer, reactor, task

    @defer.inlineCallbacks
    def forever():
        yield task.deferLater(reactor, 3600, lambda: None)

    forever()
    reactor.callLater(0.05, reactor.stop)
    reactor.run()
    """
)


@pytest.mark.parametrize("flags", [[], ["--deferred-view"], ["--track-deferreds"]],
                         ids=["default", "view", "track"])
def test_the_trace_lists_pending_deferreds_when_asked(
    workdir: Path, flags: list[str]
) -> None:
    script = workdir / "waits.py"
    script.write_text(LEFT_WAITING)
    done = run_cli(["run", "--no-tui", *flags, "-o", "trace.json", str(script)], cwd=workdir)
    assert done.returncode == 0, done.stderr
    trace = reactortrace.load(str(workdir / "trace.json"))
    assert trace.snapshot is not None
    assert trace.meta["options"]["deferred_view"] is bool(flags)
    if not flags:  # off by default: it costs about 1.7 µs per Deferred made
        assert trace.snapshot.deferreds is None
        return
    assert trace.snapshot.deferreds is not None
    (waiting,) = [d for d in trace.snapshot.deferreds.deferreds if d.name == "forever"]
    assert waiting.kind == "inlineCallbacks" and waiting.suspended_at == f"{script}:6"
    assert waiting.fired_by.startswith("timer ")
