"""Reading without holding the whole file: a JSON trace split between events and
decoded in batches must accept, refuse and say exactly what decoding it whole does."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from reactortrace.core.events import Event
from reactortrace.core.replay import ReplayFeed
from reactortrace.core.trace import Trace
from reactortrace.errors import TraceFileError
from reactortrace.formats import load, reader, write
from reactortrace.formats.loading import BackgroundLoad
from reactortrace.formats.summary import summarize, summarize_file

from .hostile import as_json, base


def busy_trace(count: int = 3_000) -> Trace:
    """``count`` events of a few kinds, some with nested objects in their args."""
    events = []
    for seq in range(count):
        if seq % 7 == 0:
            events.append(Event(seq, seq * 1_000, 500, "slow", f"app.block{seq % 5}", {
                "site": "app.py:9", "blocked": 500,
                "stacks": [{"stack": ["app.py:1 a"], "samples": 2},
                           {"stack": ["app.py:2 b"], "samples": 1}]}))
        else:
            events.append(Event(seq, seq * 1_000, 200, "timer", f"app.tick{seq % 3}",
                                {"timer": seq, "site": "app.py:4", "delay": 10, "late": 0}))
    return Trace(meta={"program": "app.py", "argv": ["app.py"]}, events=events)


@pytest.fixture
def small_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """A few hundred bytes per read: every file is split into many batches."""
    monkeypatch.setattr(reader, "STREAM_BYTES", 700)


def scanned(path: Path) -> tuple[Trace, list[list[Event]]]:
    """The trace ``scan`` returns, and the events each call of its factory got."""
    runs: list[list[Event]] = []

    def start(meta: dict[str, Any]) -> Any:
        runs.append([])
        return runs[-1].extend

    return reader.scan(path, start), runs


def test_a_written_trace_is_streamed_in_batches(tmp_path: Path, small_reads: None) -> None:
    trace = busy_trace()
    path = tmp_path / "t.json"
    write(trace, path)
    calls: list[int] = []

    def start(meta: dict[str, Any]) -> Any:
        assert meta["program"] == "app.py"
        return lambda events: calls.append(len(events))

    tail = reader.scan(path, start)
    assert len(calls) > 100 and sum(calls) == len(trace.events)
    assert tail.events == [] and tail.complete
    assert load(path).events == trace.events


def test_other_layouts_are_decoded_whole(tmp_path: Path, small_reads: None) -> None:
    """Pretty-printed, keys in another order: the same trace, one run of the sink."""
    document = json.loads(as_json(base()))
    path = tmp_path / "pretty.json"
    path.write_text(json.dumps(dict(reversed(list(document.items()))), indent=2))
    compact = tmp_path / "compact.json"
    compact.write_bytes(as_json(document))
    tail, runs = scanned(path)
    assert len(runs) == 1 and runs[0] == load(compact).events
    assert tail.snapshot == load(compact).snapshot


def test_a_split_inside_an_event_falls_back_to_the_whole(
    tmp_path: Path, small_reads: None
) -> None:
    """An unknown key holding ``},{"seq":`` structurally: the batch cut there does
    not decode, so the file is read again whole, and the sink starts afresh."""
    document = json.loads(as_json(base()))
    document["events"][6]["args"]["extra"] = [{}, {"seq": 1, "pad": "x" * 800}]
    path = tmp_path / "nested.json"
    path.write_bytes(as_json(document))
    tail, runs = scanned(path)
    assert len(runs) == 2 and len(runs[1]) == len(document["events"])
    assert runs[1][: len(runs[0])] == runs[0]
    assert "extra" not in runs[1][6].args


@pytest.mark.parametrize("where", [1, 2_500])
def test_a_bad_event_is_named_as_when_read_whole(
    tmp_path: Path, where: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = json.loads(Path(_written(tmp_path)).read_bytes())
    document["events"][where]["ts"] = -5
    path = tmp_path / "bad.json"
    path.write_bytes(as_json(document))
    with pytest.raises(TraceFileError) as whole:
        load(path)
    monkeypatch.setattr(reader, "STREAM_BYTES", 700)
    with pytest.raises(TraceFileError) as streamed:
        load(path)
    assert str(streamed.value) == str(whole.value)
    assert f"event #{where}" in str(whole.value)


@pytest.mark.parametrize("tail", [
    b',"dropped":3}',  # a key after the events
    b'}\n{"x":1}',  # data after the document
    b',"snapshot":null}',  # the snapshot twice
])
def test_odd_tails_are_judged_whole(tmp_path: Path, small_reads: None, tail: bytes) -> None:
    data = Path(_written(tmp_path)).read_bytes().rstrip()
    path = tmp_path / "odd.json"
    path.write_bytes(data[:-1] + tail)
    try:
        whole: Any = reader._from_document(path.read_bytes(), str(path))
    except reader._Invalid as exc:
        with pytest.raises(TraceFileError, match=re.escape(str(exc)[:30])):
            load(path)
    else:
        loaded = load(path)
        assert (loaded.events, loaded.dropped) == (whole.events, whole.dropped)


def _written(tmp_path: Path) -> str:
    path = tmp_path / "written.json"
    write(busy_trace(), path)
    return str(path)


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
def test_summary_of_a_file_is_that_of_the_loaded_trace(
    tmp_path: Path, small_reads: None, suffix: str
) -> None:
    path = tmp_path / f"t{suffix}"
    write(busy_trace(), path)
    trace, summary = summarize_file(path)
    assert trace.events == [] and summary["trace"]["events"] == 3_000
    assert summary == summarize(load(path))


def test_background_load_hands_over_every_event(tmp_path: Path, small_reads: None) -> None:
    trace = busy_trace()
    path = tmp_path / "t.json"
    write(trace, path)
    loading = BackgroundLoad(path)
    opened = loading.opening()
    assert opened.meta["program"] == "app.py" and opened.events
    feed = ReplayFeed(opened, playing=False, loading=loading)
    deadline = time.monotonic() + 60
    while feed.loading and time.monotonic() < deadline:
        feed.poll()
        time.sleep(0.01)
    assert not feed.loading and loading.error is None
    assert opened.events == trace.events and opened.complete
    assert feed.duration == ReplayFeed(load(path), playing=False).duration
    feed.seek(feed.duration)
    assert feed.index == len(trace.events)


def test_background_load_keeps_a_late_problem(tmp_path: Path) -> None:
    """A JSON Lines trace broken after its first batch: the events before stay, the
    problem is kept to be said."""
    path = tmp_path / "t.jsonl"
    write(busy_trace(reader.LINES_BATCH + 10), path)
    lines = path.read_bytes().splitlines(keepends=True)
    lines[-5] = b'{"type":"event","seq":"x"}\n'
    path.write_bytes(b"".join(lines))
    loading = BackgroundLoad(path)
    opened = loading.opening()
    taken = len(opened.events)
    deadline = time.monotonic() + 60
    while not loading.done and time.monotonic() < deadline:
        taken += len(loading.take())  # as the viewer's polls do: reading goes on
        time.sleep(0.01)
    assert loading.error is not None and "line 10008" in str(loading.error)
    assert taken + len(loading.take()) == reader.LINES_BATCH


def test_background_load_of_a_broken_file_raises_at_once(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text('{"format":"reactortrace","version":1,"meta":{},"events":[{"seq":-1}]}')
    with pytest.raises(TraceFileError, match="event #0"):
        BackgroundLoad(path).opening()


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
def test_a_small_trace_is_whole_at_its_opening(tmp_path: Path, suffix: str) -> None:
    """One batch's worth: ``view`` knows before its screen opens whether it is complete."""
    path = tmp_path / f"t{suffix}"
    write(busy_trace(200), path)
    loading = BackgroundLoad(path)
    opened = loading.opening()
    assert loading.done and opened.complete and opened.events == busy_trace(200).events
