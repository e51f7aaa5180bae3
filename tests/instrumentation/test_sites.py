"""Whose code a frame is, and which traced programs are test runners."""

from __future__ import annotations

import os
import sysconfig

import twisted

import reactortrace
from reactortrace.instrumentation import sites
from reactortrace.instrumentation.tracer import _runs_tests


def test_user_code_is_neither_twisted_ours_the_stdlib_nor_a_library() -> None:
    assert sites.path_kind(__file__) == sites.USER
    assert sites.path_kind(twisted.__file__) == sites.INTERNAL
    assert sites.path_kind(reactortrace.__file__) == sites.INTERNAL
    assert sites.path_kind(os.__file__) == sites.INTERNAL
    library = os.path.join(sysconfig.get_paths()["purelib"], "somelib", "mod.py")
    assert sites.path_kind(library) == sites.LIBRARY
    demo = os.path.join(os.path.dirname(reactortrace.__file__), "demo", "program.py")
    assert sites.path_kind(demo) == sites.USER  # the demo is a user program


def test_trial_is_a_test_runner_a_program_is_not() -> None:
    assert _runs_tests(None, ["/venv/bin/trial", "mypkg.test"])
    assert _runs_tests(None, ["/usr/lib/python3/site-packages/twisted/trial/__main__.py"])
    assert _runs_tests("trial", None)
    assert not _runs_tests(None, ["/srv/app/server.py"])
    assert not _runs_tests("twistd", ["twistd", "-n", "web"])
