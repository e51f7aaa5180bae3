"""Our locks across fork: taken before it, free in the child; one held too long is replaced."""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Callable

from reactortrace.core import forks


class Owner:
    def __init__(self) -> None:
        self._lock = threading.Lock()


def exit_code_of_child(body: Callable[[], bool]) -> int:
    pid = os.fork()
    if pid == 0:
        ok = False
        try:
            ok = body()
        finally:
            os._exit(0 if ok else 1)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def test_a_lock_held_briefly_by_a_thread_is_free_in_the_child() -> None:
    owner = Owner()
    forks.hold_across_fork(owner)
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        with owner._lock:
            taken.set()
            release.wait(0.3)  # let go a little after the fork began

    thread = threading.Thread(target=hold)
    thread.start()
    taken.wait(5)
    threading.Timer(0.1, release.set).start()
    assert exit_code_of_child(lambda: owner._lock.acquire(timeout=1)) == 0
    thread.join(5)
    assert owner._lock.acquire(timeout=1)  # and free in the parent


def test_a_lock_held_past_the_wait_is_replaced_in_the_child(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(forks, "LOCK_WAIT", 0.05)
    owner = Owner()
    forks.hold_across_fork(owner)
    held, done = threading.Event(), threading.Event()

    def hold() -> None:
        with owner._lock:
            held.set()
            done.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    held.wait(5)
    try:
        assert exit_code_of_child(lambda: owner._lock.acquire(timeout=1)) == 0
        assert owner._lock.locked()  # still the holder's in the parent
    finally:
        done.set()
        thread.join(5)


def test_in_child_runs_only_in_children_and_not_for_a_dead_owner() -> None:
    calls: list[int] = []

    class Thing:
        def forked(self) -> None:
            calls.append(os.getpid())

    alive, gone = Thing(), Thing()
    forks.in_child(alive.forked)
    forks.in_child(gone.forked)
    del gone
    parent = os.getpid()

    def child() -> bool:
        return calls == [os.getpid()]

    assert exit_code_of_child(child) == 0
    assert calls == [] and os.getpid() == parent


def test_a_child_forked_while_another_thread_pauses_the_collector_collects() -> None:
    from reactortrace.core.gcpause import gc_paused

    assert gc.isenabled()
    inside, leave = threading.Event(), threading.Event()

    def pause() -> None:
        with gc_paused():
            inside.set()
            leave.wait(10)

    thread = threading.Thread(target=pause)
    thread.start()
    inside.wait(5)
    try:
        assert not gc.isenabled()
        assert exit_code_of_child(gc.isenabled) == 0  # the program's setting, in the child
    finally:
        leave.set()
        thread.join(5)
    assert gc.isenabled()
