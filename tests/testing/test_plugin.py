"""``pytest --reactortrace=DIR`` and ``--reactortrace-slow=MS`` on small test suites.

Each suite runs in a child pytest (a reactor installs once per process): with
pytest-twisted running the reactor in its greenlet, and without it, with
tests that install and spin a reactor themselves.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import reactortrace
from reactortrace.core.trace import Trace

from ..formats import chrome_checker
from .conftest import Runner

BLOCK_S = 0.3
SLOW_MS = 100  # a third of the block: a busy machine does not blur the two

TWISTED_TESTS = f"""
import time

import pytest_twisted
from twisted.internet import reactor, task


def alpha_marker():
    return "alpha"


def blocking_marker():
    time.sleep({BLOCK_S})


@pytest_twisted.inlineCallbacks
def test_fast():
    yield task.deferLater(reactor, 0.01, alpha_marker)


@pytest_twisted.inlineCallbacks
def test_blocking():
    yield task.deferLater(reactor, 0.01, blocking_marker)


@pytest_twisted.inlineCallbacks
def test_fast_again():
    result = yield task.deferLater(reactor, 0.01, alpha_marker)
    assert result == "alpha"
"""

PLAIN_CONFTEST = """
import pytest


@pytest.fixture(scope="session")
def reactor():
    from twisted.internet import selectreactor

    selectreactor.install()
    from twisted.internet import reactor

    return reactor


@pytest.fixture
def spin(reactor):
    def run(d, timeout=10.0):
        results = []
        d.addBoth(results.append)
        deadline = reactor.seconds() + timeout
        while not results and reactor.seconds() < deadline:
            reactor.iterate(0.01)
        assert results, "timed out"
        return results[0]

    return run
"""

PLAIN_TESTS = f"""
import sys
import time

from twisted.internet import task


def alpha_marker():
    return "alpha"


def blocking_marker():
    time.sleep({BLOCK_S})


def test_no_reactor_yet():
    assert "twisted.internet.reactor" not in sys.modules


def test_fast(reactor, spin):
    assert spin(task.deferLater(reactor, 0.01, alpha_marker)) == "alpha"


def test_blocking(reactor, spin):
    spin(task.deferLater(reactor, 0.01, blocking_marker))


def test_fails(reactor, spin):
    spin(task.deferLater(reactor, 0.01, alpha_marker))
    assert False, "on purpose"
"""


def traces(directory: Path) -> dict[str, Trace]:
    """The traces written, by test name."""
    found = {}
    for path in sorted(directory.iterdir()):
        trace = reactortrace.load(str(path))
        found[trace.meta["test"]["nodeid"].rpartition("::")[2]] = trace
    return found


def timer_names(trace: Trace) -> set[str]:
    return {e.name.rpartition(".")[2] for e in trace.events if e.kind == "timer"}


def section(output: str, title: str) -> list[str]:
    """The lines of the terminal summary's section whose heading holds ``title``."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if title in line)
    found = []
    for line in lines[start + 1 :]:
        if line.startswith("reactortrace:") or line.startswith("="):
            break
        if line.strip():
            found.append(line)
    return found


def slow_section(output: str) -> list[str]:
    """The lines of the summary section listing blocking tests."""
    return section(output, "tests that blocked the reactor")


@pytest.mark.parametrize("reactor", ["default", "asyncio"])
def test_pytest_twisted_suite_gets_one_trace_per_test_and_the_blocking_one_reported(
    pytester: pytest.Pytester, run: Runner, reactor: str
) -> None:
    pytester.makepyfile(test_suite=TWISTED_TESTS)
    out = pytester.path / "traces"
    result = run(
        f"--reactor={reactor}", f"--reactortrace={out}", f"--reactortrace-slow={SLOW_MS}",
        twisted=True,
    )
    result.assert_outcomes(passed=3)
    assert sorted(p.name for p in out.iterdir()) == [
        "test_suite.py__test_blocking.json",
        "test_suite.py__test_fast.json",
        "test_suite.py__test_fast_again.json",
    ]
    found = traces(out)
    assert timer_names(found["test_fast"]) >= {"alpha_marker"}
    assert timer_names(found["test_fast_again"]) >= {"alpha_marker"}
    assert "blocking_marker" in timer_names(found["test_blocking"])
    assert "blocking_marker" not in timer_names(found["test_fast"]) | timer_names(
        found["test_fast_again"]
    )
    expected = "AsyncioSelectorReactor" if reactor == "asyncio" else "EPollReactor"
    assert all(t.meta["reactor"].endswith(expected) for t in found.values())
    (line,) = slow_section(result.stdout.str())
    match = re.match(r"\s*([\d.]+) ms\s+test_suite.py::test_blocking\s+\(.*blocking_marker", line)
    assert match, line
    assert BLOCK_S * 1000 <= float(match.group(1)) < BLOCK_S * 1000 * 3


def test_a_suite_that_runs_its_own_reactor_is_recorded_per_test(
    pytester: pytest.Pytester, run: Runner
) -> None:
    pytester.makeconftest(PLAIN_CONFTEST)
    pytester.makepyfile(test_plain=PLAIN_TESTS)
    out = pytester.path / "traces"
    result = run(f"--reactortrace={out}", f"--reactortrace-slow={SLOW_MS}")
    # the plugin installed no reactor of its own: the conftest could install select
    result.assert_outcomes(passed=3, failed=1)
    found = traces(out)
    assert set(found) == {"test_fast", "test_blocking", "test_fails"}  # no reactor in the first
    assert all(t.meta["reactor"].endswith("SelectReactor") for t in found.values())
    assert timer_names(found["test_fast"]) == {"alpha_marker"}
    assert timer_names(found["test_blocking"]) == {"blocking_marker"}
    assert found["test_fails"].meta["test"]["outcome"] == "failed"
    assert found["test_fast"].meta["test"]["outcome"] == "passed"
    (line,) = slow_section(result.stdout.str())
    assert "test_plain.py::test_blocking" in line
    assert f"traces of 3 tests in {out}" in result.stdout.str()


def test_trial_test_cases_run_by_pytest_get_a_trace_each(
    pytester: pytest.Pytester, run: Runner
) -> None:
    pytester.makepyfile(
        test_trial=f"""
        import time

        from twisted.internet import reactor, task
        from twisted.trial import unittest


        def alpha_marker():
            return "alpha"


        def blocking_marker():
            time.sleep({BLOCK_S})


        class Cases(unittest.TestCase):
            def test_fast(self):
                return task.deferLater(reactor, 0.01, alpha_marker)

            def test_blocking(self):
                return task.deferLater(reactor, 0.01, blocking_marker)
        """
    )
    out = pytester.path / "traces"
    result = run(f"--reactortrace={out}", f"--reactortrace-slow={SLOW_MS}")
    result.assert_outcomes(passed=2)
    found = traces(out)
    assert timer_names(found["test_fast"]) == {"alpha_marker"}
    assert timer_names(found["test_blocking"]) == {"blocking_marker"}
    (line,) = slow_section(result.stdout.str())
    assert "test_trial.py::Cases::test_blocking" in line


def test_chrome_format_per_test(pytester: pytest.Pytester, run: Runner) -> None:
    pytester.makepyfile(test_suite=TWISTED_TESTS)
    out = pytester.path / "chrome"
    result = run(
        f"--reactortrace={out}", "--reactortrace-format=chrome", "-k", "fast", twisted=True
    )
    result.assert_outcomes(passed=2, deselected=1)
    written = sorted(out.iterdir())
    assert [p.name for p in written] == [
        "test_suite.py__test_fast.chrome.json",
        "test_suite.py__test_fast_again.chrome.json",
    ]
    for path in written:
        doc = chrome_checker.load(path)
        chrome_checker.check(doc)
        slices = [e["name"] for e in doc["traceEvents"] if e["ph"] == "X"]
        assert any(name.endswith("alpha_marker") for name in slices)


def test_redacted_per_test_traces(pytester: pytest.Pytester, run: Runner) -> None:
    """``--reactortrace-redact``: no directory, host or argv beyond the program's
    name in the files; the recording itself is whole."""
    pytester.makepyfile(test_suite=TWISTED_TESTS)
    out = pytester.path / "shared"
    result = run(f"--reactortrace={out}", "--reactortrace-redact", "-k", "fast", twisted=True)
    result.assert_outcomes(passed=2, deselected=1)
    for path in sorted(out.iterdir()):
        data = path.read_text()
        assert str(pytester.path) not in data
        trace = reactortrace.load(str(path))
        assert "host" not in trace.meta and len(trace.meta["argv"]) <= 1
        sites = {e.args.get("site") for e in trace.events if e.args.get("site")}
        assert sites and all(not site.startswith("/") for site in sites), sites
        assert any(e.name.endswith("alpha_marker") for e in trace.by_kind("timer"))


def test_without_options_the_plugin_does_nothing(pytester: pytest.Pytester, run: Runner) -> None:
    pytester.makepyfile(
        test_quiet="""
        from twisted.internet import main

        def test_install_is_not_wrapped():
            assert not hasattr(main.installReactor, "__wrapped__")
        """
    )
    result = run()
    result.assert_outcomes(passed=1)
    assert "reactortrace" not in result.stdout.str()


def test_a_bad_threshold_is_a_usage_error(pytester: pytest.Pytester, run: Runner) -> None:
    pytester.makepyfile(test_x="def test_x(): pass")
    result = run("--reactortrace-slow=0")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--reactortrace-slow must be above zero" in result.stderr.str()


def test_a_failure_inside_reactortrace_stops_recording_but_not_the_tests(
    pytester: pytest.Pytester, run: Runner
) -> None:
    pytester.makeconftest(
        PLAIN_CONFTEST
        + """
from reactortrace.instrumentation.tracer import Tracer


def broken(self):
    raise RuntimeError("resolver broke")


Tracer.new_events = broken
"""
    )
    pytester.makepyfile(test_plain=PLAIN_TESTS)
    result = run(f"--reactortrace={pytester.path / 'traces'}", f"--reactortrace-slow={SLOW_MS}")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(["reactortrace: recording stopped: RuntimeError: resolver broke"])


def test_trace_file_names_are_safe_and_unique() -> None:
    from reactortrace.testing.recorder import trace_file_name

    taken: set[str] = set()
    first = trace_file_name("tests/a b.py::T::test[x/y-1]", ".json", taken)
    again = trace_file_name("tests/a_b.py::T::test[x/y-1]", ".json", taken)
    long = trace_file_name("t.py::test[" + "x" * 500 + "]", ".json", taken)
    assert first == "tests_a_b.py__T__test_x_y-1.json"
    assert again != first and again.startswith("tests_a_b.py__T__test_x_y-1-")
    assert len(long) < 200 and re.fullmatch(r"[A-Za-z0-9._-]+", long)


LEFTOVER_TESTS = """
import pytest_twisted
from twisted.internet import reactor, task


def forgotten():
    pass


def alpha_marker():
    return "alpha"


@pytest_twisted.inlineCallbacks
def test_leaves_a_timer():
    reactor.callLater(30, forgotten)  # @leftover
    yield task.deferLater(reactor, 0.01, alpha_marker)


@pytest_twisted.inlineCallbacks
def test_cleans_up():
    call = reactor.callLater(30, forgotten)
    yield task.deferLater(reactor, 0.01, alpha_marker)
    call.cancel()
"""


def warnings_section(output: str) -> list[str]:
    """The lines of the summary section listing each test's warnings."""
    return section(output, "reactortrace: warnings per test")


@pytest.mark.parametrize("reactor", ["default", "asyncio"])
def test_a_timer_left_pending_by_a_test_is_a_warning_of_that_test(
    pytester: pytest.Pytester, run: Runner, reactor: str
) -> None:
    pytester.makepyfile(test_left=LEFTOVER_TESTS)
    out = pytester.path / "traces"
    result = run(f"--reactor={reactor}", f"--reactortrace={out}", twisted=True)
    result.assert_outcomes(passed=2)
    source = (pytester.path / "test_left.py").read_text().splitlines()
    line = next(n for n, text in enumerate(source, 1) if "@leftover" in text)
    section = warnings_section(result.stdout.str())
    assert section[0] == "test_left.py::test_leaves_a_timer", section
    assert len(section) == 2, section  # the test that cancelled its timer is clean
    assert section[1].lstrip().startswith(f"leftover-timer (test_left.py:{line}): a timer for")
    assert "forgotten" in section[1] and "still pending when the test ended" in section[1]
    found = traces(out)
    (warning,) = found["test_leaves_a_timer"].snapshot.warnings
    assert warning["code"] == "leftover-timer"
    assert warning["where"] == f"{pytester.path / 'test_left.py'}:{line}"
    assert found["test_cleans_up"].snapshot.warnings == ()
