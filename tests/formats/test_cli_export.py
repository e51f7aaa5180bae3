"""``reactortrace export`` between all formats, round trips, cut-short and broken input."""

from __future__ import annotations

from pathlib import Path

import pytest

import reactortrace
from reactortrace import cli
from reactortrace.cli import main
from reactortrace.core.trace import Trace

from . import chrome_checker
from .conftest import Recorded


def export(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    """Run ``reactortrace export ARGS``: exit status and the lines it wrote on stderr."""
    status = main(["export", *map(str, args)])
    return status, capsys.readouterr().err.splitlines()


def same_trace(a: Trace, b: Trace) -> bool:
    return (a.meta, a.events, a.snapshot, a.dropped) == (b.meta, b.events, b.snapshot, b.dropped)


@pytest.fixture
def real(recordings: dict[str, Recorded]) -> Recorded:
    return recordings["epoll"]


def test_json_to_jsonl_and_back_loses_nothing(
    real: Recorded, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines, back = tmp_path / "t.jsonl", tmp_path / "back.json"
    assert export(capsys, real.json_path, "-o", lines) == (0, [])
    assert export(capsys, lines, "-o", back) == (0, [])
    original, streamed, again = (reactortrace.load(str(p)) for p in (real.json_path, lines, back))
    assert original.snapshot is not None and original.events
    assert same_trace(original, streamed) and same_trace(original, again)
    assert streamed.complete and again.complete
    assert back.read_bytes() == real.json_path.read_bytes()


def test_every_format_converts_to_chrome_alike(
    real: Recorded, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = tmp_path / "t.jsonl"
    export(capsys, real.json_path, "-o", lines, "--format", "jsonl")
    outputs = []
    for source, target in ((real.json_path, "a.chrome.json"), (lines, "b.out")):
        out = tmp_path / target
        assert export(capsys, source, "-o", out, "--format", "chrome") == (0, [])
        outputs.append(chrome_checker.load(out))
    assert outputs[0]["traceEvents"] == outputs[1]["traceEvents"] == real.chrome["traceEvents"]


def cut_in_a_line(source: Path, target: Path, line: int) -> int:
    """Copy ``source`` up to the middle of line ``line`` (1-based); return its length."""
    data = source.read_bytes()
    starts = [0] + [i + 1 for i, byte in enumerate(data) if byte == ord("\n")]
    begin, end = starts[line - 1], starts[line] - 1
    target.write_bytes(data[: (begin + end) // 2])
    return end - begin


def test_a_jsonl_trace_cut_in_a_line_loads_up_to_the_last_whole_event(
    real: Recorded, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines, cut = tmp_path / "t.jsonl", tmp_path / "cut.jsonl"
    export(capsys, real.json_path, "-o", lines)
    keep = len(real.trace.events) // 2
    assert cut_in_a_line(lines, cut, keep + 2) > 10  # meta line, `keep` events, half of one
    trace = reactortrace.load(str(cut))
    assert not trace.complete and trace.snapshot is None
    assert trace.events == real.trace.events[:keep]
    for target in ("cut.json", "cut.chrome.json", "cut2.jsonl"):
        status, err = export(capsys, cut, "-o", tmp_path / target)
        assert status == 0 and len(err) == 1 and "cut short" in err[0] and str(cut) in err[0]
    assert reactortrace.load(str(tmp_path / "cut.json")).events == trace.events
    chrome_checker.check(chrome_checker.load(tmp_path / "cut.chrome.json"))
    # summary and view say so too (view then refuses: this is no terminal)
    assert cli.main(["summary", str(cut)]) == 0
    assert cli.main(["view", str(cut)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert [line for line in err if "cut short" in line and str(cut) in line][:2] == err[:2]


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"", "empty"),
        (b"\x00\x01garbage", "not a JSON file"),
        (b'{"traceEvents": []}', "Chrome trace"),
        (b'{"format": "reactortrace", "version": 99, "meta": {}, "events": []}', "version"),
        (b'{"format": "reactortrace", "version": 1, "meta": {}, "events": [{"seq": 1}]}', "event"),
    ],
)
def test_broken_input_is_one_line_on_stderr_and_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, says: str
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_bytes(content)
    out = tmp_path / "out.json"
    status, err = export(capsys, broken, "-o", out)
    assert status == 2 and len(err) == 1, err
    assert err[0].startswith("reactortrace: error:") and says in err[0]
    assert not out.exists()


@pytest.mark.parametrize(
    "args",
    [
        ["missing.json", "-o", "out.json"],
        ["trace.json", "-o", "no/such/dir/out.json"],
        ["trace.json", "-o", "out.json", "--format", "svg"],
        ["trace.json"],
    ],
)
def test_usage_errors_are_one_line_and_status_2(
    real: Recorded,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "trace.json").write_bytes(real.json_path.read_bytes())
    status, err = export(capsys, *args)
    assert status == 2 and len(err) == 1 and err[0].startswith("reactortrace: error:"), err
