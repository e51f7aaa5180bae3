"""``reactortrace doctor``: every part of the recording, checked on every reactor family."""

from __future__ import annotations

import json
from pathlib import Path

from reactortrace.cli.doctor import FAMILIES, verdict

from .conftest import reactortrace as run_cli

PARTS = {"timers", "io", "loop", "threads", "deferreds", "watchdog", "diagnosis",
         "deferred-view"}


def test_every_part_works_on_every_family_with_the_installed_twisted(tmp_path: Path) -> None:
    done = run_cli(["doctor", "--json"], cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads(done.stdout)
    assert [r["family"] for r in results] == list(FAMILIES)
    for result in results:
        assert set(result["parts"]) == PARTS
        for name, status in result["parts"].items():
            assert status["on"] and status["missing"] == [], (result["family"], name, status)


def test_a_part_off_or_silent_is_a_failure_said_in_words() -> None:
    assert verdict({"on": True, "why": None, "missing": []}) == (True, "ok")
    assert verdict({"on": False, "why": "NameError: delay", "missing": []}) == (
        False, "off: NameError: delay")
    assert verdict({"on": True, "why": None, "missing": ["slow"]}) == (False, "no slow records")
    ok, words = verdict({"on": True, "why": None, "missing": [], "notes": ["wrapped"]})
    assert ok and "wrapped" in words


def test_the_table_names_the_twisted_checked(tmp_path: Path) -> None:
    done = run_cli(["doctor", "--reactor", "epoll"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Twisted " in done.stdout and "Every part works." in done.stdout
