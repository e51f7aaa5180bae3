"""The trace file: JSON and JSON Lines round trips, streaming, and bad input."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from reactortrace.core.events import Event
from reactortrace.core.state import LoopState
from reactortrace.core.trace import Trace
from reactortrace.errors import TraceFileError
from reactortrace.formats import jsonfile, load
from reactortrace.formats.jsonfile import write_json
from reactortrace.formats.jsonl import JsonlWriter, write_jsonl

from ..core.builders import EventLog


def final_snapshot(log: EventLog):  # type: ignore[no-untyped-def]
    state = LoopState()
    state.feed(log.events)
    state.dropped = 2
    return state.snapshot()


# -- round trips -----------------------------------------------------------------


def test_json_round_trip(tmp_path: Path, sample_log: EventLog, meta: dict[str, Any]) -> None:
    path = tmp_path / "run.json"
    snapshot = final_snapshot(sample_log)
    write_json(Trace(meta, iter(sample_log.events), snapshot, dropped=2), path)
    trace = load(path)
    assert trace.events == sample_log.events
    assert trace.meta == meta
    assert trace.snapshot == snapshot
    assert (trace.dropped, trace.complete, trace.path) == (2, True, str(path))
    assert not (tmp_path / "run.json.tmp").exists()


def test_json_accepts_event_and_snapshot_objects(
    tmp_path: Path, sample_log: EventLog, meta: dict[str, Any]
) -> None:
    path = tmp_path / "run.json"
    snapshot = final_snapshot(sample_log)
    write_json(Trace(meta, sample_log.events, snapshot), path)
    trace = load(path)
    assert trace.events == sample_log.events and trace.snapshot == snapshot


def test_json_is_written_in_chunks(
    tmp_path: Path, meta: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jsonfile, "CHUNK_EVENTS", 3)
    pulled: list[int] = []

    def events() -> Iterator[dict[str, Any]]:
        for seq in range(10):
            pulled.append(seq)
            yield Event(seq, seq * 10, 1, "system", "x", {"phase": None}).to_dict()

    path = tmp_path / "run.json"
    write_json(Trace(meta, events(), None), path)
    assert [e.seq for e in load(path).events] == list(range(10)) == pulled
    assert orjson.loads(path.read_bytes())["snapshot"] is None


def test_json_failure_keeps_the_old_file(
    tmp_path: Path, meta: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jsonfile, "CHUNK_EVENTS", 2)
    path = tmp_path / "run.json"
    write_json(Trace(meta, [], None), path)
    before = path.read_bytes()

    def broken() -> Iterator[dict[str, Any]]:
        yield Event(0, 0, 0, "system", "x", {}).to_dict()
        yield Event(1, 0, 0, "system", "x", {}).to_dict()
        yield Event(2, 0, 0, "system", "x", {}).to_dict()
        raise RuntimeError("recorder broke")

    with pytest.raises(RuntimeError, match="recorder broke"):
        write_json(Trace(meta, broken(), None), path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["run.json"]


def test_json_unwritable_path_is_a_trace_file_error(tmp_path: Path, meta: dict[str, Any]) -> None:
    target = tmp_path / "no-such-dir" / "run.json"
    with pytest.raises(TraceFileError) as info:
        write_json(Trace(meta, [], None), target)
    assert str(target) in str(info.value) and "\n" not in str(info.value)


def test_values_json_does_not_know_are_written_as_text(
    tmp_path: Path, meta: dict[str, Any]
) -> None:
    path = tmp_path / "run.json"
    write_json(Trace({**meta, "options": {"output": tmp_path}}, [], None), path)
    assert load(path).meta["options"] == {"output": str(tmp_path)}


def test_jsonl_round_trip(tmp_path: Path, sample_log: EventLog, meta: dict[str, Any]) -> None:
    path = tmp_path / "run.jsonl"
    snapshot = final_snapshot(sample_log)
    with JsonlWriter(path, meta) as writer:
        writer.write_events(e.to_dict() for e in sample_log.events[:5])
        writer.write_events([])
        writer.write_events(sample_log.events[5:])  # Event objects work too
        writer.finish(snapshot, 9)
    lines = path.read_bytes().splitlines()
    assert orjson.loads(lines[0]) == {
        "format": "reactortrace",
        "version": 1,
        "type": "meta",
        "meta": meta,
    }
    assert orjson.loads(lines[1])["type"] == "event"
    assert orjson.loads(lines[-1]) == {"type": "end", "dropped": 9}
    trace = load(path)
    assert trace.events == sample_log.events
    assert (trace.meta, trace.snapshot, trace.dropped, trace.complete) == (meta, snapshot, 9, True)


def test_write_jsonl_at_once(tmp_path: Path, sample_log: EventLog, meta: dict[str, Any]) -> None:
    path = tmp_path / "run.jsonl"
    write_jsonl(Trace(meta, sample_log.events, None, dropped=1), path)
    trace = load(path)
    assert (trace.events, trace.snapshot, trace.dropped, trace.complete) == (
        sample_log.events,
        None,
        1,
        True,
    )


def test_format_is_told_by_content_not_by_name(
    tmp_path: Path, sample_log: EventLog, meta: dict[str, Any]
) -> None:
    as_lines = tmp_path / "really-jsonl.json"
    write_jsonl(Trace(meta, sample_log.events, None), as_lines)
    pretty = tmp_path / "indented.jsonl"
    document = {
        "format": "reactortrace",
        "version": 1,
        "meta": meta,
        "dropped": 0,
        "events": [e.to_dict() for e in sample_log.events],
        "snapshot": None,
    }
    pretty.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))
    assert load(as_lines).events == load(pretty).events == sample_log.events


def test_jsonl_without_end_line_is_incomplete(
    tmp_path: Path, sample_log: EventLog, meta: dict[str, Any]
) -> None:
    path = tmp_path / "run.jsonl"
    writer = JsonlWriter(path, meta)
    writer.write_events(sample_log.events)
    writer.close()
    trace = load(path)
    assert (trace.events, trace.complete) == (sample_log.events, False)


def test_jsonl_with_only_the_meta_line(tmp_path: Path, meta: dict[str, Any]) -> None:
    path = tmp_path / "run.jsonl"
    JsonlWriter(path, meta).close()
    trace = load(path)
    assert (trace.meta, trace.events, trace.complete) == (meta, [], False)


def test_jsonl_cut_mid_line_loads_the_complete_lines(
    tmp_path: Path, sample_log: EventLog, meta: dict[str, Any]
) -> None:
    path = tmp_path / "run.jsonl"
    write_jsonl(Trace(meta, sample_log.events, None), path)
    data = path.read_bytes()
    line_ends = [i for i, byte in enumerate(data) if byte == ord("\n")]
    for cut_line in (3, 8):  # cut in the middle of the 3rd and the 8th event line
        start, end = line_ends[cut_line - 1] + 1, line_ends[cut_line]
        path.write_bytes(data[: (start + end) // 2])
        trace = load(path)
        assert trace.complete is False
        assert trace.events == sample_log.events[: cut_line - 1]


def test_every_truncation_loads_or_fails_cleanly(
    tmp_path: Path, sample_log: EventLog, meta: dict[str, Any]
) -> None:
    whole_json = tmp_path / "whole.json"
    whole_lines = tmp_path / "whole.jsonl"
    write_json(Trace(meta, sample_log.events, final_snapshot(sample_log)), whole_json)
    write_jsonl(Trace(meta, sample_log.events, final_snapshot(sample_log)), whole_lines)
    cut = tmp_path / "cut"
    for source in (whole_json, whole_lines):
        data = source.read_bytes()
        for size in range(0, len(data) - 2, 37):
            cut.write_bytes(data[:size])
            try:
                trace = load(cut)
            except TraceFileError as exc:
                assert "\n" not in str(exc)
            else:
                assert source is whole_lines and not trace.complete
                assert trace.events == sample_log.events[: len(trace.events)]


KILLED_WRITER = """
import os, signal, sys
from reactortrace.core.events import Event
from reactortrace.formats.jsonl import JsonlWriter
writer = JsonlWriter(sys.argv[1], {"program": "x"})
for batch in range(3):
    events = [Event(batch * 100 + i, i, 1, "system", "x", {"phase": None}) for i in range(100)]
    writer.write_events(events)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_jsonl_lines_survive_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "killed.jsonl"
    result = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(path)], timeout=60)
    assert result.returncode == -9
    trace = load(path)
    assert [e.seq for e in trace.events] == list(range(300))
    assert trace.complete is False


# -- bad input -------------------------------------------------------------------


def document(**changes: Any) -> bytes:
    base: dict[str, Any] = {
        "format": "reactortrace",
        "version": 1,
        "meta": {"program": "x"},
        "dropped": 0,
        "events": [
            {
                "seq": 0,
                "ts": 0,
                "dur": 5,
                "kind": "system",
                "name": "startup",
                "args": {"phase": "before"},
            }
        ],
        "snapshot": None,
    }
    base.update(changes)
    return orjson.dumps({k: v for k, v in base.items() if v is not ...})


def event(**changes: Any) -> dict[str, Any]:
    base = {"seq": 0, "ts": 0, "dur": 5, "kind": "system", "name": "startup", "args": {}}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not ...}


def lines(*records: Any) -> bytes:
    head = {"format": "reactortrace", "version": 1, "type": "meta", "meta": {}}
    return b"".join(
        (r if isinstance(r, bytes) else orjson.dumps(r)) + b"\n" for r in (head, *records)
    )


BAD_FILES = {
    "empty": (b"", "empty"),
    "blank": (b"  \n\n ", "empty"),
    "text": (b"hello, I am not JSON\n", "not a JSON file"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00", "not a JSON file (not UTF-8 text)"),
    "json list": (b"[1, 2, 3]", "top level is a list"),
    "no format": (orjson.dumps({"version": 1, "events": []}), 'no "format"'),
    "other format": (document(format="perfetto"), "'perfetto'"),
    "chrome trace": (orjson.dumps({"traceEvents": []}), "Chrome trace"),
    "version 2": (document(version=2), "version 2 is not supported (supported: 1)"),
    "version string": (document(version="1"), "version '1' is not supported"),
    "no version": (document(version=...), 'no "version" (supported: 1)'),
    "truncated": (document()[:-30], "cut short"),
    "meta not object": (document(meta=[1]), '"meta": expected an object, got a list'),
    "no meta": (document(meta=...), "no 'meta' field"),
    "events not list": (document(events={"a": 1}), '"events": expected a list, got an object'),
    "dropped negative": (document(dropped=-1), '"dropped": expected an integer >= 0'),
    "event not object": (document(events=[event(), 7]), "event #1: expected an object, got an integer"),
    "event without ts": (document(events=[event(ts=...)]), "event #0: no 'ts' field"),
    "event without kind": (
        document(events=[event(), event(kind=...)]),
        "event #1: no 'kind' field",
    ),
    "ts is text": (
        document(events=[event(ts="0")]),
        'event #0: "ts": expected an integer, got a string',
    ),
    "seq is bool": (
        document(events=[event(seq=True)]),
        'event #0: "seq": expected an integer, got a boolean',
    ),
    "dur negative": (
        document(events=[event(dur=-3)]),
        '"dur": expected an integer >= 0',
    ),
    "ts is float": (document(events=[event(ts=1.5)]), '"ts": expected an integer, got a number'),
    "name is null": (document(events=[event(name=None)]), '"name": expected a string, got null'),
    "args is list": (document(events=[event(args=[1])]), '"args": expected an object or null, got a list'),
    "bad snapshot": (document(snapshot={"ts": "late"}), "malformed snapshot"),
    "snapshot field": (document(snapshot={"ts": 0, "timers": [{"x": 1}]}), "malformed snapshot"),
    "jsonl bad line": (
        lines({"type": "event", **event()}, b"{oops", {"type": "end", "dropped": 0}),
        "line 3: not valid JSON",
    ),
    "jsonl unknown type": (
        lines({"type": "event", **event()}, {"type": "bogus"}),
        "line 3: unknown line type 'bogus'",
    ),
    "jsonl line not object": (lines([1, 2]), "line 2: expected an object, got a list"),
    "jsonl bad event": (lines({"type": "event", **event(seq="x")}), 'line 2: "seq": expected an integer, got a string'),
    "jsonl after end": (
        lines({"type": "end", "dropped": 0}, {"type": "event", **event()}),
        "line 3: data after the end line",
    ),
    "jsonl bad dropped": (
        lines({"type": "end", "dropped": "many"}),
        'line 2: "dropped": expected an integer, got a string',
    ),
    "jsonl first line not meta": (
        orjson.dumps({"format": "reactortrace", "version": 1, "type": "event"}) + b"\n{}\n",
        "line 1 must be the meta line",
    ),
    "jsonl wrong version": (
        orjson.dumps({"format": "reactortrace", "version": 3, "type": "meta", "meta": {}})
        + b"\n{}\n",
        "version 3 is not supported",
    ),
}


@pytest.mark.parametrize("content, expected", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_bad_file_is_one_clear_line(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "bad.trace"
    path.write_bytes(content)
    with pytest.raises(TraceFileError) as info:
        load(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    assert expected in message
    assert "\n" not in message


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.json"
    with pytest.raises(TraceFileError, match=r"nope\.json: cannot read trace file: No such file"):
        load(path)


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(TraceFileError, match="cannot read trace file"):
        load(tmp_path)


def test_unknown_kinds_are_refused(tmp_path: Path) -> None:
    """A kind outside the schema is refused, naming it: nothing downstream guesses at it."""
    path = tmp_path / "future.json"
    path.write_bytes(document(events=[event(kind="gc.pause", args={"gen": 2})]))
    with pytest.raises(TraceFileError, match="event #0: unknown event kind 'gc.pause'"):
        load(path)
