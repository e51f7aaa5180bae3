"""Run Twisted's own reactor-heavy test modules with and without reactortrace.

The same trial command runs twice, plain and under ``reactortrace run``; the
summaries (counts of successes, failures, errors, skips...) must be equal.

    python tests/suite/twisted_suite.py                 # CI's subset, epoll and asyncio
    python tests/suite/twisted_suite.py --full          # every module, every reactor
    python tests/suite/twisted_suite.py --reactor poll twisted.test.test_tcp
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

SUBSET = (
    "twisted.test.test_internet",
    "twisted.test.test_tcp",
    "twisted.test.test_udp",
    "twisted.test.test_threads",
    "twisted.test.test_unix",
    "twisted.test.test_loopback",
    "twisted.test.test_task",
    "twisted.test.test_defer",
)
FULL = SUBSET + (
    "twisted.test.test_ssl",
    "twisted.test.test_process",
    "twisted.internet.test.test_core",
    "twisted.internet.test.test_time",
    "twisted.internet.test.test_threads",
    "twisted.internet.test.test_tcp",
    "twisted.internet.test.test_udp",
    "twisted.internet.test.test_unix",
    "twisted.internet.test.test_base",
    "twisted.internet.test.test_process",
    "twisted.internet.test.test_tls",
    "twisted.internet.test.test_defer_await",
    "twisted.internet.test.test_fdset",
)
SUMMARY = re.compile(r"^(PASSED|FAILED) \((.*)\)\s*$", re.M)


@dataclass
class Outcome:
    """What one trial run reported."""

    status: int
    summary: str
    output: str
    events: int = 0  # events in the trace (traced runs)


#: Seconds a trial run may take (about 15 s on an idle 2-core machine); then
#: it is made to dump every thread's stack, so that a hang says where it is.
TRIAL_TIMEOUT = 300


def trial(modules: list[str], reactor: str, traced: bool, workdir: str) -> Outcome:
    """Run trial once, plain or under ``reactortrace run``."""
    command = [sys.executable, "-X", "faulthandler", "-m", "twisted.trial",
               f"--reactor={reactor}", *modules]
    if traced:
        trace = os.path.join(workdir, f"trace-{reactor}.json")
        command = [sys.executable, "-m", "reactortrace", "run", "--no-tui", "-q", "-o", trace,
                   "--", *command]
    # (``run --no-tui`` becomes the program: the pid is trial's either way.)
    process = subprocess.Popen(command, cwd=workdir, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        stdout, stderr = process.communicate(timeout=TRIAL_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGABRT)  # faulthandler writes the stacks to stderr
        stdout, stderr = process.communicate()
        stderr = f"[timed out after {TRIAL_TIMEOUT} s]\n{stderr}"
    found = SUMMARY.findall(stdout)
    summary = " ".join(f"{a} ({b})" for a, b in found[-1:]) or "no summary"
    events = 0
    if traced:
        import reactortrace

        try:
            events = len(reactortrace.load(trace).events)
        except reactortrace.ReactorTraceError as exc:  # say what the run printed
            summary += f" [no trace: {exc}]"
    return Outcome(process.returncode, summary, stdout[-4000:] + stderr[-16000:], events)


def compare(modules: list[str], reactor: str) -> tuple[Outcome, Outcome]:
    """The plain and the traced outcome of the same trial command."""
    with tempfile.TemporaryDirectory() as plain_dir, tempfile.TemporaryDirectory() as traced_dir:
        with ThreadPoolExecutor(2) as pool:
            plain = pool.submit(trial, modules, reactor, False, plain_dir)
            traced = pool.submit(trial, modules, reactor, True, traced_dir)
            return plain.result(), traced.result()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("modules", nargs="*")
    parser.add_argument("--full", action="store_true", help="every module listed in FULL")
    parser.add_argument("--reactor", action="append", choices=("epoll", "poll", "select", "asyncio"))
    args = parser.parse_args(argv)
    modules = args.modules or list(FULL if args.full else SUBSET)
    reactors = args.reactor or (["epoll", "poll", "select", "asyncio"] if args.full else ["epoll", "asyncio"])
    failed = False
    for reactor in reactors:
        plain, traced = compare(modules, reactor)
        same = plain.summary == traced.summary and plain.status == traced.status
        failed |= not same
        print(f"{reactor:8s} plain: {plain.summary} [{plain.status}]   traced: {traced.summary} "
              f"[{traced.status}] {traced.events} events   {'same' if same else 'DIFFERENT'}")
        if not same:
            print(traced.output)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
