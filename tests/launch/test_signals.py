"""StopGuard: ours hears a stop signal first, then the program's handling goes on unchanged."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from reactortrace.launch.signals import StopGuard


@pytest.fixture
def handlers() -> Iterator[None]:
    """Put SIGINT's and SIGTERM's handlers back as they were."""
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)


def test_the_program_handler_runs_after_ours_with_its_arguments(handlers: None) -> None:
    calls: list[tuple[str, int, object]] = []

    def program(signum: int, frame: object) -> None:
        calls.append(("program", signum, frame is not None))

    signal.signal(signal.SIGTERM, program)
    guard = StopGuard(lambda signum, ends_now: calls.append(("ours", signum, ends_now)))
    assert guard.install()
    signal.raise_signal(signal.SIGTERM)
    assert calls == [("ours", signal.SIGTERM, False), ("program", signal.SIGTERM, True)]


def test_a_failure_of_ours_never_stops_the_program_handler(handlers: None) -> None:
    seen: list[int] = []

    def broken(signum: int, ends_now: bool) -> None:
        raise RuntimeError("ours broke")

    signal.signal(signal.SIGTERM, lambda signum, frame: seen.append(signum))
    StopGuard(broken).install()
    signal.raise_signal(signal.SIGTERM)
    assert seen == [signal.SIGTERM]


def test_the_program_handler_exception_reaches_the_program(handlers: None) -> None:
    def program(signum: int, frame: object) -> None:
        raise SystemExit(3)

    signal.signal(signal.SIGTERM, program)
    StopGuard(lambda signum, ends_now: None).install()
    with pytest.raises(SystemExit) as raised:
        signal.raise_signal(signal.SIGTERM)
    assert raised.value.code == 3


def test_ignored_signals_and_pythons_sigint_handler_are_left_alone(handlers: None) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    assert StopGuard(lambda signum, ends_now: None).install()
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_IGN
    # Twisted installs its SIGINT handler only while this one is in place.
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_installing_twice_wraps_once(handlers: None) -> None:
    calls: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, frame: None)
    guard = StopGuard(lambda signum, ends_now: calls.append(signum))
    guard.install()
    guard.install()
    signal.raise_signal(signal.SIGTERM)
    assert calls == [signal.SIGTERM]


def test_only_the_main_thread_can_install(handlers: None) -> None:
    program = signal.getsignal(signal.SIGTERM)
    results: list[bool] = []
    thread = threading.Thread(
        target=lambda: results.append(StopGuard(lambda s, e: None).install()))
    thread.start()
    thread.join()
    assert results == [False]
    assert signal.getsignal(signal.SIGTERM) == program


def test_the_default_action_still_ends_the_process_after_ours(tmp_path: Path) -> None:
    heard = tmp_path / "heard"
    script = textwrap.dedent(f"""
        import signal
        from reactortrace.launch.signals import StopGuard

        def on_stop(signum, ends_now):
            open({str(heard)!r}, "w").write(f"{{signum}} {{ends_now}}")

        StopGuard(on_stop).install((signal.SIGTERM,))
        signal.raise_signal(signal.SIGTERM)
        print("survived")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == -signal.SIGTERM, done
    assert "survived" not in done.stdout
    assert heard.read_text() == f"{int(signal.SIGTERM)} True"
