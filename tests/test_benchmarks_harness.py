"""The overhead benchmark harness runs end to end and reports a ratio.

Only a smoke run at a tiny scale: the speed claims come from the script
itself, not from the test suite.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

RUN = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"
VIEWER = RUN.parent / "viewer.py"


def test_harness_reports_a_ratio_row_for_one_workload() -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(RUN),
            "--only",
            "call_later_chain",
            "--scale",
            "0.01",
            "--repeat",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "untraced only" not in result.stdout, result.stdout
    lines = result.stdout.splitlines()
    rows = [line for line in lines if line.startswith("call_later_chain")]
    assert len(rows) == 1, result.stdout
    match = re.search(
        r"(\d+\.\d+)x\s+(\d+\.\d+)-(\d+\.\d+)\s+<= [\d.]+x\s+(ok|FAIL)$", rows[0]
    )
    assert match, rows[0]
    ratio, low, high = (float(match.group(k)) for k in (1, 2, 3))
    assert 0 < low - 0.01 <= ratio <= high + 0.01  # the median lies within the spread
    assert "tcp_echo" not in result.stdout  # --only ran one workload


def test_harness_rejects_an_unknown_workload() -> None:
    result = subprocess.run(
        [sys.executable, str(RUN), "--only", "no_such_workload"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "no_such_workload" in result.stderr


def test_whole_process_mode_reports_json_and_jsonl_ratios() -> None:
    result = subprocess.run(
        [sys.executable, str(RUN), "--process-only", "--scale", "0.01", "--repeat", "1"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line for line in result.stdout.splitlines()
            if line.split() and line.split()[0] in ("echo_clients", "call_later_chain",
                                                     "deferreds")}
    assert set(rows) == {"echo_clients", "call_later_chain", "deferreds"}, result.stdout
    for line in rows.values():
        # untraced seconds, then json and jsonl ratios, each with a spread
        match = re.search(r"\s(\d+\.\d+)\s+(\d+\.\d+)x\s+[\d.]+-[\d.]+\s+(\d+\.\d+)x\s", line)
        assert match, line
        assert all(float(match.group(k)) > 0 for k in (1, 2, 3))
    assert "failed" not in result.stdout


def test_readers_benchmark_reports_summary_and_first_screen() -> None:
    """``benchmarks/readers.py`` on a small trace: a row per summary run and format,
    and view's first screen found in a terminal (no figure is judged here)."""
    script = RUN.parent / "readers.py"
    result = subprocess.run(
        [sys.executable, str(script), "--events", "2000", "--repeat", "1"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    rows = [row.split() for row in result.stdout.splitlines()]
    for fmt in ("json", "jsonl"):
        summaries = [row for row in rows if row[0] == "summary" and fmt in row]
        assert [row[1] == "--json" for row in summaries] == [False, True], result.stdout
        (view,) = [row for row in rows if row[:3] == ["view:", "first", "screen"] and fmt in row]
        assert float(view[4]) > 0


def test_viewer_benchmark_reports_the_viewers_cost_for_each_program() -> None:
    result = subprocess.run(
        [sys.executable, str(VIEWER), "--rates", "100,2000", "--repeat", "1", "--seconds", "2"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()
            if line.split() and line.split()[0] in ("100", "2,000")]
    assert [row[0] for row in rows] == ["100", "2,000"], result.stdout
    for row in rows:
        # rate, ev/s shown, viewer CPU (median, spread), polls/s (median, spread),
        # redraws/s, ms/poll, program CPU in three setups, two ratios, drops
        assert len(row) == 14, row
        viewer_cpu, polls, redraws = float(row[2]), float(row[4]), float(row[6])
        assert 0 < viewer_cpu < 2 and polls > 0 and redraws > 0
        assert all(float(value) > 0 for value in row[8:13])
